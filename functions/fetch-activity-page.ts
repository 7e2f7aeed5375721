import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { ActivityDeps } from '../shared/activities/activity-deps.js';
import { fetchActivityPage } from '../shared/activities/fetch-activity-page.js';
import { fetchMessageSchema, parseMessage } from '../shared/activities/messages.js';
import { queueUrlFromArn, SqsVisibilityDeferrer } from '../shared/adapters/sqs/sqs-visibility-deferrer.js';
import { createLogger } from '../shared/observability/logger.js';
import type { VisibilityDeferrer } from '../shared/ports/visibility-deferrer.js';
import { activityDepsFromEnv, once } from '../shared/runtime/activity-runtime.js';
import { withCallAccounting } from '../shared/runtime/call-accounting.js';
import { type FailureRecorder, failureRecorderFor } from '../shared/runtime/failure-recorder.js';
import { sqsBatchHandler } from '../shared/runtime/sqs-batch.js';

/** SQS fetch queue → one activity page per message, handed to the write queue, chain checkpointed. */
export const createFetchActivityPage = (
  deps: ActivityDeps,
  deferrer?: VisibilityDeferrer,
  failureRecorder?: FailureRecorder,
) =>
  sqsBatchHandler(
    (record) => fetchActivityPage(deps, parseMessage(fetchMessageSchema, 'fetch', record.body)),
    {
      logger: deps.logger,
      ...(deferrer ? { deferrer } : {}),
      ...(failureRecorder ? { failures: { queue: 'fetch', recorder: failureRecorder } } : {}),
    },
  );

const logger = createLogger('fetch-activity-page');
const built = once(async () => {
  const { deps, platform } = await activityDepsFromEnv(logger);
  return withCallAccounting(
    deps,
    createFetchActivityPage(
      deps,
      new SqsVisibilityDeferrer(platform.sqs, queueUrlFromArn),
      failureRecorderFor(platform.doc, platform.tables),
    ),
  );
});

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger))
  .handler(async (event, context) => (await built())(event, context));
