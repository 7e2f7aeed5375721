import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { QueueKey } from '../adapters/sqs/queue-definitions.js';
import { type MetricsSink, noMetrics } from '../observability/metrics.js';
import { resumeAtFor } from '../ports/resume-at.js';
import type { VisibilityDeferrer } from '../ports/visibility-deferrer.js';
import type { FailureRecorder } from './failure-recorder.js';

/** Longest a failure recorder may hold up a failed record before it is given up on. */
export const RECORD_FAILURE_TIMEOUT_MS = 3_000;

export interface SqsBatchHandlerOptions {
  logger: Logger;
  deferrer?: VisibilityDeferrer;
  /** Keeps why each failed message failed, by (queue, MessageId), for `sync dlq`. Best effort. */
  failures?: { queue: QueueKey; recorder: FailureRecorder };
  /** Where the consumer's metrics go (the function's; none outside Lambda). */
  metrics?: MetricsSink;
}

/**
 * The SQS consumer shape shared by every queue handler: each record handled on its own
 * (Powertools BatchProcessor) and failures reported per record (ReportBatchItemFailures), so one
 * bad message never makes SQS redeliver its neighbours.
 */
export function sqsBatchHandler(
  recordHandler: (record: SQSRecord) => Promise<unknown>,
  options: SqsBatchHandlerOptions,
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
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
      if (options.failures) await recordFailure(options.failures, record, err, options.logger);
      options.logger.warn('Message failed; SQS will retry it', {
        messageId: record.messageId,
        attempts,
        error: err instanceof Error ? { name: err.name, message: err.message } : String(err),
      });
      throw err;
    }
  };
  // A processor per invocation: outside Lambda (the embedded event source runs several pollers
  // over one handler) a shared processor mixes the failures of concurrent batches, and a failed
  // message missing from its batch's response would be deleted.
  return (event, context) =>
    processPartialResponse(event, guarded, new BatchProcessor(EventType.SQS), {
      context,
      throwOnFullBatchFailure: false,
    });
}

/** What a consumer does with one record; a throw fails that record alone. */
export type RecordHandler = (record: SQSRecord) => Promise<unknown>;

/**
 * An SQS consumer: given its dependencies and one batch, the handler of each record. Batch-wide
 * work (write the whole batch at once, one flush for every signal) happens here, once per batch;
 * if it throws, every record of the batch fails with that error.
 */
export type SqsConsumer<D> = (
  deps: D,
  records: readonly SQSRecord[],
  metrics: MetricsSink,
) => RecordHandler | Promise<RecordHandler>;

/** The batch handler of `consumer` over `deps`: partial batch failures, deferral, failure records. */
export function sqsConsumerHandler<D>(
  consumer: SqsConsumer<D>,
  deps: D,
  options: SqsBatchHandlerOptions,
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  return async (event, context) => {
    const handle = await Promise.resolve()
      .then(() => consumer(deps, event.Records, options.metrics ?? noMetrics))
      .catch(
        (error: unknown): RecordHandler =>
          () =>
            Promise.reject(error),
      );
    return sqsBatchHandler(handle, options)(event, context);
  };
}

/**
 * A consumer's batch handler outside Lambda (the CLI's local event source, tests): the same
 * consumer and per-record handling as its function, without the function's middleware.
 */
export function sqsConsumerFor<D extends { logger: Logger }>(consumer: SqsConsumer<D>, queue: QueueKey) {
  return (
    deps: D,
    deferrer?: VisibilityDeferrer,
    failureRecorder?: FailureRecorder,
  ): ((event: SQSEvent, context: Context) => Promise<SQSBatchResponse>) =>
    sqsConsumerHandler(consumer, deps, {
      logger: deps.logger,
      ...(deferrer ? { deferrer } : {}),
      ...(failureRecorder ? { failures: { queue, recorder: failureRecorder } } : {}),
    });
}

/** Records the failure, bounded in time; any problem is logged and the record fails exactly as before. */
async function recordFailure(
  failures: NonNullable<SqsBatchHandlerOptions['failures']>,
  record: SQSRecord,
  err: unknown,
  logger: Logger,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      failures.recorder.record(failures.queue, record, err),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`failure recorder took over ${RECORD_FAILURE_TIMEOUT_MS} ms`)),
          RECORD_FAILURE_TIMEOUT_MS,
        );
        timer.unref?.();
      }),
    ]);
  } catch (cause) {
    logger.warn('Could not record why the message failed; it is retried as usual', {
      messageId: record.messageId,
      queue: failures.queue,
      cause: cause instanceof Error ? { name: cause.name, message: cause.message } : String(cause),
    });
  } finally {
    clearTimeout(timer);
  }
}
