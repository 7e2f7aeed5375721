import { flushStagedTasksConsumer } from '../shared/runtime/activity-handlers.js';
import { activityRuntime } from '../shared/runtime/activity-runtime.js';
import { sqsFunction } from '../shared/runtime/function-builder.js';

/** SQS flush queue → staged Tasks written by Bulk API 2.0; one flush per batch of signals. */
export const handler = sqsFunction(
  'flush-staged-tasks',
  { queue: 'flush', runtime: activityRuntime },
  flushStagedTasksConsumer,
);
