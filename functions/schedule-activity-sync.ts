import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { ActivityDeps } from '../shared/activities/activity-deps.js';
import { type StartedCycle, startActivityCycle } from '../shared/activities/start-activity-cycle.js';
import { type VerifyReport, verifyForRun } from '../shared/activities/verify-tasks.js';
import { createLogger } from '../shared/observability/logger.js';
import { activityDepsFromEnv, once } from '../shared/runtime/activity-runtime.js';

/**
 * EventBridge Scheduler → one activity cycle: claim each stream, enqueue the first page of each
 * window. With settings activities.verify.nightly, then a read-only verify of the last days
 * (counts into the run report); the cycle is already under way and a failed verify only logs.
 */
export const createScheduleActivitySync =
  (deps: ActivityDeps, options: { takeOverAfterMs?: number } = {}) =>
  async (): Promise<StartedCycle & { verify?: VerifyReport['counts'] }> => {
    const m = deps.marketo.callCounts().total;
    const s = deps.salesforce.callCounts().total;
    const cycle = await startActivityCycle(deps, options);
    const verify = deps.settings.activities.verify.nightly
      ? await verifyForRun(deps, cycle.runId)
      : undefined;
    await deps.runs.add('activities', cycle.runId, {
      'calls.marketo': deps.marketo.callCounts().total - m,
      'calls.salesforce': deps.salesforce.callCounts().total - s,
    });
    return verify ? { ...cycle, verify: verify.counts } : cycle;
  };

const logger = createLogger('schedule-activity-sync');
const deps = once(async () => (await activityDepsFromEnv(logger)).deps);

export const handler = middy()
  .use(injectLambdaContext(logger))
  .handler(async () => createScheduleActivitySync(await deps())());
