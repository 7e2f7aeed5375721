import { scheduledFunction } from '../shared/runtime/function-builder.js';
import { jobHostRuntime } from '../shared/runtime/job-run.js';
import { salesActivityJob } from '../shared/runtime/sales-activity-runtime.js';

/**
 * EventBridge Scheduler (settings salesActivities.schedule, job `tasks`; every 15 minutes, job
 * `tasks-continue`, only while a back-fill is open) → one job-4a run: closed Tasks / ended Events →
 * Marketo custom activities.
 */
export const handler = scheduledFunction(
  'sync-sales-activity',
  jobHostRuntime('salesActivity'),
  salesActivityJob,
);
