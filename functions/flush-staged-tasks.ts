import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { type FlushDeps, flushOnSignal } from '../shared/activities/bulk-flush.js';
import { flushMessageSchema, parseMessage } from '../shared/activities/messages.js';
import { queueUrlFromArn, SqsVisibilityDeferrer } from '../shared/adapters/sqs/sqs-visibility-deferrer.js';
import { createLogger } from '../shared/observability/logger.js';
import type { VisibilityDeferrer } from '../shared/ports/visibility-deferrer.js';
import { activityDepsFromEnv, once } from '../shared/runtime/activity-runtime.js';
import { withCallAccounting } from '../shared/runtime/call-accounting.js';
import { type FailureRecorder, failureRecorderFor } from '../shared/runtime/failure-recorder.js';
import { sqsBatchHandler } from '../shared/runtime/sqs-batch.js';

/**
 * SQS flush queue → staged Tasks written by Bulk API 2.0 (or collections below the threshold).
 * Signals are interchangeable: however many a batch holds, it runs one flush, and every signal
 * shares its result.
 */
export const createFlushStagedTasks = (
  deps: FlushDeps,
  deferrer?: VisibilityDeferrer,
  failureRecorder?: FailureRecorder,
) => {
  const options = {
    logger: deps.logger,
    ...(deferrer ? { deferrer } : {}),
    ...(failureRecorder ? { failures: { queue: 'flush' as const, recorder: failureRecorder } } : {}),
  };
  return (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    let flush: ReturnType<typeof flushOnSignal> | undefined;
    return sqsBatchHandler(async (record) => {
      const msg = parseMessage(flushMessageSchema, 'flush', record.body);
      flush ??= flushOnSignal(deps, msg);
      return flush;
    }, options)(event, context);
  };
};

const logger = createLogger('flush-staged-tasks');
const built = once(async () => {
  const { deps, platform } = await activityDepsFromEnv(logger);
  return withCallAccounting(
    deps,
    createFlushStagedTasks(
      deps,
      new SqsVisibilityDeferrer(platform.sqs, queueUrlFromArn),
      failureRecorderFor(platform.doc, platform.tables),
    ),
  );
});

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger))
  .handler(async (event, context) => (await built())(event, context));
