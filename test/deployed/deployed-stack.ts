import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { startDynalite } from '../../cli/embedded/local-dynamodb.js';
import { queueArn, sqsClient, startFauxqsOnLoopback } from '../../cli/embedded/local-sqs.js';
import { type SqsEventSource, startSqsEventSource } from '../../cli/embedded/sqs-event-source.js';
import { type GenerateSecretString, generateSecretValue } from '../infra/generated-secret.js';
import { startSecretsManagerServer } from './secrets-manager-server.js';

type Json = unknown;
interface Resource {
  Type: string;
  Properties?: Record<string, Json>;
}
interface Template {
  Resources: Record<string, Resource>;
  Outputs?: Record<string, { Value: Json; Export?: { Name: string } }>;
}

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const HOST = fileURLToPath(new URL('./function-host.mjs', import.meta.url));

/**
 * What each local process gets besides the template's own variables: the endpoints of the
 * emulators, fake credentials they accept, and the variables the Lambda runtime itself sets.
 */
export function platformEnvironment(endpoints: { dynamodb: string; sqs: string; secretsManager: string }) {
  return {
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoints.secretsManager,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
  } as const;
}

/** Names a variable of this project (as opposed to the SDK's, Node's or Powertools' optional ones). */
export const PROJECT_VARIABLE =
  /(_TABLE|_QUEUE_URL|_SECRET_ARN|_SECRET)$|^(MARKETO|SALESFORCE|WEBHOOK|SYNC)_/;

export interface DeployedFunction {
  logicalId: string;
  timeoutSeconds: number;
  env: Record<string, string>;
  invocations: number;
  errors: { name: string; message: string }[];
  /** Lines the function wrote to stdout that are EMF metric documents. */
  metrics: { name: string; dimensions: Record<string, string> }[];
  /** Log lines at ERROR level (JSON logs). */
  errorLogs: string[];
  invoke(event: unknown): Promise<unknown>;
  /** Environment variables the code read so far. */
  reads(): Promise<string[]>;
}

export interface DeployedStack {
  functions: Map<string, DeployedFunction>;
  /** Queue logical id → URL, and the reverse lookups tests need. */
  queueUrls: Map<string, string>;
  tableNames: Map<string, string>;
  secrets: Map<string, string>;
  sqs: SQSClient;
  dynamo: DynamoDBClient;
  schedules: { logicalId: string; functionId: string; input: string }[];
  webhookFunctionId: string;
  webhookRouteKey: string;
  startEventSources(): Promise<SqsEventSource[]>;
  stop(): Promise<void>;
}

/**
 * Creates on the embedded emulators every stateful resource the stateful template declares
 * (tables with key schema, indexes and TTL; queues with visibility timeout and redrive policy;
 * secrets generated per GenerateSecretString, then `fillSecret` as an operator would), and starts
 * every function of the stateless template from its bundled asset in its own Node process with
 * exactly the template's environment (references resolved) plus `platformEnvironment`.
 */
export async function startDeployedStack(options: {
  assembly: CloudAssembly;
  statefulStackName: string;
  statelessStackName: string;
  /** The operator's step: the real value of a secret the template generated (undefined = keep). */
  fillSecret: (logicalId: string, generated: string) => string | undefined;
}): Promise<DeployedStack> {
  const stateful = options.assembly.getStackByName(options.statefulStackName).template as Template;
  const stateless = options.assembly.getStackByName(options.statelessStackName).template as Template;
  const stops: (() => Promise<void>)[] = [];

  const dynalite = await startDynalite();
  stops.push(dynalite.stop);
  const dynamo = new DynamoDBClient({
    endpoint: dynalite.endpoint,
    region: REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const fauxqs = await startFauxqsOnLoopback();
  stops.push(fauxqs.stop);
  const sqs = sqsClient(fauxqs.endpoint);

  // Stateful resources, named by logical id.
  const tableNames = new Map<string, string>();
  const queueUrls = new Map<string, string>();
  const queueArns = new Map<string, string>();
  const secrets = new Map<string, string>();
  const secretArns = new Map<string, string>();
  const entries = Object.entries(stateful.Resources);
  for (const [id, r] of entries.filter(([, r]) => r.Type === 'AWS::DynamoDB::Table')) {
    const p = r.Properties ?? {};
    await dynamo.send(
      new CreateTableCommand({
        TableName: id,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: p.KeySchema,
        AttributeDefinitions: p.AttributeDefinitions,
        ...(p.GlobalSecondaryIndexes ? { GlobalSecondaryIndexes: p.GlobalSecondaryIndexes } : {}),
      } as CreateTableCommandInput),
    );
    const ttl = p.TimeToLiveSpecification as { AttributeName: string; Enabled: boolean } | undefined;
    if (ttl) {
      await dynamo
        .send(new UpdateTimeToLiveCommand({ TableName: id, TimeToLiveSpecification: ttl }))
        .catch((e: Error) => {
          // dynalite does not implement UpdateTimeToLive; the attribute is only a deletion hint.
          if (e.name !== 'UnknownOperationException') throw e;
        });
    }
    tableNames.set(id, id);
  }
  // Dead-letter queues (no redrive policy) first, then the queues that redrive to them.
  const queues = entries.filter(([, r]) => r.Type === 'AWS::SQS::Queue');
  queues.sort(
    ([, a], [, b]) =>
      Number(Boolean(a.Properties?.RedrivePolicy)) - Number(Boolean(b.Properties?.RedrivePolicy)),
  );
  for (const [id, r] of queues) {
    const p = r.Properties ?? {};
    const attributes: Record<string, string> = {};
    if (p.VisibilityTimeout !== undefined) attributes.VisibilityTimeout = String(p.VisibilityTimeout);
    if (p.MessageRetentionPeriod !== undefined)
      attributes.MessageRetentionPeriod = String(p.MessageRetentionPeriod);
    const redrive = p.RedrivePolicy as { deadLetterTargetArn: Json; maxReceiveCount: number } | undefined;
    if (redrive) {
      attributes.RedrivePolicy = JSON.stringify({
        deadLetterTargetArn: resolveStateful(redrive.deadLetterTargetArn),
        maxReceiveCount: redrive.maxReceiveCount,
      });
    }
    const out = await sqs.send(new CreateQueueCommand({ QueueName: id, Attributes: attributes }));
    // fauxqs answers with a `sqs.<region>.localhost` host that does not resolve here; the SDK sends
    // to the queue URL itself (as in AWS), so the URL names the emulator's own address.
    const url = new URL(new URL(out.QueueUrl as string).pathname, fauxqs.endpoint).toString();
    queueUrls.set(id, url);
    queueArns.set(id, await queueArn(sqs, url));
  }
  for (const [id, r] of entries.filter(([, r]) => r.Type === 'AWS::SecretsManager::Secret')) {
    const generate = r.Properties?.GenerateSecretString as GenerateSecretString | undefined;
    if (!generate) throw new Error(`Secret ${id} has no GenerateSecretString: nothing says what it holds`);
    const generated = generateSecretValue(generate);
    const arn = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${id}-AbCdEf`;
    secretArns.set(id, arn);
    secrets.set(arn, options.fillSecret(id, generated) ?? generated);
  }
  const secretsServer = await startSecretsManagerServer(secrets);
  stops.push(secretsServer.stop);

  /** A value of the stateful template (Ref / Fn::GetAtt of its resources) as the local resource. */
  function resolveStateful(value: Json): string {
    const v = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
    if (typeof value === 'string') return value;
    if (v.Ref) {
      const id = v.Ref;
      const found = tableNames.get(id) ?? queueUrls.get(id) ?? secretArns.get(id);
      if (found) return found;
    }
    if (v['Fn::GetAtt']) {
      const [id, attr] = v['Fn::GetAtt'];
      if (attr === 'Arn' && queueArns.has(id)) return queueArns.get(id) as string;
      if (attr === 'QueueUrl' && queueUrls.has(id)) return queueUrls.get(id) as string;
      if (attr === 'QueueName' && queueUrls.has(id)) return id;
      if (attr === 'Arn' && tableNames.has(id)) return `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${id}`;
    }
    throw new Error(`Cannot resolve ${JSON.stringify(value)} to a local resource`);
  }
  const exports = new Map<string, Json>();
  for (const output of Object.values(stateful.Outputs ?? {}))
    if (output.Export) exports.set(output.Export.Name, output.Value);
  /** A value of the stateless template: literals, imports of the stateful stack's exports. */
  function resolve(value: Json): string {
    if (typeof value === 'string') return value;
    const imported = (value as { 'Fn::ImportValue'?: string })['Fn::ImportValue'];
    if (imported !== undefined) {
      const target = exports.get(imported);
      if (target === undefined) throw new Error(`No export ${imported} in the stateful template`);
      return resolveStateful(target);
    }
    throw new Error(`Cannot resolve ${JSON.stringify(value)} in the stateless template`);
  }

  const platform = platformEnvironment({
    dynamodb: dynalite.endpoint,
    sqs: fauxqs.endpoint,
    secretsManager: secretsServer.endpoint,
  });
  const functions = new Map<string, DeployedFunction>();
  for (const [id, r] of Object.entries(stateless.Resources)) {
    if (r.Type !== 'AWS::Lambda::Function') continue;
    const p = r.Properties ?? {};
    const code = p.Code as { S3Key?: string };
    // CDK's own helper functions (custom resources) are not the application's.
    if (!code.S3Key || !(p.Handler === 'index.handler')) continue;
    const variables = (p.Environment as { Variables?: Record<string, Json> } | undefined)?.Variables ?? {};
    const env = Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, resolve(v)]));
    const dir = join(options.assembly.directory, `asset.${code.S3Key.replace(/\.zip$/, '')}`);
    const fn = startFunction(id, dir, Number(p.Timeout ?? 3), Number(p.MemorySize ?? 128), env, platform);
    functions.set(id, await fn);
  }
  stops.push(async () => {
    for (const fn of functions.values()) (fn as DeployedFunction & { kill(): void }).kill();
  });

  const functionOf = (value: Json): string => {
    const text = JSON.stringify(value);
    const id = [...functions.keys()].find((k) => text.includes(`"${k}"`));
    if (!id) throw new Error(`${text} names no application function`);
    return id;
  };
  const schedules = Object.entries(stateless.Resources)
    .filter(([, r]) => r.Type === 'AWS::Scheduler::Schedule')
    .map(([logicalId, r]) => {
      const target = r.Properties?.Target as { Arn: Json; Input: string };
      return { logicalId, functionId: functionOf(target.Arn), input: target.Input };
    });
  const routes = Object.values(stateless.Resources).filter((r) => r.Type === 'AWS::ApiGatewayV2::Route');
  if (routes.length !== 1) throw new Error(`expected one webhook route, found ${routes.length}`);
  const route = routes[0] as Resource;
  const integrationId = JSON.stringify(route.Properties?.Target).match(/"Ref":"(\w+)"/)?.[1] as string;
  const integration = stateless.Resources[integrationId] as Resource;
  if (integration.Properties?.PayloadFormatVersion !== '2.0')
    throw new Error('The webhook integration is not payload format 2.0');

  const eventSources: SqsEventSource[] = [];
  return {
    functions,
    queueUrls,
    tableNames,
    secrets,
    sqs,
    dynamo,
    schedules,
    webhookFunctionId: functionOf(integration.Properties?.IntegrationUri),
    webhookRouteKey: String(route.Properties?.RouteKey),
    async startEventSources() {
      for (const r of Object.values(stateless.Resources)) {
        if (r.Type !== 'AWS::Lambda::EventSourceMapping') continue;
        const p = r.Properties ?? {};
        const arn = resolve(p.EventSourceArn);
        const queueId = [...queueArns].find(([, a]) => a === arn)?.[0] as string;
        const fn = functions.get(functionOf(p.FunctionName)) as DeployedFunction;
        if (!(p.FunctionResponseTypes as string[] | undefined)?.includes('ReportBatchItemFailures'))
          throw new Error(`${fn.logicalId}: event source without ReportBatchItemFailures`);
        const scaling = p.ScalingConfig as { MaximumConcurrency?: number } | undefined;
        eventSources.push(
          await startSqsEventSource({
            client: sqs,
            queueUrl: queueUrls.get(queueId) as string,
            queueArn: arn,
            functionName: fn.logicalId,
            functionTimeoutSeconds: fn.timeoutSeconds,
            batchSize: Number(p.BatchSize ?? 10),
            maxBatchingWindowMs: Number(p.MaximumBatchingWindowInSeconds ?? 0) * 1000,
            concurrency: scaling?.MaximumConcurrency ?? 2,
            handler: async (event) => (await fn.invoke(event)) as undefined,
            logger: { debug: () => undefined, warn: () => undefined, error: () => undefined },
          }),
        );
      }
      return eventSources;
    },
    async stop() {
      await Promise.all(eventSources.map((s) => s.stop()));
      for (const stop of stops.reverse()) await stop().catch(() => undefined);
      dynamo.destroy();
      sqs.destroy();
    },
  };
}

async function startFunction(
  logicalId: string,
  dir: string,
  timeoutSeconds: number,
  memorySize: number,
  env: Record<string, string>,
  platform: Record<string, string>,
): Promise<DeployedFunction & { kill(): void }> {
  const child: ChildProcess = fork(HOST, [join(dir, 'index.mjs'), String(timeoutSeconds)], {
    env: {
      ...env,
      ...platform,
      AWS_LAMBDA_FUNCTION_NAME: logicalId,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memorySize),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const pending = new Map<string, { resolve(v: unknown): void; reject(e: Error): void }>();
  let readsWaiter: ((keys: string[]) => void) | undefined;
  const fn: DeployedFunction & { kill(): void } = {
    logicalId,
    timeoutSeconds,
    env,
    invocations: 0,
    errors: [],
    metrics: [],
    errorLogs: [],
    invoke(event) {
      fn.invocations++;
      const id = randomUUID();
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ type: 'invoke', id, event });
      });
    },
    reads: () =>
      new Promise((resolve) => {
        readsWaiter = resolve;
        child.send({ type: 'reads' });
      }),
    kill: () => child.kill(),
  };
  let buffered = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) recordLine(fn, line);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) recordLine(fn, line);
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.on(
      'message',
      (message: {
        type: string;
        id?: string;
        result?: unknown;
        error?: { name: string; message: string };
        keys?: string[];
      }) => {
        if (message.type === 'ready') resolve();
        else if (message.type === 'coldStartError')
          reject(
            new Error(`${logicalId} failed to cold-start: ${message.error?.name}: ${message.error?.message}`),
          );
        else if (message.type === 'reads') readsWaiter?.(message.keys ?? []);
        else if (message.type === 'result' && message.id) {
          const waiter = pending.get(message.id);
          pending.delete(message.id);
          if (message.error) {
            fn.errors.push(message.error);
            waiter?.reject(Object.assign(new Error(message.error.message), { name: message.error.name }));
          } else waiter?.resolve(message.result);
        }
      },
    );
    child.on('exit', (code) => reject(new Error(`${logicalId} exited with ${code}`)));
  });
  await ready;
  return fn;
}

function recordLine(fn: DeployedFunction, line: string): void {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return;
  }
  const aws = doc._aws as
    | { CloudWatchMetrics?: { Dimensions: string[][]; Metrics: { Name: string }[] }[] }
    | undefined;
  for (const directive of aws?.CloudWatchMetrics ?? []) {
    const dimensions = Object.fromEntries((directive.Dimensions[0] ?? []).map((d) => [d, String(doc[d])]));
    for (const m of directive.Metrics) fn.metrics.push({ name: m.Name, dimensions });
  }
  if (doc.level === 'ERROR') fn.errorLogs.push(String(doc.message));
}
