import { scheduledFunction } from '../shared/runtime/function-builder.js';
import { reconcileOptOutsJob } from '../shared/runtime/opt-out-handlers.js';
import { optOutRuntime } from '../shared/runtime/opt-out-runtime.js';

/** Nightly (EventBridge Scheduler, 20:00 America/Los_Angeles): both directions, one consent-drift report. */
export const handler = scheduledFunction('reconcile-optouts', optOutRuntime, reconcileOptOutsJob);
