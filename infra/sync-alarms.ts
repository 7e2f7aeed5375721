import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  type AlarmProps,
  ComparisonOperator,
  type IAlarmAction,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { FilterPattern, type IFilterPattern, type ILogGroup } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULT_DIMENSION, type Job, METRICS } from '../shared/observability/metrics.js';

export interface SyncAlarmsProps {
  /** Subscribed to the topic when set. */
  readonly email?: string;
}

/**
 * The alarm topic (KMS-encrypted with a key CloudWatch may use, TLS-only) and helpers that add
 * alarms publishing to it. A dead-lettered message is always an alarm: it is work the sync
 * accepted and did not finish.
 */
export class SyncAlarms extends Construct {
  readonly topic: Topic;
  readonly key: Key;
  private readonly action: IAlarmAction;

  constructor(scope: Construct, id: string, props: SyncAlarmsProps = {}) {
    super(scope, id);
    this.key = new Key(this, 'TopicKey', {
      description: 'Encrypts the sync alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // CloudWatch alarms publish to an encrypted topic only if they may use its key.
    this.key.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new Topic(this, 'Topic', {
      displayName: 'Marketo-Salesforce sync alarms',
      masterKey: this.key,
      enforceSSL: true,
    });
    if (props.email) this.topic.addSubscription(new EmailSubscription(props.email));
    this.action = new SnsAction(this.topic);
  }

  /** An alarm that notifies the topic when it fires and when it is OK again. */
  private notifying(id: string, props: AlarmProps): Alarm {
    const alarm = new Alarm(this, id, props);
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    return alarm;
  }

  /** Alarm on any error of the function in 5 minutes (a throw, a timeout, a crash; each failed SQS batch). */
  functionErrors(id: string, fn: IFunction, what: string): Alarm {
    return this.notifying(id, {
      alarmDescription: `${what}: the function failed (error, timeout or crash). Read its log group for the error; a configuration error names the secret key to fix.`,
      metric: fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }

  /** Alarm on any 5xx of the API in 5 minutes: a crash, or a misconfigured webhook secret (503). */
  apiServerErrors(id: string, api: IHttpApi): Alarm {
    return this.notifying(id, {
      alarmDescription:
        'Webhook API answered 5xx: Marketo does not retry webhooks, so those unsubscribes wait for the nightly reconcile. 503 = the webhook secret is malformed (see the receiver log); 500 = DynamoDB/SQS errors.',
      metric: api.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }

  /**
   * Log lines matching `pattern`, counted by a metric filter on `logGroup`, alarming at `threshold`
   * in 5 minutes.
   */
  private logCountAlarm(
    id: string,
    logGroup: ILogGroup,
    namespace: string,
    alarm: { metricName: string; pattern: IFilterPattern; threshold: number; description: string },
  ): Alarm {
    const { metricName, threshold } = alarm;
    logGroup.addMetricFilter(`${id}Filter`, {
      filterPattern: alarm.pattern,
      metricNamespace: namespace,
      metricName,
      metricValue: '1',
      defaultValue: 0,
    });
    return this.notifying(id, {
      alarmDescription: alarm.description,
      metric: new Metric({ namespace, metricName, period: Duration.minutes(5), statistic: 'Sum' }),
      threshold,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }

  /** Webhook answers with some HTTP statuses, counted from the API access log (`status` field). */
  private webhookStatusAlarm(
    id: string,
    accessLogs: ILogGroup,
    namespace: string,
    alarm: { metricName: string; statuses: readonly string[]; threshold: number; description: string },
  ): Alarm {
    const [first, ...more] = alarm.statuses.map((status) =>
      FilterPattern.stringValue('$.status', '=', status),
    );
    if (!first) throw new Error(`Alarm ${id} names no HTTP status to count.`);
    return this.logCountAlarm(id, accessLogs, namespace, {
      ...alarm,
      pattern: more.length ? FilterPattern.any(first, ...more) : first,
    });
  }

  /**
   * The per-source limiter's store failed and the intake let requests through unthrottled
   * (fail-open, logged `sourceLimiterFailed: true` by the intake function).
   */
  webhookSourceLimiterFailed(id: string, intakeLogs: ILogGroup, namespace: string): Alarm {
    return this.logCountAlarm(id, intakeLogs, namespace, {
      metricName: 'WebhookSourceLimiterFailed',
      pattern: FilterPattern.booleanValue('$.sourceLimiterFailed', true),
      threshold: 1,
      description:
        'The webhook per-source limiter could not reach its DynamoDB table (webhookSources): requests are let through unthrottled (fail-open). Check the intake function log for the error and the table; the stage throttle still bounds all sources together.',
    });
  }

  /** A spike of 401/403 answers (someone probing the webhook, or a sender with a stale secret after a rotation). */
  webhookAuthFailures(id: string, accessLogs: ILogGroup, namespace: string, threshold: number): Alarm {
    return this.webhookStatusAlarm(id, accessLogs, namespace, {
      metricName: 'WebhookAuthFailures',
      statuses: ['401', '403'],
      threshold,
      description: `Webhook refused at least ${threshold} requests with 401/403 in 5 minutes: someone is probing it, or the sender's X-Webhook-Secret is stale (a rotation not finished).`,
    });
  }

  /**
   * Any 429 answer of the webhook (the stage throttle, or `optOuts.webhookPerSourceLimit`): Marketo
   * does not retry a refused webhook, so each 429 is an unsubscribe that waits for the nightly
   * reconcile (or a flood being held off).
   */
  webhookThrottled(id: string, accessLogs: ILogGroup, namespace: string): Alarm {
    return this.webhookStatusAlarm(id, accessLogs, namespace, {
      metricName: 'WebhookThrottled',
      statuses: ['429'],
      threshold: 1,
      description:
        'Webhook answered 429 (stage throttle or optOuts.webhookPerSourceLimit): Marketo does not retry, so those unsubscribes wait for the nightly reconcile. If a real campaign was refused, raise the limit (README runbook, "Webhook 429s"); if not, someone is flooding the webhook.',
    });
  }

  /**
   * Many accepted (202) webhooks in 5 minutes: a sending campaign's normal unsubscribes stay far
   * below, a leaked webhook secret used to opt people out in bulk does not.
   */
  webhookAcceptedSpike(id: string, accessLogs: ILogGroup, namespace: string, threshold: number): Alarm {
    return this.webhookStatusAlarm(id, accessLogs, namespace, {
      metricName: 'WebhookAccepted',
      statuses: ['202'],
      threshold,
      description: `Webhook accepted at least ${threshold} unsubscribes in 5 minutes: if no campaign explains it, the webhook secret may have leaked. Rotate it (README, "Rotating the webhook secret"), set optOuts.webhookAllowedSources, and review the opt-out history of the people affected.`,
    });
  }

  /**
   * "The nightly run did not complete": no JobCompleted metric for `job` (emitted by the code,
   * shared/observability/metrics.ts) within `withinDays` days (at most 7, CloudWatch's longest
   * evaluation range). Missing data is breaching.
   */
  jobNotCompleted(id: string, job: Job, namespace: string, service: string, withinDays = 1): Alarm {
    return this.notifying(id, {
      alarmDescription: `The ${job} job did not complete in the last ${withinDays === 1 ? '24 hours' : `${withinDays} days`} (no ${METRICS.jobCompleted.name} metric): check the function errors, the schedule dead-letter queue and the runs table.`,
      metric: new Metric({
        namespace,
        metricName: METRICS.jobCompleted.name,
        dimensionsMap: { [DEFAULT_DIMENSION]: service, [METRICS.jobCompleted.dimension]: job },
        period: Duration.days(1),
        statistic: 'Sum',
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      // Daily periods (CloudWatch's longest useful one); a weekly job alarms when all 7 are empty.
      evaluationPeriods: withinDays,
      ...(withinDays > 1 && { datapointsToAlarm: withinDays }),
      treatMissingData: TreatMissingData.BREACHING,
    });
  }

  /** Alarm as soon as one message is in the dead-letter queue. */
  deadLetterQueueNotEmpty(id: string, queue: IQueue, what: string): Alarm {
    return this.notifying(id, {
      alarmDescription: `${what}: messages in the dead-letter queue. Inspect them, fix the cause, then redrive from the SQS console.`,
      metric: queue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }

  /** Alarm when the oldest message has waited longer than `maxAge`: consumers are stuck or throttled. */
  oldestMessageTooOld(id: string, queue: IQueue, what: string, maxAge: Duration): Alarm {
    return this.notifying(id, {
      alarmDescription: `${what}: oldest message older than ${maxAge.toMinutes()} minutes. Check the consumer's errors and throttles.`,
      metric: queue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      threshold: maxAge.toSeconds(),
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }
}
