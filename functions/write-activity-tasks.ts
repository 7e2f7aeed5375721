import { writeActivityTasksConsumer } from '../shared/runtime/activity-handlers.js';
import { activityRuntime } from '../shared/runtime/activity-runtime.js';
import { sqsFunction } from '../shared/runtime/function-builder.js';

/**
 * SQS write queue → Tasks. The whole batch is written at once (full 200-record collections, or
 * staged for Bulk API 2.0); each record then reports its own message's result.
 */
export const handler = sqsFunction(
  'write-activity-tasks',
  { queue: 'write', runtime: activityRuntime },
  writeActivityTasksConsumer,
);
