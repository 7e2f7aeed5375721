import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { MarketoDailyQuotaError, MarketoParkedError } from '../adapters/marketo/errors.js';
import { SalesforceApiLimitError } from '../adapters/salesforce/errors.js';

/** Salesforce sends no Retry-After with REQUEST_LIMIT_EXCEEDED: look again after this long. */
export const SALESFORCE_LIMIT_PAUSE_MS = 3600_000;

/**
 * When a failure means "the vendor's budget is spent", the time the work may resume (epoch ms);
 * undefined for every other failure. The one place that knows which errors pause work.
 */
export function resumeAtFor(err: unknown, now = Date.now()): number | undefined {
  if (err instanceof MarketoDailyQuotaError) return err.resetAt.getTime();
  if (err instanceof MarketoParkedError) return err.until.getTime();
  if (err instanceof SalesforceApiLimitError) return now + SALESFORCE_LIMIT_PAUSE_MS;
  return undefined;
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
      const resumeAt = resumeAtFor(err);
      if (resumeAt !== undefined && options.deferrer) {
        await options.deferrer.defer(record, resumeAt).catch((cause: unknown) => {
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
