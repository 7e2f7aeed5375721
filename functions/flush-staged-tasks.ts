import { activityRuntimeFor } from '../shared/runtime/activity-composition.js';
import { flushStagedTasksConsumer } from '../shared/runtime/activity-handlers.js';
import { sqsFunction } from '../shared/runtime/function-builder.js';
import { salesforceClientFor } from '../shared/runtime/salesforce-vendor.js';

/**
 * SQS flush queue → staged Tasks written by Bulk API 2.0; one flush per batch of signals.
 * Salesforce only (the only secret it is granted): the Marketo client stays out of its bundle.
 */
export const handler = sqsFunction(
  'flush-staged-tasks',
  { queue: 'flush', runtime: activityRuntimeFor({ salesforce: salesforceClientFor }) },
  flushStagedTasksConsumer,
);
