import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { TABLE_ACTIONS } from '../../infra/app-function.js';
import type { SyncStatelessStack } from '../../infra/stateless-stack.js';
import { TABLES } from '../../shared/adapters/dynamodb/table-definitions.js';
import { QUEUES } from '../../shared/adapters/sqs/queue-definitions.js';
import { DEFAULT_SETTINGS_INPUT, parseSettings } from '../../shared/config/settings.js';
import { buildTestApp, grantsOfRole, labelOf, logicalId } from './sync-test-app.js';

const built = buildTestApp();
const { statelessTemplate: template, labels, stateless } = built;

/** Every function of the stack: the activity and opt-out ones, and job 4's (infra/scheduled-jobs.ts). */
const functions = { ...stateless.functions, ...stateless.salesActivityJobs };
type FunctionKey = keyof SyncStatelessStack['functions'] | keyof SyncStatelessStack['salesActivityJobs'];

const RW = [...TABLE_ACTIONS.readWrite].sort();
const SEND = ['sqs:SendMessage'];
/** The scheduled functions' async-invocation on-failure destination (Lambda sends with the function's role). */
const ASYNC_FAILURE = ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'];
const CONSUME = [
  'sqs:ChangeMessageVisibility',
  'sqs:DeleteMessage',
  'sqs:GetQueueAttributes',
  'sqs:GetQueueUrl',
  'sqs:ReceiveMessage',
];
const SECRET_READ = ['secretsmanager:GetSecretValue'];
/** The failures table: every consumer records why a message failed, and can read nothing back. */
const RECORD = ['dynamodb:UpdateItem'];

/** The binding contract: each function's data-plane grants, exactly. */
const EXPECTED_GRANTS: Record<FunctionKey, Record<string, string[]>> = {
  scheduleActivitySync: {
    'dlq:schedule': ASYNC_FAILURE,
    'table:cursors': RW,
    'table:runs': RW,
    'table:governor': RW,
    'queue:fetch': SEND,
    'secret:marketo': SECRET_READ,
    // Activities waiting for their lead: revisited, the now-linked ones sent to the write queue.
    'table:pending': RW,
    'queue:write': SEND,
  },
  fetchActivityPage: {
    'table:cursors': RW,
    'table:runs': RW,
    'table:governor': RW,
    // An export back-fill range's people, resolved into the cache once per range.
    'table:leadCache': RW,
    'queue:fetch': [...CONSUME, ...SEND].sort(),
    'queue:write': SEND,
    'table:failures': RECORD,
    'secret:marketo': SECRET_READ,
  },
  writeActivityTasks: {
    'table:ledger': RW,
    'table:leadCache': RW,
    'table:runs': RW,
    'table:governor': RW,
    'table:staging': RW,
    'table:pending': RW,
    'queue:write': CONSUME,
    'queue:flush': SEND,
    'table:failures': RECORD,
    'secret:marketo': SECRET_READ,
    'secret:salesforce': SECRET_READ,
  },
  flushStagedTasks: {
    'table:staging': RW,
    'table:ledger': RW,
    'table:runs': RW,
    'table:failures': RECORD,
    'queue:flush': [...CONSUME, ...SEND].sort(),
    'secret:salesforce': SECRET_READ,
    // A converted Lead's redirect is remembered, as in the write step.
    'table:leadCache': RW,
  },
  receiveUnsubscribeWebhook: {
    'table:optOuts': RW,
    // optOuts.webhookPerSourceLimit: one conditional ADD per request, nothing else.
    'table:webhookSources': RECORD,
    'queue:unsubscribe': SEND,
    'secret:webhook': SECRET_READ,
  },
  applyUnsubscribe: {
    'table:optOuts': RW,
    'table:governor': RW,
    // Parking re-sends to its own queue (delayed), and to no other.
    'queue:unsubscribe': [...CONSUME, ...SEND].sort(),
    'table:failures': RECORD,
    'secret:marketo': SECRET_READ,
    'secret:salesforce': SECRET_READ,
  },
  reconcileOptOuts: {
    'dlq:schedule': ASYNC_FAILURE,
    'table:optOuts': RW,
    'table:cursors': RW,
    'table:runs': RW,
    'table:governor': RW,
    'secret:marketo': SECRET_READ,
    'secret:salesforce': SECRET_READ,
  },
  // Job 4: each job its own table only (never the other's, never the Task ledger or the opt-outs).
  syncSalesActivity: {
    'dlq:schedule': ASYNC_FAILURE,
    'table:salesActivity': RW,
    'table:runs': RW,
    'table:governor': RW,
    // The job's continuation cursor (open back-fill, hold).
    'table:cursors': RW,
    'secret:marketo': SECRET_READ,
    'secret:salesforce': SECRET_READ,
  },
  syncCampaigns: {
    'dlq:schedule': ASYNC_FAILURE,
    'table:campaigns': RW,
    'table:runs': RW,
    'table:governor': RW,
    // The job's continuation cursor (open back-fill, hold).
    'table:cursors': RW,
    'secret:marketo': SECRET_READ,
    'secret:salesforce': SECRET_READ,
  },
};

const ENV_FOR_LABEL: Record<string, string> = {
  ...Object.fromEntries(Object.entries(TABLES).map(([k, d]) => [`table:${k}`, d.envVar])),
  ...Object.fromEntries(Object.entries(QUEUES).map(([k, d]) => [`queue:${k}`, d.envVar])),
  'secret:marketo': 'MARKETO_SECRET_ARN',
  'secret:salesforce': 'SALESFORCE_SECRET_ARN',
  'secret:webhook': 'WEBHOOK_SECRET_ARN',
};

const FUNCTION_KEYS = Object.keys(EXPECTED_GRANTS) as FunctionKey[];

function functionResource(key: FunctionKey): { Properties: Record<string, unknown> } {
  const id = logicalId(functions[key].function);
  const resource = template.toJSON().Resources[id] as { Properties: Record<string, unknown> } | undefined;
  if (!resource) throw new Error(`no function ${id}`);
  return resource;
}

function dataPlaneGrants(key: FunctionKey): Record<string, string[]> {
  const all = grantsOfRole(template, logicalId(functions[key].role), labels);
  return Object.fromEntries(
    Object.entries(all).filter(([, actions]) =>
      actions.some((a) => /^(dynamodb|sqs|secretsmanager|kms):/.test(a)),
    ),
  );
}

describe('SyncStatelessStack functions', () => {
  it.each(FUNCTION_KEYS)('%s runs Node.js 24 on arm64 with X-Ray and JSON logs', (key) => {
    expect(functionResource(key).Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: expect.any(String) } },
      Environment: { Variables: { POWERTOOLS_SERVICE_NAME: 'marketo-sf-sync' } },
    });
  });

  it.each(FUNCTION_KEYS)('%s is granted exactly its data-plane contract', (key) => {
    expect(dataPlaneGrants(key)).toEqual(EXPECTED_GRANTS[key]);
  });

  it.each(FUNCTION_KEYS)('%s gets an env var for each bound resource and none for the rest', (key) => {
    const vars = (functionResource(key).Properties.Environment as { Variables: Record<string, unknown> })
      .Variables;
    const resourceVars = Object.fromEntries(
      Object.entries(vars).filter(([name]) => Object.values(ENV_FOR_LABEL).includes(name)),
    );
    const expected = Object.fromEntries(
      Object.keys(EXPECTED_GRANTS[key])
        // A dead-letter queue (the async on-failure destination) is used by Lambda, not by the code.
        .filter((label) => !label.startsWith('dlq:'))
        .map((label) => [ENV_FOR_LABEL[label], label]),
    );
    // The consumed queue's URL is not needed by its consumer.
    const consumedOnly = Object.entries(EXPECTED_GRANTS[key])
      .filter(([, actions]) => !actions.includes('sqs:SendMessage') && actions.includes('sqs:ReceiveMessage'))
      .map(([label]) => ENV_FOR_LABEL[label]);
    for (const name of consumedOnly) delete expected[name as string];
    expect(Object.fromEntries(Object.entries(resourceVars).map(([n, v]) => [n, labelOf(v, labels)]))).toEqual(
      expected,
    );
  });

  it('never grants dynamodb, sqs or secretsmanager actions on a * resource', () => {
    for (const key of FUNCTION_KEYS) {
      const star = grantsOfRole(template, logicalId(functions[key].role), labels)['*'] ?? [];
      expect(star.filter((a) => /^(dynamodb|sqs|secretsmanager):/.test(a))).toEqual([]);
      expect(star).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    }
  });

  it('keeps the webhook receiver away from the ledger, the credentials and the write queue', () => {
    const grants = dataPlaneGrants('receiveUnsubscribeWebhook');
    expect(grants).not.toHaveProperty('table:ledger');
    expect(grants).not.toHaveProperty('secret:marketo');
    expect(grants).not.toHaveProperty('secret:salesforce');
    expect(grants).not.toHaveProperty('queue:write');
    expect(grants).toHaveProperty(['table:optOuts']);
  });

  it('gives only the webhook receiver the source counters table: UpdateItem, named in its WEBHOOK_SOURCES_TABLE', () => {
    const holders = FUNCTION_KEYS.filter((k) => 'table:webhookSources' in dataPlaneGrants(k));
    expect(holders).toEqual(['receiveUnsubscribeWebhook']);
    expect(dataPlaneGrants('receiveUnsubscribeWebhook')['table:webhookSources']).toEqual([
      'dynamodb:UpdateItem',
    ]);
    const vars = (
      functionResource('receiveUnsubscribeWebhook').Properties.Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;
    expect(TABLES.webhookSources.envVar).toBe('WEBHOOK_SOURCES_TABLE');
    expect(labelOf(vars.WEBHOOK_SOURCES_TABLE, labels)).toBe('table:webhookSources');
  });

  it('lets the Task writer send to the flush queue only (its "Tasks staged" signal)', () => {
    const grants = dataPlaneGrants('writeActivityTasks');
    const sends = Object.entries(grants).filter(([, actions]) => actions.includes('sqs:SendMessage'));
    expect(sends.map(([label]) => label)).toEqual(['queue:flush']);
  });

  it('gives the Bulk flush no Marketo secret and no other queue', () => {
    const grants = dataPlaneGrants('flushStagedTasks');
    expect(grants).not.toHaveProperty('secret:marketo');
    expect(Object.keys(grants).filter((l) => l.startsWith('queue:'))).toEqual(['queue:flush']);
  });

  it('gives every function a log group with one month retention', () => {
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    for (const key of FUNCTION_KEYS) {
      const ref = (functionResource(key).Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup
        .Ref;
      expect(template.toJSON().Resources[ref]).toMatchObject({ Properties: { RetentionInDays: 30 } });
    }
  });
});

describe('SyncStatelessStack queue consumers', () => {
  const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')) as {
    Properties: Record<string, unknown>;
  }[];
  const consumers = {
    'queue:fetch': 'fetchActivityPage',
    'queue:write': 'writeActivityTasks',
    'queue:flush': 'flushStagedTasks',
    'queue:unsubscribe': 'applyUnsubscribe',
  } as const;

  it('consumes each main queue with the intended function', () => {
    const wiring = mappings.map((m) => [
      labelOf(m.Properties.EventSourceArn, labels),
      (m.Properties.FunctionName as { Ref: string }).Ref,
    ]);
    expect(Object.fromEntries(wiring)).toEqual(
      Object.fromEntries(
        Object.entries(consumers).map(([label, fn]) => [label, logicalId(stateless.functions[fn].function)]),
      ),
    );
  });

  it('reports partial batch failures on every SQS event source', () => {
    for (const m of mappings) expect(m.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
  });

  it('caps fetch concurrency at the Marketo budget (settings marketo.maxConcurrent)', () => {
    const fetch = mappings.find((m) => labelOf(m.Properties.EventSourceArn, labels) === 'queue:fetch');
    expect(fetch?.Properties).toMatchObject({ BatchSize: 1, ScalingConfig: { MaximumConcurrency: 5 } });
  });

  it('hands the Task writer batches of 10 messages, waiting up to 20 s to fill them (full 200-record collections)', () => {
    const write = mappings.find((m) => labelOf(m.Properties.EventSourceArn, labels) === 'queue:write');
    expect(write?.Properties).toMatchObject({ BatchSize: 10, MaximumBatchingWindowInSeconds: 20 });
  });

  it('runs the Bulk flush for up to 15 minutes (a job is waited for in one invocation), at most 2 at once', () => {
    const flush = mappings.find((m) => labelOf(m.Properties.EventSourceArn, labels) === 'queue:flush');
    expect(flush?.Properties).toMatchObject({ BatchSize: 10, ScalingConfig: { MaximumConcurrency: 2 } });
    expect(functionResource('flushStagedTasks').Properties).toMatchObject({ Timeout: 900, MemorySize: 1024 });
  });

  it('applies webhook unsubscribes in batches of up to 1,000 (2 s window, as SQS requires over 10), at most 2 at once, with time and memory for them', () => {
    const apply = mappings.find((m) => labelOf(m.Properties.EventSourceArn, labels) === 'queue:unsubscribe');
    expect(apply?.Properties).toMatchObject({
      BatchSize: 1000,
      MaximumBatchingWindowInSeconds: 2,
      ScalingConfig: { MaximumConcurrency: 2 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(functionResource('applyUnsubscribe').Properties).toMatchObject({ Timeout: 120, MemorySize: 1024 });
  });

  it('sets every consumed queue visibility timeout to at least 6 x the consumer timeout', () => {
    const queues = built.statefulTemplate.toJSON().Resources as Record<
      string,
      { Properties: { VisibilityTimeout: number } }
    >;
    for (const [label, fn] of Object.entries(consumers)) {
      const queueId = [...labels].find(([, l]) => l === label)?.[0] as string;
      const timeout = functionResource(fn).Properties.Timeout as number;
      expect(queues[queueId]?.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * timeout);
    }
  });
});

describe('SyncStatelessStack schedules', () => {
  const schedules = template.findResources('AWS::Scheduler::Schedule') as Record<
    string,
    { Properties: Record<string, unknown> }
  >;
  /** The schedules whose target is this function. */
  const schedulesOf = (key: keyof typeof functions) => {
    const arn = JSON.stringify({ 'Fn::GetAtt': [logicalId(functions[key].function), 'Arn'] });
    return Object.values(schedules).filter(
      (s) => JSON.stringify((s.Properties.Target as { Arn: unknown }).Arn) === arn,
    );
  };

  it.each([
    ['scheduleActivitySync', 'activities'],
    ['reconcileOptOuts', 'optouts'],
  ] as const)('runs %s at 20:00 America/Los_Angeles with retries and a dead-letter queue', (key, job) => {
    const [target] = schedulesOf(key);
    expect(target?.Properties).toMatchObject({
      ScheduleExpression: 'cron(0 20 * * ? *)',
      ScheduleExpressionTimezone: 'America/Los_Angeles',
      State: 'ENABLED',
      Target: {
        RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: expect.anything() },
        Input: expect.stringContaining(`"job":"${job}"`),
      },
    });
    const dlq = (target?.Properties.Target as { DeadLetterConfig?: { Arn: unknown } } | undefined)
      ?.DeadLetterConfig?.Arn;
    expect(labelOf(dlq, labels)).toBe('dlq:schedule');
  });

  it('continues an open opt-out night every 15 minutes (job optouts-continue) on the same function, with one async-invoke config', () => {
    const targets = schedulesOf('reconcileOptOuts');
    expect(targets.map((t) => t.Properties.ScheduleExpression).sort()).toEqual([
      'cron(0 20 * * ? *)',
      'rate(15 minutes)',
    ]);
    const continuation = targets.find((t) => t.Properties.ScheduleExpression === 'rate(15 minutes)');
    expect(continuation?.Properties).toMatchObject({
      State: 'ENABLED',
      Target: {
        RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: expect.anything() },
        Input: expect.stringContaining('"job":"optouts-continue"'),
      },
    });
    const configs = Object.values(template.findResources('AWS::Lambda::EventInvokeConfig')).filter((c) =>
      JSON.stringify(c).includes(logicalId(functions.reconcileOptOuts.function)),
    );
    expect(configs).toHaveLength(1);
  });

  it.each([
    ['syncSalesActivity', 'tasks', 'cron(0 21 * * ? *)'],
    ['syncCampaigns', 'campaigns', 'cron(0 22 * * ? *)'],
  ] as const)(
    'runs job 4 %s daily by default (%s at %s Los Angeles time) with retries and a dead-letter queue',
    (key, job, cron) => {
      const [target] = schedulesOf(key);
      expect(target?.Properties).toMatchObject({
        ScheduleExpression: cron,
        ScheduleExpressionTimezone: 'America/Los_Angeles',
        State: 'ENABLED',
        Target: {
          RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 3600 },
          DeadLetterConfig: { Arn: expect.anything() },
          Input: expect.stringContaining(`"job":"${job}"`),
        },
      });
      expect(
        labelOf(
          (target?.Properties.Target as { DeadLetterConfig?: { Arn: unknown } } | undefined)?.DeadLetterConfig
            ?.Arn,
          labels,
        ),
      ).toBe('dlq:schedule');
      // Async invocations that fail after Lambda's retries go to the same dead-letter queue.
      built.statelessTemplate.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: logicalId(functions[key].function) },
        MaximumRetryAttempts: 2,
        DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
      });
    },
  );

  it('compiles job 4 schedules from settings: weekly cron and one-time at(), the zone passed unchanged', () => {
    const settings = parseSettings({
      ...DEFAULT_SETTINGS_INPUT,
      salesActivities: {
        schedule: { frequency: 'weekly', dayOfWeek: 'MON', time: '07:15', timeZone: 'Europe/Berlin' },
      },
      campaigns: {
        schedule: {
          enabled: false,
          frequency: 'once',
          date: '2027-03-28',
          time: '02:30',
          timeZone: 'Europe/Berlin',
        },
      },
    });
    const custom = buildTestApp({ settings });
    custom.statelessTemplate.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(15 7 ? * MON *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      State: 'ENABLED',
    });
    custom.statelessTemplate.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'at(2027-03-28T02:30:00)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      State: 'DISABLED',
    });
    // Weekly: "did not complete" over 7 daily periods; a disabled job has none.
    custom.statelessTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Dimensions: Match.arrayWith([{ Name: 'job', Value: 'tasks' }]),
      EvaluationPeriods: 7,
      DatapointsToAlarm: 7,
      Period: 86400,
    });
    const campaignAlarms = Object.values(
      custom.statelessTemplate.findResources('AWS::CloudWatch::Alarm'),
    ).filter((a) => JSON.stringify(a).includes('"Value":"campaigns"'));
    expect(campaignAlarms).toEqual([]);
  });

  it('follows the settings document: cron, time zone and enabled flag', () => {
    const settings = parseSettings({
      ...DEFAULT_SETTINGS_INPUT,
      optOuts: { schedule: { enabled: false, cron: 'cron(30 6 * * ? *)', timeZone: 'Europe/Berlin' } },
    });
    const custom = buildTestApp({ settings });
    custom.statelessTemplate.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(30 6 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      State: 'DISABLED',
    });
  });
});

describe('SyncStatelessStack webhook API', () => {
  it('routes POST /webhooks/unsubscribe to the receiver function', () => {
    const integration = Object.entries(template.findResources('AWS::ApiGatewayV2::Integration')).find(
      ([, r]) =>
        JSON.stringify(r.Properties.IntegrationUri) ===
        JSON.stringify({
          'Fn::GetAtt': [logicalId(stateless.functions.receiveUnsubscribeWebhook.function), 'Arn'],
        }),
    );
    expect(integration).toBeDefined();
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'POST /webhooks/unsubscribe',
      Target: { 'Fn::Join': ['', ['integrations/', { Ref: integration?.[0] }]] },
    });
    expect(Object.keys(template.findResources('AWS::ApiGatewayV2::Route'))).toHaveLength(1);
  });

  it('throttles the stage and writes access logs without personal data', () => {
    const stage = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'))[0];
    expect(stage?.Properties).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [expect.any(String), 'Arn'] } },
    });
    const format = String((stage?.Properties.AccessLogSettings as { Format?: string } | undefined)?.Format);
    expect(JSON.parse(format)).toHaveProperty('requestId', '$context.requestId');
    expect(format).not.toMatch(/sourceIp|userAgent|identity/);
  });

  it('takes throttling from CDK context', () => {
    const custom = buildTestApp({ context: { webhookRateLimit: '5', webhookBurstLimit: 10 } });
    custom.statelessTemplate.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 },
    });
  });

  it('outputs the webhook URL', () => {
    template.hasOutput('WebhookUrl', {
      Value: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith(['/webhooks/unsubscribe'])]) }),
    });
  });
});

describe('SyncStatelessStack alarms', () => {
  const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as {
    Properties: Record<string, unknown>;
  }[];
  const topicId = logicalId(stateless.alarms.topic);

  function alarmFor(metric: string, label: string) {
    return alarms.find(
      (a) =>
        a.Properties.MetricName === metric &&
        labelOf((a.Properties.Dimensions as { Value: unknown }[])[0]?.Value, labels) === label,
    );
  }

  it.each(['dlq:fetch', 'dlq:write', 'dlq:unsubscribe', 'dlq:schedule'])(
    'alarms to the topic as soon as %s holds a message',
    (label) => {
      expect(alarmFor('ApproximateNumberOfMessagesVisible', label)?.Properties).toMatchObject({
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        AlarmActions: [{ Ref: topicId }],
      });
    },
  );

  it.each(['queue:fetch', 'queue:write', 'queue:unsubscribe'])(
    'alarms on the age of the oldest %s message',
    (label) => {
      expect(alarmFor('ApproximateAgeOfOldestMessage', label)?.Properties).toMatchObject({
        Threshold: 3600,
        AlarmActions: [{ Ref: topicId }],
      });
    },
  );

  it('encrypts the alarm topic with a rotated key CloudWatch may use, and enforces TLS', () => {
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [logicalId(stateless.alarms.key), 'Arn'] },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: Match.anyValue() }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
});
