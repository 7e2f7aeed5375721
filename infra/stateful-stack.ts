import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import {
  TABLES,
  type TableDefinition,
  type TableKey,
} from '../shared/adapters/dynamodb/table-definitions.js';
import { QUEUES, type QueueKey } from '../shared/adapters/sqs/queue-definitions.js';
import { QueueWithDeadLetter } from './queue-with-dead-letter.js';

/** Keys of the credentials secret; the same names the CLI reads from the environment. */
export const CREDENTIAL_KEYS = [
  'MARKETO_BASE_URL',
  'MARKETO_CLIENT_ID',
  'MARKETO_CLIENT_SECRET',
  'SALESFORCE_LOGIN_URL',
  'SALESFORCE_CLIENT_ID',
  'SALESFORCE_CLIENT_SECRET',
] as const;

/** Placeholder the user replaces; functions fail with an auth error until then. */
export const CREDENTIAL_PLACEHOLDER = 'REPLACE_ME';

/**
 * Tables whose loss would cost more than a re-sync: the Task ledger (duplicate protection),
 * opt-out state and history (an opt-out is never lost), and cursors (a lost cursor means a
 * full look-back re-read, paid in Marketo API quota). Kept when the stack is deleted.
 */
const RETAINED_TABLES: ReadonlySet<TableKey> = new Set(['ledger', 'optOuts', 'cursors']);

export interface SyncStatefulStackProps extends StackProps {
  /** Overrides every queue definition's receive count before dead-lettering. */
  readonly maxReceiveCount?: number;
}

/**
 * Everything that holds data: DynamoDB tables (from the shared TABLES list), queues with their
 * dead-letter queues (from QUEUES) and the two secrets. Deployed apart from the code so a
 * function change never risks state.
 */
export class SyncStatefulStack extends Stack {
  readonly tables: Readonly<Record<TableKey, Table>>;
  readonly queues: Readonly<Record<QueueKey, QueueWithDeadLetter>>;
  /** Marketo and Salesforce credentials (JSON, keys in CREDENTIAL_KEYS). */
  readonly credentialsSecret: Secret;
  /** Webhook shared secret, JSON `{ "current": "...", "previous": "..." }` for rotation without downtime. */
  readonly webhookSecret: Secret;
  /** Where EventBridge Scheduler puts an invocation it could not deliver after its retries. */
  readonly scheduleDeadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: SyncStatefulStackProps = {}) {
    super(scope, id, props);

    const tables = {} as Record<TableKey, Table>;
    for (const [key, def] of Object.entries(TABLES) as [TableKey, TableDefinition][]) {
      tables[key] = this.createTable(key, def);
    }
    this.tables = tables;

    const queues = {} as Record<QueueKey, QueueWithDeadLetter>;
    for (const key of Object.keys(QUEUES) as QueueKey[]) {
      queues[key] = new QueueWithDeadLetter(this, `${pascal(key)}Queue`, {
        definition: QUEUES[key],
        ...(props.maxReceiveCount !== undefined && { maxReceiveCount: props.maxReceiveCount }),
      });
      new CfnOutput(this, `${pascal(key)}QueueUrl`, {
        value: queues[key].queue.queueUrl,
        description: `${QUEUES[key].envVar}: the ${key} queue`,
      });
      new CfnOutput(this, `${pascal(key)}DeadLetterQueueUrl`, {
        value: queues[key].deadLetterQueue.queueUrl,
        description: `Dead-letter queue of the ${key} queue (inspect, then redrive from the SQS console)`,
      });
    }
    this.queues = queues;

    this.scheduleDeadLetterQueue = new Queue(this, 'ScheduleDeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.scheduleDeadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself a dead-letter queue (EventBridge Scheduler target DLQ); it is alarmed on depth > 0.',
    });
    new CfnOutput(this, 'ScheduleDeadLetterQueueUrl', {
      value: this.scheduleDeadLetterQueue.queueUrl,
      description: 'Scheduled runs EventBridge Scheduler could not deliver after its retries',
    });

    this.credentialsSecret = new Secret(this, 'CredentialsSecret', {
      description:
        'Marketo and Salesforce API credentials for the sync. Replace every REPLACE_ME value (and the generated MARKETO_CLIENT_SECRET) with the real ones.',
      generateSecretString: {
        secretStringTemplate: JSON.stringify(
          Object.fromEntries(
            CREDENTIAL_KEYS.filter((k) => k !== 'MARKETO_CLIENT_SECRET').map((k) => [
              k,
              CREDENTIAL_PLACEHOLDER,
            ]),
          ),
        ),
        generateStringKey: 'MARKETO_CLIENT_SECRET',
        excludePunctuation: true,
      },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.credentialsSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Third-party API credentials (Marketo client secret, Salesforce consumer secret) are issued by those vendors; a Lambda rotator cannot mint them. Rotate them in Marketo/Salesforce and update the secret (README).',
    });

    this.webhookSecret = new Secret(this, 'WebhookSecret', {
      description:
        'Shared secret expected in the X-Webhook-Secret header. Rotate by moving "current" to "previous", setting a new "current", then updating the sender.',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ previous: '' }),
        generateStringKey: 'current',
        excludePunctuation: true,
        passwordLength: 48,
      },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.webhookSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The webhook secret is also configured in the sender (Marketo webhook header), so rotation is a coordinated manual step: the {current, previous} shape lets both values be accepted during the change.',
    });

    new CfnOutput(this, 'CredentialsSecretArn', {
      value: this.credentialsSecret.secretArn,
      description: 'SYNC_SECRET_ARN: fill in the Marketo and Salesforce credentials here',
    });
    new CfnOutput(this, 'WebhookSecretArn', {
      value: this.webhookSecret.secretArn,
      description: 'WEBHOOK_SECRET_ARN: read "current" and put it in the sender\'s X-Webhook-Secret header',
    });
  }

  private createTable(key: TableKey, def: TableDefinition): Table {
    const table = new Table(this, `${pascal(key)}Table`, {
      partitionKey: { name: def.partitionKey, type: AttributeType.STRING },
      ...(def.sortKey !== undefined && { sortKey: { name: def.sortKey, type: AttributeType.STRING } }),
      ...(def.ttlAttribute !== undefined && { timeToLiveAttribute: def.ttlAttribute }),
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RETAINED_TABLES.has(key) ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    new CfnOutput(this, `${pascal(key)}TableName`, {
      value: table.tableName,
      description: `${def.envVar}: the ${key} table`,
    });
    return table;
  }
}

function pascal(key: string): string {
  return key.charAt(0).toUpperCase() + key.slice(1);
}
