import { scheduleActivitySync } from '../shared/runtime/activity-handlers.js';
import { activityRuntime } from '../shared/runtime/activity-runtime.js';
import { scheduledFunction } from '../shared/runtime/function-builder.js';

/** EventBridge Scheduler → one activity cycle (and, by settings, the nightly verify), named by its scheduled time. */
export const handler = scheduledFunction('schedule-activity-sync', activityRuntime, scheduleActivitySync);
