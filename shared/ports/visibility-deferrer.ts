import type { SQSRecord } from 'aws-lambda';

/** Hides a message until `resumeAtMs` instead of burning receives (and landing in the DLQ) while a vendor is out of budget. */
export interface VisibilityDeferrer {
  defer(record: SQSRecord, resumeAtMs: number): Promise<void>;
}
