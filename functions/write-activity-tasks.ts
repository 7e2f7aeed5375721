import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { ActivityDeps } from '../shared/activities/activity-deps.js';
import { type WriteResult, writeActivityBatch } from '../shared/activities/write-activity-tasks.js';
import { queueUrlFromArn, SqsVisibilityDeferrer } from '../shared/adapters/sqs/sqs-visibility-deferrer.js';
import { createLogger } from '../shared/observability/logger.js';
import type { VisibilityDeferrer } from '../shared/ports/visibility-deferrer.js';
import { activityDepsFromEnv, once } from '../shared/runtime/activity-runtime.js';
import { withCallAccounting } from '../shared/runtime/call-accounting.js';
import { type FailureRecorder, failureRecorderFor } from '../shared/runtime/failure-recorder.js';
import { sqsBatchHandler } from '../shared/runtime/sqs-batch.js';

/**
 * SQS write queue → Tasks. The whole batch is written at once (full 200-record collections, or
 * staged for Bulk API 2.0); each record then reports its own message's result through the one
 * consumer wrapper (partial batch failures, deferral on exhausted budgets, failure records).
 */
export const createWriteActivityTasks = (
  deps: ActivityDeps,
  deferrer?: VisibilityDeferrer,
  failureRecorder?: FailureRecorder,
) => {
  const options = {
    logger: deps.logger,
    ...(deferrer ? { deferrer } : {}),
    ...(failureRecorder ? { failures: { queue: 'write' as const, recorder: failureRecorder } } : {}),
  };
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const results = await writeActivityBatch(deps, event.Records).catch(
      (error: unknown) =>
        new Map<string, WriteResult>(event.Records.map((r) => [r.messageId, { ok: false, error }])),
    );
    return sqsBatchHandler(async (record) => {
      const result = results.get(record.messageId);
      if (!result) throw new Error(`The write step returned no result for message ${record.messageId}`);
      if (!result.ok) throw result.error;
      return result.outcome;
    }, options)(event, context);
  };
};

const logger = createLogger('write-activity-tasks');
const built = once(async () => {
  const { deps, platform } = await activityDepsFromEnv(logger);
  return withCallAccounting(
    deps,
    createWriteActivityTasks(
      deps,
      new SqsVisibilityDeferrer(platform.sqs, queueUrlFromArn),
      failureRecorderFor(platform.doc, platform.tables),
    ),
  );
});

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger))
  .handler(async (event, context) => (await built())(event, context));
