import { activityRuntimeFor } from '../shared/runtime/activity-composition.js';
import { fetchActivityPageConsumer } from '../shared/runtime/activity-handlers.js';
import { sqsFunction } from '../shared/runtime/function-builder.js';
import { marketoClientFor } from '../shared/runtime/marketo-vendor.js';

/**
 * SQS fetch queue → one activity page per message, handed to the write queue, chain checkpointed.
 * Marketo only (the only secret it is granted): jsforce stays out of its bundle.
 */
export const handler = sqsFunction(
  'fetch-activity-page',
  { queue: 'fetch', runtime: activityRuntimeFor({ marketo: marketoClientFor }) },
  fetchActivityPageConsumer,
);
