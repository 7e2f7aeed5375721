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
import { VENDOR_CREDENTIAL_KEYS, type Vendor } from '../shared/runtime/credentials.js';
import { QueueWithDeadLetter } from './queue-with-dead-letter.js';

/** Keys of each vendor's credentials secret; the same names the CLI reads from the environment. */
export const CREDENTIAL_KEYS = VENDOR_CREDENTIAL_KEYS;

/** Placeholder the user replaces; functions fail with an auth error until then. */
export const CREDENTIAL_PLACEHOLDER = 'REPLACE_ME';

/**
 * Tables whose loss would cost more than a re-sync: the Task ledger (duplicate protection),
 * opt-out state and history (an opt-out is never lost), and cursors (a lost cursor means a
 * full look-back re-read, paid in Marketo API quota), and staged Tasks (accepted, not yet written:
 * the cursors have moved past them). Kept when the stack is deleted.
 */
const RETAINED_TABLES: ReadonlySet<TableKey> = new Set(['ledger', 'optOuts', 'cursors', 'staging']);

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
  /**
   * One secret per vendor (JSON, keys in CREDENTIAL_KEYS[vendor]), so each function is granted only
   * the vendor it calls: the activity fetch steps never hold the Salesforce secret.
   */
  readonly credentialsSecrets: Readonly<Record<Vendor, Secret>>;
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

    this.credentialsSecrets = {
      marketo: this.createCredentialsSecret('marketo', {
        label: 'Marketo',
        generatedKey: 'MARKETO_CLIENT_SECRET',
        issuer: "Marketo (Admin → LaunchPoint, the API-only user's custom service)",
      }),
      salesforce: this.createCredentialsSecret('salesforce', {
        label: 'Salesforce',
        generatedKey: 'SALESFORCE_CLIENT_SECRET',
        issuer: "Salesforce (the External Client App's consumer secret)",
      }),
    };

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

    new CfnOutput(this, 'WebhookSecretArn', {
      value: this.webhookSecret.secretArn,
      description: 'WEBHOOK_SECRET_ARN: read "current" and put it in the sender\'s X-Webhook-Secret header',
    });
  }

  private createCredentialsSecret(
    vendor: Vendor,
    { label, generatedKey, issuer }: { label: string; generatedKey: string; issuer: string },
  ): Secret {
    const keys: readonly string[] = CREDENTIAL_KEYS[vendor];
    const secret = new Secret(this, `${label}CredentialsSecret`, {
      description: `${label} API credentials for the sync (${keys.join(', ')}). Replace every ${CREDENTIAL_PLACEHOLDER} value and the generated ${generatedKey} with the real ones.`,
      generateSecretString: {
        secretStringTemplate: JSON.stringify(
          Object.fromEntries(keys.filter((k) => k !== generatedKey).map((k) => [k, CREDENTIAL_PLACEHOLDER])),
        ),
        generateStringKey: generatedKey,
        excludePunctuation: true,
      },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: `The ${label} client secret is issued by ${issuer}, not by AWS, so a Secrets Manager rotation Lambda cannot mint a new one. Rotate it there, then put the new value in this secret (salesforce/README.md step 4).`,
    });
    new CfnOutput(this, `${label}CredentialsSecretArn`, {
      value: secret.secretArn,
      description: `${label} credentials (${keys.join(', ')}): fill them in here`,
    });
    return secret;
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
