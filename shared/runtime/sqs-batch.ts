import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

/** An error that says when to try again (vendor quota reset, API limit window). */
export interface DeferrableError extends Error {
  /** Epoch ms after which the work may resume. */
  readonly resumeAtMs: number;
}

export function isDeferrable(err: unknown): err is DeferrableError {
  return err instanceof Error && typeof (err as Partial<DeferrableError>).resumeAtMs === 'number';
}

/** Hides a message until `resumeAtMs` instead of burning receives (and landing in the DLQ) while a vendor is out of budget. */
export interface VisibilityDeferrer {
  defer(record: SQSRecord, resumeAtMs: number): Promise<void>;
}

/**
 * The SQS consumer shape shared by every queue handler: each record handled on its own
 * (Powertools BatchProcessor) and failures reported per record (ReportBatchItemFailures), so one
 * bad message never makes SQS redeliver its neighbours.
 */
export function sqsBatchHandler(
  recordHandler: (record: SQSRecord) => Promise<unknown>,
  options: { logger: Logger; deferrer?: VisibilityDeferrer },
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const processor = new BatchProcessor(EventType.SQS);
  const guarded = async (record: SQSRecord) => {
    try {
      return await recordHandler(record);
    } catch (err) {
      const attempts = Number(record.attributes.ApproximateReceiveCount ?? '1');
      if (isDeferrable(err) && options.deferrer) {
        await options.deferrer.defer(record, err.resumeAtMs).catch((cause: unknown) => {
          options.logger.warn('Could not defer the message; SQS retries it after its visibility timeout', {
            cause,
          });
        });
      }
      options.logger.warn('Message failed; SQS will retry it', {
        messageId: record.messageId,
        attempts,
        error: err instanceof Error ? { name: err.name, message: err.message } : String(err),
      });
      throw err;
    }
  };
  return (event, context) =>
    processPartialResponse(event, guarded, processor, { context, throwOnFullBatchFailure: false });
}
