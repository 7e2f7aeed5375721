import { createHash } from 'node:crypto';
import type { TaskRecord } from './salesforce-records.js';

/** One mapped Task waiting for a Bulk API 2.0 job, with what the ledger needs once it is written. */
export interface StagedRow {
  marketoGUID: string;
  runId: string;
  whoId: string;
  leadId: number;
  activityTypeName: string;
  activityDate: string;
  /** false: no done ledger entry once written (see TaskRef.recordDone). */
  recordDone?: boolean;
  task: TaskRecord;
  /** Flushes that already tried this row and hit a transient failure. */
  attempts: number;
}

/** Deterministic staging key for a set of rows (same rows → same key, so a redelivery overwrites its own item). */
export function stagedItemKey(runId: string, guids: readonly string[]): string {
  const hash = createHash('sha256')
    .update([...guids].sort().join('\n'))
    .digest('base64url')
    .slice(0, 22);
  return `${runId}#${hash}`;
}
