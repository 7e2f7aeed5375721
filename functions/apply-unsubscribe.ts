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
    failures: { queue: 'unsubscribe', recorder: failureRecorderFromEnv() },
  },
);
