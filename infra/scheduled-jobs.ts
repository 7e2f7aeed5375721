import { Duration, type Stack, TimeZone, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  ContextAttribute,
  Schedule,
  ScheduleExpression,
  ScheduleTargetInput,
} from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { TableKey } from '../shared/adapters/dynamodb/table-definitions.js';
import {
  CAMPAIGNS_CONTINUATION_JOB,
  CONTINUATION_SCHEDULE,
  type CompiledSchedule,
  compileJobSchedule,
  JOB4_FUNCTION_TIMEOUT_MINUTES,
  SALES_ACTIVITY_CONTINUATION_JOB,
} from '../shared/config/job-schedule.js';
import type { Settings } from '../shared/config/settings.js';
import { VENDOR_SECRET_ENV, type Vendor } from '../shared/runtime/credentials.js';
import { AppFunction, METRICS_NAMESPACE, SERVICE_NAME } from './app-function.js';
import type { SyncAlarms } from './sync-alarms.js';

/**
 * A scheduled function's EventBridge Scheduler target and retries: Scheduler retries delivery 4
 * times within an hour, then dead-letters; the asynchronous invocation it made retries twice in
 * Lambda, then goes to the same dead-letter queue (which alarms). The input names the job and the
 * due time (the run id) and the execution id (the same on every retry).
 */
export function scheduleFunction(
  stack: Stack,
  id: string,
  fn: AppFunction,
  options: {
    job: string;
    description: string;
    schedule: Pick<CompiledSchedule, 'expression' | 'timeZone'>;
    enabled: boolean;
    deadLetterQueue: IQueue;
  },
): Schedule {
  // A function may serve two schedules (the opt-out night and its continuation): one config.
  if (!fn.function.node.tryFindChild('EventInvokeConfig'))
    fn.function.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
      onFailure: new SqsDestination(options.deadLetterQueue),
    });
  // LambdaInvoke grants lambda:InvokeFunction on the function ARN and `<arn>:*` (its versions/aliases).
  const logicalId = stack.getLogicalId(fn.function.node.defaultChild as CfnFunction);
  Validations.of(stack).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`,
    reason:
      'Scheduler role: lambda:InvokeFunction on versions/aliases of this one function only (grantInvoke adds <arn>:*); no other function is reachable.',
  });
  return new Schedule(stack, id, {
    description: options.description,
    // The zone goes to Scheduler as is: 21:00 stays 21:00 local across daylight-saving changes.
    schedule: ScheduleExpression.expression(
      options.schedule.expression,
      TimeZone.of(options.schedule.timeZone),
    ),
    target: new LambdaInvoke(fn.function, {
      deadLetterQueue: options.deadLetterQueue,
      retryAttempts: 4,
      maxEventAge: Duration.hours(1),
      input: ScheduleTargetInput.fromObject({
        job: options.job,
        scheduledTime: ContextAttribute.scheduledTime,
        executionId: ContextAttribute.executionId,
      }),
    }),
    enabled: options.enabled,
  });
}

export interface SalesActivityJobsProps {
  readonly settings: Settings;
  readonly tables: Readonly<Record<TableKey, ITable>>;
  readonly credentialsSecrets: Readonly<Record<Vendor, ISecret>>;
  readonly scheduleDeadLetterQueue: IQueue;
  readonly logRetention?: RetentionDays;
}

/**
 * Job 4 in AWS: two scheduled functions, one per job, each one run per invocation (up to 15
 * minutes), each bound to its own table, the runs table, the Marketo call governor, the cursors
 * table (its continuation) and both vendor secrets (each job reads one vendor and writes the
 * other). Schedules from settings (`salesActivities.schedule`, `campaigns.schedule`), each with a
 * continuation schedule on the same function (every 15 minutes, enabled with the job's schedule)
 * that finishes a back-fill the budget stopped. Their error alarms come with every AppFunction of
 * the stack; `addSalesActivityJobAlarms` adds the "did not complete" ones.
 */
export function addSalesActivityJobs(
  stack: Stack,
  props: SalesActivityJobsProps,
): { syncSalesActivity: AppFunction; syncCampaigns: AppFunction } {
  const { settings } = props;
  const jobFunction = (
    id: string,
    entry: string,
    description: string,
    table: 'salesActivity' | 'campaigns',
  ) =>
    new AppFunction(stack, id, {
      settings,
      tables: props.tables,
      ...(props.logRetention !== undefined && { logRetention: props.logRetention }),
      entry,
      description,
      timeout: Duration.minutes(JOB4_FUNCTION_TIMEOUT_MINUTES),
      memorySize: 1024,
    })
      .bindTable(table, 'readWrite')
      .bindTable('runs', 'readWrite')
      .bindTable('governor', 'readWrite')
      // The job's continuation cursor (open back-fill, hold): shared/runtime/job-continuation.ts.
      .bindTable('cursors', 'readWrite')
      .bindSecret(props.credentialsSecrets.marketo, VENDOR_SECRET_ENV.marketo)
      .bindSecret(props.credentialsSecrets.salesforce, VENDOR_SECRET_ENV.salesforce);

  const syncSalesActivity = jobFunction(
    'SyncSalesActivity',
    'sync-sales-activity',
    'Job 4a: closed Salesforce Tasks and ended Events to Marketo custom activities (exactly one each)',
    'salesActivity',
  );
  const syncCampaigns = jobFunction(
    'SyncCampaigns',
    'sync-campaigns',
    'Job 4b: Marketo email programs to Salesforce Campaigns with member status and the last-five field',
    'campaigns',
  );

  const jobs = [
    {
      id: 'SalesActivity',
      fn: syncSalesActivity,
      job: 'tasks',
      continuationJob: SALES_ACTIVITY_CONTINUATION_JOB,
      schedule: settings.salesActivities.schedule,
      description: 'Job 4a: sales activity to Marketo',
    },
    {
      id: 'Campaigns',
      fn: syncCampaigns,
      job: 'campaigns',
      continuationJob: CAMPAIGNS_CONTINUATION_JOB,
      schedule: settings.campaigns.schedule,
      description: 'Job 4b: Campaigns and member status',
    },
  ];
  for (const { id, fn, job, continuationJob, schedule, description } of jobs) {
    scheduleFunction(stack, `${id}Schedule`, fn, {
      job,
      description,
      schedule: compileJobSchedule(schedule),
      enabled: schedule.enabled,
      deadLetterQueue: props.scheduleDeadLetterQueue,
    });
    // A first back-fill longer than one run's budget continues within the quarter hour, not the
    // next day: the function runs the job only when its last run left it open and no run holds it.
    scheduleFunction(stack, `${id}ContinuationSchedule`, fn, {
      job: continuationJob,
      description: `${description}: continues a back-fill left open that no invocation holds (no-op otherwise)`,
      schedule: CONTINUATION_SCHEDULE,
      enabled: schedule.enabled,
      deadLetterQueue: props.scheduleDeadLetterQueue,
    });
  }
  return { syncSalesActivity, syncCampaigns };
}

/**
 * "Did not complete" per job 4 job whose schedule is enabled and has a fixed period (daily: a
 * day, weekly: 7 days); monthly and one-time runs have none CloudWatch can evaluate, and rely on
 * the function-error alarm and the schedule dead-letter queue.
 */
export function addSalesActivityJobAlarms(alarms: SyncAlarms, settings: Settings): void {
  const jobs = [
    ['SalesActivity', 'tasks', settings.salesActivities.schedule],
    ['Campaigns', 'campaigns', settings.campaigns.schedule],
  ] as const;
  for (const [name, job, schedule] of jobs) {
    const within = compileJobSchedule(schedule).completesWithinDays;
    if (schedule.enabled && within !== undefined)
      alarms.jobNotCompleted(`${name}NotCompletedAlarm`, job, METRICS_NAMESPACE, SERVICE_NAME, within);
  }
}
