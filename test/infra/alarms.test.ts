import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../infra/app-function.js';
import { DEFAULT_WEBHOOK_ACCEPTED_ALARM } from '../../infra/stateless-stack.js';
import { QUEUES, type QueueKey } from '../../shared/adapters/sqs/queue-definitions.js';
import { DEFAULT_SETTINGS_INPUT, parseSettings } from '../../shared/config/settings.js';
import { METRICS } from '../../shared/observability/metrics.js';
import { buildTestApp, logicalId } from './sync-test-app.js';

const { statelessTemplate: template, stateless, stateful } = buildTestApp();
type Alarm = { Properties: Record<string, unknown> };
const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Alarm[];
const topic = { Ref: logicalId(stateless.alarms.topic) };

/** The alarms watching `metric` in `namespace` whose dimensions include `dimension` (by JSON). */
function alarmsOn(namespace: string, metric: string, dimension?: unknown): Alarm[] {
  return alarms.filter(
    (a) =>
      a.Properties.Namespace === namespace &&
      a.Properties.MetricName === metric &&
      (dimension === undefined ||
        JSON.stringify(a.Properties.Dimensions ?? []).includes(JSON.stringify(dimension))),
  );
}

function expectNotifies(alarm: Alarm | undefined) {
  expect(alarm?.Properties.AlarmActions).toEqual([topic]);
  expect(alarm?.Properties.OKActions).toEqual([topic]);
}

describe('alarms', () => {
  const functionIds = Object.values(template.findResources('AWS::Lambda::Function'))
    .map((_, i) => Object.keys(template.findResources('AWS::Lambda::Function'))[i] as string)
    // CDK's own singleton functions (log retention, custom resources) are not ours.
    .filter((id) => Object.values(stateless.functions).some((f) => logicalId(f.function) === id));

  it('has an Errors alarm (≥ 1 in 5 minutes) on every function of the stack', () => {
    expect(functionIds.length).toBe(Object.keys(stateless.functions).length);
    for (const id of functionIds) {
      const [alarm, ...more] = alarmsOn('AWS/Lambda', 'Errors', { Name: 'FunctionName', Value: { Ref: id } });
      expect(more, id).toEqual([]);
      expect(alarm?.Properties, id).toMatchObject({
        Statistic: 'Sum',
        Period: 300,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
      expectNotifies(alarm);
    }
  });

  it('alarms on any 5xx of the webhook API (a 503 for a malformed secret included)', () => {
    const [alarm] = alarmsOn('AWS/ApiGateway', '5xx', {
      Name: 'ApiId',
      Value: { Ref: logicalId(stateless.api) },
    });
    expect(alarm?.Properties).toMatchObject({
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expectNotifies(alarm);
  });

  it('counts 401/403 from the access log and alarms on a spike', () => {
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      FilterPattern: Match.stringLikeRegexp('\\$\\.status = "401".*\\$\\.status = "403"'),
      MetricTransformations: [
        Match.objectLike({
          MetricNamespace: METRICS_NAMESPACE,
          MetricName: 'WebhookAuthFailures',
          MetricValue: '1',
        }),
      ],
    });
    const [alarm] = alarmsOn(METRICS_NAMESPACE, 'WebhookAuthFailures');
    expect(alarm?.Properties).toMatchObject({
      Statistic: 'Sum',
      Period: 300,
      Threshold: 20,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expectNotifies(alarm);
  });

  /** The access-log metric filters counting `metricName`, and the 401/403 filter's log group. */
  const statusFilters = (metricName: string) => {
    const filters = Object.values(template.findResources('AWS::Logs::MetricFilter')) as {
      Properties: { FilterPattern: string; LogGroupName: unknown; MetricTransformations: unknown[] };
    }[];
    const named = (name: string) => filters.filter((f) => JSON.stringify(f.Properties).includes(`"${name}"`));
    return {
      filters: named(metricName),
      authLogGroup: named('WebhookAuthFailures')[0]?.Properties.LogGroupName,
    };
  };

  it.each([
    {
      what: 'accepted webhooks (202): a burst is a leaked secret',
      metricName: 'WebhookAccepted',
      status: '202',
      threshold: DEFAULT_WEBHOOK_ACCEPTED_ALARM,
    },
    {
      what: 'any 429 (stage throttle or per-source limit)',
      metricName: 'WebhookThrottled',
      status: '429',
      threshold: 1,
    },
  ])('counts $what from the API access log and alarms', ({ metricName, status, threshold }) => {
    const { filters, authLogGroup } = statusFilters(metricName);
    expect(filters.map((f) => f.Properties.FilterPattern)).toEqual([`{ $.status = "${status}" }`]);
    expect(filters[0]?.Properties.MetricTransformations).toEqual([
      expect.objectContaining({
        MetricNamespace: METRICS_NAMESPACE,
        MetricName: metricName,
        MetricValue: '1',
      }),
    ]);
    // The stage's access log, the same group the 401/403 filter reads.
    expect(filters[0]?.Properties.LogGroupName).toEqual(authLogGroup);
    const [alarm, ...more] = alarmsOn(METRICS_NAMESPACE, metricName);
    expect(more).toEqual([]);
    expect(alarm?.Properties).toMatchObject({
      Statistic: 'Sum',
      Period: 300,
      Threshold: threshold,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    expectNotifies(alarm);
  });

  it('takes the accepted-webhook alarm threshold from CDK context webhookAcceptedAlarm', () => {
    const { statelessTemplate } = buildTestApp({ context: { webhookAcceptedAlarm: '40' } });
    const [alarm] = Object.values(statelessTemplate.findResources('AWS::CloudWatch::Alarm')).filter(
      (a) => (a as Alarm).Properties.MetricName === 'WebhookAccepted',
    ) as Alarm[];
    expect(alarm?.Properties.Threshold).toBe(40);
  });

  it.each(['activities', 'optouts', 'tasks', 'campaigns'])(
    'alarms when the %s job emitted no completion metric for a day (missing data breaches)',
    (job) => {
      const [alarm, ...more] = alarmsOn(METRICS_NAMESPACE, METRICS.jobCompleted.name, {
        Name: METRICS.jobCompleted.dimension,
        Value: job,
      });
      expect(more).toEqual([]);
      expect(alarm?.Properties).toMatchObject({
        Dimensions: expect.arrayContaining([{ Name: 'service', Value: SERVICE_NAME }]),
        Statistic: 'Sum',
        Period: 86_400,
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
      });
      expectNotifies(alarm);
    },
  );

  it('alarms when the per-source limiter fails open (a log field of the intake), only when the limit is set', () => {
    const settings = parseSettings(DEFAULT_SETTINGS_INPUT);
    const limited = buildTestApp({
      settings: {
        ...settings,
        optOuts: { ...settings.optOuts, webhookPerSourceLimit: { requests: 60, perSeconds: 60 } },
      },
    });
    const filtersOf = (t: typeof template) =>
      Object.values(t.findResources('AWS::Logs::MetricFilter')).filter((f) =>
        JSON.stringify(f).includes('"WebhookSourceLimiterFailed"'),
      ) as { Properties: { FilterPattern: string; LogGroupName: unknown } }[];
    const intakeLogs = logicalId(limited.stateless.functions.receiveUnsubscribeWebhook.logGroup);

    const [filter, ...more] = filtersOf(limited.statelessTemplate);
    expect(more).toEqual([]);
    expect(filter?.Properties.FilterPattern).toBe('{ $.sourceLimiterFailed IS TRUE }');
    expect(filter?.Properties.LogGroupName).toEqual({ Ref: intakeLogs });
    const alarms = Object.values(limited.statelessTemplate.findResources('AWS::CloudWatch::Alarm')).filter(
      (a) => (a as Alarm).Properties.MetricName === 'WebhookSourceLimiterFailed',
    ) as Alarm[];
    expect(alarms).toHaveLength(1);
    expect(alarms[0]?.Properties).toMatchObject({ Threshold: 1, Period: 300, Statistic: 'Sum' });
    expectNotifies(alarms[0]);
    expect(filtersOf(template)).toEqual([]);
  });

  it('has no completion alarm for a job whose schedule is disabled', () => {
    const settings = parseSettings(DEFAULT_SETTINGS_INPUT);
    const disabled = {
      ...settings,
      optOuts: { ...settings.optOuts, schedule: { ...settings.optOuts.schedule, enabled: false } },
    };
    const other = buildTestApp({ settings: disabled });
    const found = Object.values(other.statelessTemplate.findResources('AWS::CloudWatch::Alarm')).filter((a) =>
      JSON.stringify(a).includes('"Value":"optouts"'),
    );
    expect(found).toEqual([]);
  });

  it('retries each scheduled target and dead-letters it, and sends a failed async run to the same alarmed queue', () => {
    const dlq = Match.objectLike({
      'Fn::ImportValue': Match.stringLikeRegexp(logicalId(stateful.scheduleDeadLetterQueue)),
    });
    const schedules = template.findResources('AWS::Scheduler::Schedule');
    expect(Object.keys(schedules).length).toBeGreaterThan(0);
    for (const s of Object.values(schedules)) {
      expect(s.Properties.Target).toMatchObject({
        RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: expect.anything() },
      });
      expect(JSON.stringify(s.Properties.Target.DeadLetterConfig.Arn)).toContain(
        logicalId(stateful.scheduleDeadLetterQueue),
      );
    }
    for (const fn of [stateless.functions.scheduleActivitySync, stateless.functions.reconcileOptOuts]) {
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: logicalId(fn.function) },
        MaximumRetryAttempts: 2,
        DestinationConfig: { OnFailure: { Destination: dlq } },
      });
    }
    const [alarm] = alarmsOn('AWS/SQS', 'ApproximateNumberOfMessagesVisible').filter((a) =>
      JSON.stringify(a.Properties.Dimensions).includes(logicalId(stateful.scheduleDeadLetterQueue)),
    );
    expect(alarm?.Properties).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
  });

  it.each(Object.keys(QUEUES) as QueueKey[])(
    'keeps the dead-letter depth and oldest-message age alarms of %s',
    (key) => {
      const dims = (a: Alarm) => JSON.stringify(a.Properties.Dimensions);
      const depth = alarmsOn('AWS/SQS', 'ApproximateNumberOfMessagesVisible').filter((a) =>
        dims(a).includes(logicalId(stateful.queues[key].deadLetterQueue)),
      );
      const age = alarmsOn('AWS/SQS', 'ApproximateAgeOfOldestMessage').filter((a) =>
        dims(a).includes(logicalId(stateful.queues[key].queue)),
      );
      expect(depth.map((a) => a.Properties.Threshold)).toEqual([0]);
      expect(age.map((a) => a.Properties.Threshold)).toEqual([3600]);
    },
  );
});
