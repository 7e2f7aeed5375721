import { fetchActivityPageConsumer } from '../shared/runtime/activity-handlers.js';
import { activityRuntime } from '../shared/runtime/activity-runtime.js';
import { sqsFunction } from '../shared/runtime/function-builder.js';

/** SQS fetch queue → one activity page per message, handed to the write queue, chain checkpointed. */
export const handler = sqsFunction(
  'fetch-activity-page',
  { queue: 'fetch', runtime: activityRuntime },
  fetchActivityPageConsumer,
);
