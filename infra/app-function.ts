import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  ApplicationLogLevel,
  Architecture,
  LoggingFormat,
  Runtime,
  SystemLogLevel,
  Tracing,
} from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { TABLES, type TableKey } from '../shared/adapters/dynamodb/table-definitions.js';
import type { Settings } from '../shared/config/settings.js';
import type { QueueWithDeadLetter } from './queue-with-dead-letter.js';

/** Repository root: functions are bundled from `functions/<entry>.ts` with the root lock file. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Lets CommonJS dependencies (jsforce, some SDK internals) call `require` inside an ESM bundle. */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __syncCreateRequire } from 'node:module'; const require = __syncCreateRequire(import.meta.url);";

/**
 * Packages replaced at bundle time by a stand-in under infra/bundle-shims/ (each file says why the
 * original is dead code on Node). whatwg-url: node-fetch 2 (under jsforce) uses Node's own URL.
 */
export const BUNDLE_ALIASES: Readonly<Record<string, string>> = {
  '--alias:whatwg-url': `${PROJECT_ROOT}infra/bundle-shims/whatwg-url.mjs`,
};

export const SERVICE_NAME = 'marketo-sf-sync';
/** CloudWatch namespace of the code's metrics (shared/observability/metrics.ts) and the stack's metric filters. */
export const METRICS_NAMESPACE = 'MarketoSalesforceSync';

/**
 * Least-privilege action sets, exactly the item operations the stores send (Get, BatchGet, Query;
 * Put, Update, BatchWrite). `read` never includes a write. No Scan: no function may enumerate a
 * table of personal data (the CLI's status/verify scan with the operator's own credentials). No
 * DeleteItem, DescribeTable or ConditionCheckItem: nothing deletes single items, describes tables
 * or runs transactions.
 */
export const TABLE_ACTIONS = {
  read: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
  readWrite: [
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:Query',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:BatchWriteItem',
  ],
  /** Update-only: add to an item without reading the table (the failures table, from every consumer). */
  update: ['dynamodb:UpdateItem'],
} as const;

export type TableAccess = keyof typeof TABLE_ACTIONS;

export interface AppFunctionProps {
  /** File name under `functions/` without extension, e.g. `fetch-activity-page`. */
  readonly entry: string;
  readonly description: string;
  /** The validated settings document, compiled into the bundle as `process.env.SYNC_SETTINGS_JSON`. */
  readonly settings: Settings;
  /** Tables `bindTable` may bind, by key. */
  readonly tables?: Readonly<Partial<Record<TableKey, ITable>>>;
  /** @default 30 seconds */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default one month */
  readonly logRetention?: RetentionDays;
  /** @default - none (the account's unreserved pool) */
  readonly reservedConcurrentExecutions?: number;
  /** Extra environment variables (the bind* helpers add the resource ones). */
  readonly environment?: Readonly<Record<string, string>>;
}

/**
 * One Lambda function with this project's runtime defaults: Node.js 24 on arm64, an ESM bundle
 * (minified, source maps, settings inlined), JSON logs in its own log group with retention,
 * X-Ray tracing, and a role that starts with nothing but its own log group. Every other
 * permission comes through a `bind*` helper, which sets the environment variable the code
 * reads and grants exactly the actions that code needs on exactly that resource.
 */
export class AppFunction extends Construct {
  /** Its file under `functions/`, without extension. */
  readonly entry: string;
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;
  private readonly tables: Readonly<Partial<Record<TableKey, ITable>>>;

  constructor(scope: Construct, id: string, props: AppFunctionProps) {
    super(scope, id);
    this.entry = props.entry;
    this.tables = props.tables ?? {};

    this.logGroup = new LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Runtime role of ${props.entry}: only what its bind* calls granted`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: `${PROJECT_ROOT}functions/${props.entry}.ts`,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(30),
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      applicationLogLevelV2: ApplicationLogLevel.INFO,
      systemLogLevelV2: SystemLogLevel.WARN,
      tracing: Tracing.ACTIVE,
      ...(props.reservedConcurrentExecutions !== undefined && {
        reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      }),
      environment: {
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        platform: 'node',
        mainFields: ['module', 'main'],
        minify: true,
        sourceMap: true,
        // Pinned, not the runtime's copy (which AWS updates on its own schedule): README "Function bundles".
        bundleAwsSDK: true,
        banner: ESM_REQUIRE_BANNER,
        esbuildArgs: BUNDLE_ALIASES,
        // A JS string literal: the settings JSON. No env-var size limit, nothing to read at cold start.
        define: { 'process.env.SYNC_SETTINGS_JSON': JSON.stringify(JSON.stringify(props.settings)) },
      },
    });

    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords do not support resource-level permissions.',
    });
  }

  /** Sets the table's env var (TABLES[key].envVar) and grants `read`, `readWrite` or `update` item actions on that table only. */
  bindTable(key: TableKey, access: TableAccess): this {
    const table = this.tables[key];
    if (!table)
      throw new Error(`AppFunction ${this.node.path}: no "${key}" table was passed in props.tables.`);
    this.function.addEnvironment(TABLES[key].envVar, table.tableName);
    this.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: [...TABLE_ACTIONS[access]], resources: [table.tableArn] }),
    );
    return this;
  }

  /** Sets `envVar` to the queue URL and grants sqs:SendMessage (batches included) on that queue only. */
  bindQueueSend(queue: IQueue, envVar: string): this {
    this.function.addEnvironment(envVar, queue.queueUrl);
    this.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }),
    );
    queue.encryptionMasterKey?.grantEncrypt(this.role);
    return this;
  }

  /** Sets `envVar` to the secret ARN and grants secretsmanager:GetSecretValue on that secret only. */
  bindSecret(secret: ISecret, envVar: string): this {
    this.function.addEnvironment(envVar, secret.secretArn);
    this.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secret.secretArn] }),
    );
    secret.encryptionKey?.grantDecrypt(this.role);
    return this;
  }

  /**
   * Consumes the queue with partial batch responses (a failed record is retried alone, then
   * dead-lettered). Refuses a queue whose visibility timeout is under 6 × the function timeout,
   * AWS's rule against redelivering a message that is still being processed.
   */
  bindQueueConsumer(
    queue: QueueWithDeadLetter,
    options: { batchSize: number; maxConcurrency?: number; maxBatchingWindow?: Duration },
  ): this {
    const timeoutSeconds = this.function.timeout?.toSeconds() ?? 3;
    if (queue.definition.visibilityTimeoutSeconds < 6 * timeoutSeconds) {
      throw new Error(
        `Queue ${queue.definition.localName}: visibility timeout ${queue.definition.visibilityTimeoutSeconds}s is under 6 × the ${timeoutSeconds}s timeout of ${this.node.path}; raise it in queue-definitions.ts or shorten the timeout.`,
      );
    }
    this.function.addEventSource(
      new SqsEventSource(queue.queue, {
        batchSize: options.batchSize,
        reportBatchItemFailures: true,
        ...(options.maxConcurrency !== undefined && { maxConcurrency: options.maxConcurrency }),
        ...(options.maxBatchingWindow !== undefined && { maxBatchingWindow: options.maxBatchingWindow }),
      }),
    );
    return this;
  }
}
