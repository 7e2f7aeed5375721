import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { ActivityDeps } from '../shared/activities/activity-deps.js';
import { type StartedCycle, startActivityCycle } from '../shared/activities/start-activity-cycle.js';
import { createLogger } from '../shared/observability/logger.js';
import { activityDepsFromEnv, once } from '../shared/runtime/activity-runtime.js';

/** EventBridge Scheduler → one activity cycle: claim each stream, enqueue the first page of each window. */
export const createScheduleActivitySync =
  (deps: ActivityDeps, options: { takeOverAfterMs?: number } = {}) =>
  async (): Promise<StartedCycle> => {
    const m = deps.marketo.callCounts().total;
    const cycle = await startActivityCycle(deps, options);
    await deps.runs.add('activities', cycle.runId, { 'calls.marketo': deps.marketo.callCounts().total - m });
    return cycle;
  };

const logger = createLogger('schedule-activity-sync');
const deps = once(async () => (await activityDepsFromEnv(logger)).deps);

export const handler = middy()
  .use(injectLambdaContext(logger))
  .handler(async () => createScheduleActivitySync(await deps())());
