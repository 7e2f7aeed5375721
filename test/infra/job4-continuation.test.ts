import { describe, expect, it } from 'vitest';
import {
  CAMPAIGNS_CONTINUATION_JOB,
  SALES_ACTIVITY_CONTINUATION_JOB,
} from '../../shared/config/job-schedule.js';
import { DEFAULT_SETTINGS_INPUT, parseSettings } from '../../shared/config/settings.js';
import { buildTestApp, labelOf, logicalId, type TestApp } from './sync-test-app.js';

/**
 * Job 4's continuation schedules (infra/scheduled-jobs.ts): every 15 minutes, on the job's own
 * function, naming the continuation job, enabled exactly when the job's own schedule is.
 */

type JobKey = 'syncSalesActivity' | 'syncCampaigns';

interface ScheduleProps {
  ScheduleExpression: string;
  ScheduleExpressionTimezone?: string;
  State: string;
  Target: { Arn: unknown; Input: string; DeadLetterConfig?: { Arn: unknown } };
}

/** The schedules whose target is the function's ARN. */
function schedulesOf(app: TestApp, key: JobKey): ScheduleProps[] {
  const arn = JSON.stringify({
    'Fn::GetAtt': [logicalId(app.stateless.salesActivityJobs[key].function), 'Arn'],
  });
  return Object.values(app.statelessTemplate.findResources('AWS::Scheduler::Schedule'))
    .map((s) => s.Properties as ScheduleProps)
    .filter((p) => JSON.stringify(p.Target.Arn) === arn);
}

const JOBS = [
  ['syncSalesActivity', 'tasks', SALES_ACTIVITY_CONTINUATION_JOB, 'salesActivities'],
  ['syncCampaigns', 'campaigns', CAMPAIGNS_CONTINUATION_JOB, 'campaigns'],
] as const;

describe('job 4 continuation schedules', () => {
  const built = buildTestApp();

  it.each(JOBS)(
    '%s: its own schedule (job %s) and a continuation every 15 minutes (job %s), with retries and the dead-letter queue',
    (key, job, continuationJob) => {
      const schedules = schedulesOf(built, key);
      expect(schedules.map((s) => JSON.parse(s.Target.Input).job).sort()).toEqual(
        [job, continuationJob].sort(),
      );
      const continuation = schedules.find((s) => s.ScheduleExpression === 'rate(15 minutes)');
      expect(continuation).toMatchObject({
        ScheduleExpressionTimezone: 'UTC',
        State: 'ENABLED',
        Target: { RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 3600 } },
      });
      expect(JSON.parse(continuation?.Target.Input ?? '{}')).toMatchObject({ job: continuationJob });
      expect(labelOf(continuation?.Target.DeadLetterConfig?.Arn, built.labels)).toBe('dlq:schedule');
      // One async-invoke configuration per function, whatever the number of its schedules.
      const configs = Object.values(
        built.statelessTemplate.findResources('AWS::Lambda::EventInvokeConfig'),
      ).filter((c) => JSON.stringify(c).includes(logicalId(built.stateless.salesActivityJobs[key].function)));
      expect(configs).toHaveLength(1);
    },
  );

  it.each(JOBS)(
    '%s: the continuation is disabled when the job is (%s disabled)',
    (key, job, continuationJob, section) => {
      const settings = parseSettings({
        ...DEFAULT_SETTINGS_INPUT,
        [section]: { schedule: { enabled: false, frequency: 'daily', time: '21:00', timeZone: 'UTC' } },
      });
      const custom = buildTestApp({ settings });
      const states = Object.fromEntries(
        schedulesOf(custom, key).map((s) => [JSON.parse(s.Target.Input).job as string, s.State]),
      );
      expect(states).toEqual({ [job]: 'DISABLED', [continuationJob]: 'DISABLED' });
      // The other job keeps both schedules enabled.
      const other = JOBS.find(([k]) => k !== key);
      const otherStates = schedulesOf(custom, other![0]).map((s) => s.State);
      expect(otherStates).toEqual(['ENABLED', 'ENABLED']);
    },
  );
});
