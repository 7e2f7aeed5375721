import { sqsFunction } from '../shared/runtime/function-builder.js';
import { applyUnsubscribeConsumer } from '../shared/runtime/opt-out-handlers.js';
import { optOutRuntime } from '../shared/runtime/opt-out-runtime.js';

/**
 * SQS consumer of accepted webhook unsubscribes. Salesforce REQUEST_LIMIT_EXCEEDED / Marketo 607
 * park the message until the budget is back, instead of dead-lettering an accepted unsubscribe.
 */
export const handler = sqsFunction(
  'apply-unsubscribe',
  { queue: 'unsubscribe', runtime: optOutRuntime },
  applyUnsubscribeConsumer,
);
