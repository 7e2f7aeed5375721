import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { ActivityDeps } from '../shared/activities/activity-deps.js';
import { parseMessage, writeMessageSchema } from '../shared/activities/messages.js';
import { writeActivityTasks } from '../shared/activities/write-activity-tasks.js';
import { queueUrlFromArn, SqsVisibilityDeferrer } from '../shared/adapters/sqs/sqs-visibility-deferrer.js';
import { createLogger } from '../shared/observability/logger.js';
import { activityDepsFromEnv, once } from '../shared/runtime/activity-runtime.js';
import { withCallAccounting } from '../shared/runtime/call-accounting.js';
import { type FailureRecorder, failureRecorderFor } from '../shared/runtime/failure-recorder.js';
import { sqsBatchHandler, type VisibilityDeferrer } from '../shared/runtime/sqs-batch.js';

/** SQS write queue → Tasks upserted per message (partial batch failures; permanent refusals recorded, not retried). */
export const createWriteActivityTasks = (
  deps: ActivityDeps,
  deferrer?: VisibilityDeferrer,
  failureRecorder?: FailureRecorder,
) =>
  sqsBatchHandler(
    (record) => writeActivityTasks(deps, parseMessage(writeMessageSchema, 'write', record.body)),
    {
      logger: deps.logger,
      ...(deferrer ? { deferrer } : {}),
      ...(failureRecorder ? { failures: { queue: 'write', recorder: failureRecorder } } : {}),
    },
  );

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
