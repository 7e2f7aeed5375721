import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { HttpApi, HttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { TableKey } from '../shared/adapters/dynamodb/table-definitions.js';
import { QUEUES, type QueueKey, UNSUBSCRIBE_CONSUMER } from '../shared/adapters/sqs/queue-definitions.js';
import { CONTINUATION_SCHEDULE, OPT_OUT_CONTINUATION_JOB } from '../shared/config/job-schedule.js';
import type { Settings } from '../shared/config/settings.js';
import { VENDOR_SECRET_ENV, type Vendor } from '../shared/runtime/credentials.js';
import { AppFunction, METRICS_NAMESPACE, SERVICE_NAME } from './app-function.js';
import type { QueueWithDeadLetter } from './queue-with-dead-letter.js';
import { addSalesActivityJobAlarms, addSalesActivityJobs, scheduleFunction } from './scheduled-jobs.js';
import { SyncAlarms } from './sync-alarms.js';
import { SyncDashboard } from './sync-dashboard.js';
import { addWebhookApi } from './webhook-api.js';

/** Environment variables of the secrets (the queue and table ones come from the shared definitions). */
export const SECRET_ENV = { ...VENDOR_SECRET_ENV, webhook: 'WEBHOOK_SECRET_ARN' } as const;

/** Accepted webhooks (202) in 5 minutes that alarm, unless CDK context webhookAcceptedAlarm says otherwise. */
export const DEFAULT_WEBHOOK_ACCEPTED_ALARM = 300;

export interface SyncStatelessStackProps extends StackProps {
  readonly settings: Settings;
  readonly tables: Readonly<Record<TableKey, ITable>>;
  readonly queues: Readonly<Record<QueueKey, QueueWithDeadLetter>>;
  readonly scheduleDeadLetterQueue: IQueue;
  /** One secret per vendor: a function is bound only to the vendors it calls. */
  readonly credentialsSecrets: Readonly<Record<Vendor, ISecret>>;
  readonly webhookSecret: ISecret;
  /** @default one month */
  readonly logRetention?: RetentionDays;
  /** Concurrent fetch-page consumers. @default settings.marketo.maxConcurrent (at least 2, SQS's minimum) */
  readonly fetchMaxConcurrency?: number;
  /** @default 10 */
  readonly writeMaxConcurrency?: number;
  /** @default { rateLimit: 50, burstLimit: 100 } */
  readonly webhookThrottle?: { readonly rateLimit: number; readonly burstLimit: number };
  readonly webhookReservedConcurrency?: number;
  /** @default 60 minutes */
  readonly queueAgeAlarm?: Duration;
  /** 401/403 answers in 5 minutes that alarm. @default 20 */
  readonly webhookAuthFailureAlarm?: number;
  /** 202 answers (accepted unsubscribes) in 5 minutes that alarm: a leaked secret allows mass opt-outs. @default 300 */
  readonly webhookAcceptedAlarm?: number;
  readonly alarmEmail?: string;
}

/**
 * The code: six functions, the two schedules, the webhook API and the alarms. Holds no data;
 * it can be destroyed and redeployed freely.
 *
 * Activity path: schedule → schedule-activity-sync → fetch queue → fetch-activity-page (→ fetch
 * queue for the next page) → write queue → write-activity-tasks → Salesforce (full 200-record
 * collections); the rest is staged in the staging table and a delayed signal on the flush queue
 * wakes flush-staged-tasks once staging is quiet, which writes it by Bulk API 2.0 (or collections).
 */
export class SyncStatelessStack extends Stack {
  readonly functions: {
    readonly scheduleActivitySync: AppFunction;
    readonly fetchActivityPage: AppFunction;
    readonly writeActivityTasks: AppFunction;
    readonly flushStagedTasks: AppFunction;
    readonly receiveUnsubscribeWebhook: AppFunction;
    readonly applyUnsubscribe: AppFunction;
    readonly reconcileOptOuts: AppFunction;
  };
  /** Job 4's scheduled functions (infra/scheduled-jobs.ts). */
  readonly salesActivityJobs: ReturnType<typeof addSalesActivityJobs>;
  readonly api: HttpApi;
  readonly apiStage: HttpStage;
  readonly alarms: SyncAlarms;
  readonly webhookUrl: string;

  constructor(scope: Construct, id: string, props: SyncStatelessStackProps) {
    super(scope, id, props);
    const { settings, tables, queues } = props;
    const common = {
      settings,
      tables,
      ...(props.logRetention !== undefined && { logRetention: props.logRetention }),
    };
    // Credentials: the activity fetch steps (schedule, fetch) call Marketo only and never get the
    // Salesforce secret; writers and the opt-out functions call both vendors.
    const queueTimeout = (key: QueueKey) => Duration.seconds(QUEUES[key].visibilityTimeoutSeconds / 6);

    // With settings activities.verify.nightly the schedule step also runs `verify` over the last
    // days: it then reads the ledger (by key) and Salesforce, and needs minutes, not seconds.
    const verifyNightly = settings.activities.verify.nightly;
    // Types with onLeadDeleted: deleteTask: the schedule step then reads Marketo's deleted-leads
    // feed and deletes those Tasks in Salesforce (minutes for a large feed, not seconds).
    const deletesTasks = settings.activities.types.some((t) => t.enabled && t.onLeadDeleted === 'deleteTask');
    const scheduleActivitySync = new AppFunction(this, 'ScheduleActivitySync', {
      ...common,
      entry: 'schedule-activity-sync',
      description: verifyNightly
        ? 'Starts an activity cycle (claims each stream cursor, enqueues the first page fetches), then verifies the last days read-only'
        : 'Starts an activity cycle: claims each stream cursor and enqueues the first page fetches',
      timeout: verifyNightly
        ? Duration.minutes(10)
        : deletesTasks
          ? Duration.minutes(5)
          : Duration.minutes(1),
    })
      .bindTable('cursors', 'readWrite')
      .bindTable('runs', 'readWrite')
      .bindTable('governor', 'readWrite')
      .bindQueueSend(queues.fetch.queue, QUEUES.fetch.envVar)
      .bindSecret(props.credentialsSecrets.marketo, SECRET_ENV.marketo);
    if (verifyNightly) {
      scheduleActivitySync
        .bindTable('ledger', 'read')
        .bindSecret(props.credentialsSecrets.salesforce, SECRET_ENV.salesforce);
    }

    const fetchActivityPage = new AppFunction(this, 'FetchActivityPage', {
      ...common,
      entry: 'fetch-activity-page',
      description: 'Reads one Marketo activity page, enqueues its activities for writing and the next page',
      timeout: queueTimeout('fetch'),
    })
      .bindTable('cursors', 'readWrite')
      .bindTable('runs', 'readWrite')
      .bindTable('governor', 'readWrite')
      .bindTable('leadCache', 'readWrite') // an export range's people, resolved once per range
      .bindQueueSend(queues.fetch.queue, QUEUES.fetch.envVar)
      .bindQueueSend(queues.write.queue, QUEUES.write.envVar)
      .bindTable('failures', 'update')
      .bindSecret(props.credentialsSecrets.marketo, SECRET_ENV.marketo)
      .bindQueueConsumer(queues.fetch, {
        // One page per invocation: each is one Marketo call, paced by the shared governor.
        batchSize: 1,
        maxConcurrency: props.fetchMaxConcurrency ?? Math.max(2, settings.marketo.maxConcurrent),
      });

    const writeActivityTasks = new AppFunction(this, 'WriteActivityTasks', {
      ...common,
      entry: 'write-activity-tasks',
      description: 'Upserts Salesforce Tasks for a batch of Marketo activities (idempotent on marketoGUID)',
      timeout: queueTimeout('write'),
      memorySize: 512, // peak RSS 189 MB in the 100k bench; it waits on I/O, more CPU only costs more
    })
      .bindTable('ledger', 'readWrite')
      .bindTable('leadCache', 'readWrite')
      .bindTable('runs', 'readWrite')
      .bindTable('governor', 'readWrite')
      .bindTable('staging', 'readWrite')
      .bindTable('failures', 'update')
      .bindQueueSend(queues.flush.queue, QUEUES.flush.envVar)
      .bindSecret(props.credentialsSecrets.marketo, SECRET_ENV.marketo)
      .bindSecret(props.credentialsSecrets.salesforce, SECRET_ENV.salesforce)
      .bindQueueConsumer(queues.write, {
        // Up to 10 messages (≈ 3,000 activities) per invocation, waiting up to 20 s to fill the
        // batch: its Tasks are written in collections of exactly 200 (see write-activity-tasks.ts).
        batchSize: 10,
        maxBatchingWindow: Duration.seconds(20),
        maxConcurrency: props.writeMaxConcurrency ?? 10,
      });

    const flushStagedTasks = new AppFunction(this, 'FlushStagedTasks', {
      ...common,
      entry: 'flush-staged-tasks',
      description:
        'Writes staged Tasks once staging is quiet: one Bulk API 2.0 job (job id persisted, resumed after a restart) or collections',
      // A Bulk job is waited for within one invocation; the flush lease (FLUSH_LEASE_MS) matches.
      timeout: queueTimeout('flush'),
      memorySize: 1024, // peak RSS 154 MB (90k rows); an 80 MB Bulk upload and its rows fit in 1 GB
    })
      .bindTable('staging', 'readWrite')
      .bindTable('ledger', 'readWrite')
      .bindTable('runs', 'readWrite')
      .bindTable('failures', 'update')
      .bindQueueSend(queues.flush.queue, QUEUES.flush.envVar)
      .bindSecret(props.credentialsSecrets.salesforce, SECRET_ENV.salesforce)
      .bindQueueConsumer(queues.flush, {
        // Signals are interchangeable: one flush per batch; one lease holder at a time anyway.
        batchSize: 10,
        maxConcurrency: 2,
      });

    // Issue 10 wiring (activities), one block: the tables the activity steps use beyond the above.
    // Activities waiting for their lead to reach Salesforce: the write step parks them (BatchWrite);
    // the schedule step revisits them (Query, BatchWrite deletes; verify BatchGet) and sends the
    // now-linked ones to the write queue.
    scheduleActivitySync
      .bindTable('pending', 'readWrite')
      .bindQueueSend(queues.write.queue, QUEUES.write.envVar);
    writeActivityTasks.bindTable('pending', 'readWrite');
    // A Task refused for a converted Lead is redirected to its Contact by the flush too, which
    // remembers the conversion in the lead cache (BatchGet, BatchWrite) as the write step does.
    flushStagedTasks.bindTable('leadCache', 'readWrite');
    if (deletesTasks) {
      // The Tasks we wrote per lead: recorded by the writers (BatchWrite), read and removed by the
      // schedule step (Query, BatchWrite deletes; the feed position by Get/Put), which deletes
      // those Tasks in Salesforce and marks them in the ledger (UpdateItem only).
      writeActivityTasks.bindTable('leadTasks', 'readWrite');
      flushStagedTasks.bindTable('leadTasks', 'readWrite');
      scheduleActivitySync.bindTable('leadTasks', 'readWrite').bindTable('ledger', 'update');
      if (!verifyNightly)
        scheduleActivitySync.bindSecret(props.credentialsSecrets.salesforce, SECRET_ENV.salesforce);
    }

    const receiveUnsubscribeWebhook = new AppFunction(this, 'ReceiveUnsubscribeWebhook', {
      ...common,
      entry: 'receive-unsubscribe-webhook',
      description: 'Authenticates and validates an unsubscribe webhook, records it and enqueues it (202)',
      timeout: Duration.seconds(10),
      memorySize: 256,
      ...(props.webhookReservedConcurrency !== undefined && {
        reservedConcurrentExecutions: props.webhookReservedConcurrency,
      }),
    })
      .bindTable('optOuts', 'readWrite')
      // Per-source counters (optOuts.webhookPerSourceLimit): one conditional ADD per request, never a read.
      .bindTable('webhookSources', 'update')
      .bindQueueSend(queues.unsubscribe.queue, QUEUES.unsubscribe.envVar)
      .bindSecret(props.webhookSecret, SECRET_ENV.webhook);

    const applyUnsubscribe = new AppFunction(this, 'ApplyUnsubscribe', {
      ...common,
      entry: 'apply-unsubscribe',
      description: 'Applies accepted webhook unsubscribes to Salesforce (and Marketo)',
      // Up to 1,000 messages per batch (see below): vendor calls per batch, DynamoDB per message.
      timeout: queueTimeout('unsubscribe'),
      memorySize: 1024,
    })
      .bindTable('optOuts', 'readWrite')
      .bindTable('governor', 'readWrite')
      .bindTable('failures', 'update')
      .bindSecret(props.credentialsSecrets.marketo, SECRET_ENV.marketo)
      .bindSecret(props.credentialsSecrets.salesforce, SECRET_ENV.salesforce)
      // A vendor's daily budget spent: the batch parks by re-sending to this same queue (delayed).
      .bindQueueSend(queues.unsubscribe.queue, QUEUES.unsubscribe.envVar)
      // A burst is applied in batches (UNSUBSCRIBE_CONSUMER: the local `serve` uses the same).
      .bindQueueConsumer(queues.unsubscribe, {
        batchSize: UNSUBSCRIBE_CONSUMER.batchSize,
        maxBatchingWindow: Duration.seconds(UNSUBSCRIBE_CONSUMER.maxBatchingWindowSeconds),
        maxConcurrency: UNSUBSCRIBE_CONSUMER.maxConcurrency,
      });

    const reconcileOptOuts = new AppFunction(this, 'ReconcileOptOuts', {
      ...common,
      entry: 'reconcile-optouts',
      description: 'Nightly bidirectional opt-out reconciliation between Marketo and Salesforce',
      timeout: Duration.minutes(15),
      memorySize: 1024,
    })
      .bindTable('optOuts', 'readWrite')
      .bindTable('cursors', 'readWrite')
      .bindTable('runs', 'readWrite')
      .bindTable('governor', 'readWrite')
      .bindSecret(props.credentialsSecrets.marketo, SECRET_ENV.marketo)
      .bindSecret(props.credentialsSecrets.salesforce, SECRET_ENV.salesforce);

    this.functions = {
      scheduleActivitySync,
      fetchActivityPage,
      writeActivityTasks,
      flushStagedTasks,
      receiveUnsubscribeWebhook,
      applyUnsubscribe,
      reconcileOptOuts,
    };

    // Schedules: cron evaluated in the configured IANA zone, so 20:00 stays 20:00 across DST.
    const scheduleOf = (schedule: Settings['activities']['schedule']) => ({
      expression: schedule.cron,
      timeZone: schedule.timeZone,
    });
    scheduleFunction(this, 'ActivitiesSchedule', scheduleActivitySync, {
      job: 'activities',
      description: 'Activity sync: Marketo activities to Salesforce Tasks',
      schedule: scheduleOf(settings.activities.schedule),
      enabled: settings.activities.schedule.enabled,
      deadLetterQueue: props.scheduleDeadLetterQueue,
    });
    scheduleFunction(this, 'OptOutsSchedule', reconcileOptOuts, {
      job: 'optouts',
      description: 'Nightly bidirectional opt-out reconciliation',
      schedule: scheduleOf(settings.optOuts.schedule),
      enabled: settings.optOuts.schedule.enabled,
      deadLetterQueue: props.scheduleDeadLetterQueue,
    });
    // A night longer than one invocation continues within 15 minutes, not at the next night
    // (README "Nightly opt-out reconciliation"); a tick with no open night ends after one read.
    scheduleFunction(this, 'OptOutsContinuationSchedule', reconcileOptOuts, {
      job: OPT_OUT_CONTINUATION_JOB,
      description: 'Continues an open opt-out night that no invocation holds (no-op otherwise)',
      schedule: CONTINUATION_SCHEDULE,
      enabled: settings.optOuts.schedule.enabled,
      deadLetterQueue: props.scheduleDeadLetterQueue,
    });

    // Job 4 (tasks, campaigns): its two scheduled functions and schedules (infra/scheduled-jobs.ts).
    this.salesActivityJobs = addSalesActivityJobs(this, {
      settings,
      tables,
      credentialsSecrets: props.credentialsSecrets,
      scheduleDeadLetterQueue: props.scheduleDeadLetterQueue,
      ...(props.logRetention !== undefined && { logRetention: props.logRetention }),
    });

    // Webhook: HTTP API, one route, throttled stage, access logs without personal data.
    const webhook = addWebhookApi(this, {
      handler: receiveUnsubscribeWebhook,
      ...(props.logRetention !== undefined && { logRetention: props.logRetention }),
      ...(props.webhookThrottle !== undefined && { throttle: props.webhookThrottle }),
    });
    this.api = webhook.api;
    this.apiStage = webhook.stage;
    this.webhookUrl = webhook.url;

    // Alarms: every dead-letter queue, and the age of the oldest message on every main queue.
    this.alarms = new SyncAlarms(this, 'Alarms', props.alarmEmail ? { email: props.alarmEmail } : {});
    const maxAge = props.queueAgeAlarm ?? Duration.minutes(60);
    for (const key of Object.keys(QUEUES) as QueueKey[]) {
      const pair = queues[key];
      this.alarms.deadLetterQueueNotEmpty(
        `${pascal(key)}DeadLetterAlarm`,
        pair.deadLetterQueue,
        `${key} queue`,
      );
      this.alarms.oldestMessageTooOld(`${pascal(key)}QueueAgeAlarm`, pair.queue, `${key} queue`, maxAge);
    }
    this.alarms.deadLetterQueueNotEmpty(
      'ScheduleDeadLetterAlarm',
      props.scheduleDeadLetterQueue,
      'scheduled runs (EventBridge Scheduler, and the async invocations it made that failed)',
    );
    // Every function of this stack, including any added later: found in the construct tree.
    for (const fn of this.node.findAll().filter((c): c is AppFunction => c instanceof AppFunction)) {
      this.alarms.functionErrors(`${fn.node.id}ErrorsAlarm`, fn.function, fn.node.id);
    }
    this.alarms.apiServerErrors('WebhookServerErrorsAlarm', this.api);
    this.alarms.webhookAuthFailures(
      'WebhookAuthFailuresAlarm',
      webhook.accessLogs,
      METRICS_NAMESPACE,
      props.webhookAuthFailureAlarm ?? 20,
    );
    this.alarms.webhookThrottled('WebhookThrottledAlarm', webhook.accessLogs, METRICS_NAMESPACE);
    if (settings.optOuts.webhookPerSourceLimit)
      this.alarms.webhookSourceLimiterFailed(
        'WebhookSourceLimiterFailedAlarm',
        receiveUnsubscribeWebhook.logGroup,
        METRICS_NAMESPACE,
      );
    this.alarms.webhookAcceptedSpike(
      'WebhookAcceptedSpikeAlarm',
      webhook.accessLogs,
      METRICS_NAMESPACE,
      props.webhookAcceptedAlarm ?? DEFAULT_WEBHOOK_ACCEPTED_ALARM,
    );
    if (settings.activities.schedule.enabled)
      this.alarms.jobNotCompleted(
        'ActivitiesNotCompletedAlarm',
        'activities',
        METRICS_NAMESPACE,
        SERVICE_NAME,
      );
    if (settings.optOuts.schedule.enabled)
      this.alarms.jobNotCompleted('OptOutsNotCompletedAlarm', 'optouts', METRICS_NAMESPACE, SERVICE_NAME);
    addSalesActivityJobAlarms(this.alarms, settings);

    new SyncDashboard(this, 'Dashboard', {
      namespace: METRICS_NAMESPACE,
      service: SERVICE_NAME,
      queues,
      scheduleDeadLetterQueue: props.scheduleDeadLetterQueue,
    });

    new CfnOutput(this, 'WebhookUrl', {
      value: this.webhookUrl,
      description: 'POST unsubscribes here with header X-Webhook-Secret (see the webhook secret)',
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      value: this.alarms.topic.topicArn,
      description: 'Subscribe to receive sync alarms',
    });
  }
}

function pascal(key: string): string {
  return key.charAt(0).toUpperCase() + key.slice(1);
}
