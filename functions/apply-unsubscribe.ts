import { SQSClient } from '@aws-sdk/client-sqs';
import { queueUrlFromArn, SqsVisibilityDeferrer } from '../shared/adapters/sqs/sqs-visibility-deferrer.js';
import { applyUnsubscribe, parseUnsubscribeMessage } from '../shared/optouts/apply-unsubscribe.js';
import { optOutDepsFromEnv } from '../shared/optouts/opt-out-runtime.js';
import { failureRecorderFromEnv } from '../shared/runtime/failure-recorder.js';
import { sqsBatchHandler } from '../shared/runtime/sqs-batch.js';

/** SQS consumer of accepted webhook unsubscribes; failed records are reported per record (partial batch). */
const deps = optOutDepsFromEnv('apply-unsubscribe');

export const handler = sqsBatchHandler(
  (record) => applyUnsubscribe(deps, parseUnsubscribeMessage(record.body)),
  {
    logger: deps.logger,
    // Salesforce REQUEST_LIMIT_EXCEEDED / Marketo 607: park the message until the budget is back,
    // instead of spending its 8 receives in minutes and dead-lettering an accepted unsubscribe.
    deferrer: new SqsVisibilityDeferrer(new SQSClient({}), queueUrlFromArn),
    failures: { queue: 'unsubscribe', recorder: failureRecorderFromEnv() },
  },
);
