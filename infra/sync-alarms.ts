import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, type IAlarmAction, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

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

  /** Alarm as soon as one message is in the dead-letter queue. */
  deadLetterQueueNotEmpty(id: string, queue: IQueue, what: string): Alarm {
    const alarm = new Alarm(this, id, {
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
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    return alarm;
  }

  /** Alarm when the oldest message has waited longer than `maxAge`: consumers are stuck or throttled. */
  oldestMessageTooOld(id: string, queue: IQueue, what: string, maxAge: Duration): Alarm {
    const alarm = new Alarm(this, id, {
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
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    return alarm;
  }
}
