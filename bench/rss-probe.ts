/**
 * Peak RSS per function, measured on the real bundles: each activity function's esbuild bundle
 * runs in its own `node` process (bench/lambda-host.mjs, one invocation at a time, like a Lambda
 * execution environment) with the stack's environment variables pointed at a fresh embedded
 * default. The schedule function is invoked once; the queue consumers are fed by the embedded
 * SQS event source with the stack's batch sizes until the queues drain. A process's peak RSS
 * (VmHWM, see lambda-host.mjs) is that function's figure.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { type LocalEnvironment, startLocalEnvironment } from '../cli/embedded/local-environment.js';
import {
  DrainTimeoutError,
  drainUntilIdle,
  type SqsEventSource,
  startSqsEventSource,
} from '../cli/embedded/sqs-event-source.js';
import { TABLES, type TableKey } from '../shared/adapters/dynamodb/table-definitions.js';
import { QUEUES, type QueueKey } from '../shared/adapters/sqs/queue-definitions.js';
import type { Settings } from '../shared/config/settings.js';
import { createLogger } from '../shared/observability/logger.js';
import type { LambdaFunctionInfo } from './lambda-functions.js';
import { worldFor } from './pipeline-run.js';

export interface RssFigures {
  entry: string;
  /** Peak RSS of the function's process over its invocations (MB). */
  peakRssMb: number;
  /** RSS peak right after the cold import, before any invocation (MB). */
  initRssMb: number;
  invocations: number;
  errors: number;
  maxDurationMs: number;
  /** false when its queue had not drained by the probe's deadline (figures cover what ran). */
  drained: boolean;
  lastError?: string;
}

/** Queues of the activity pipeline: their consumers are run by the probe. */
const ACTIVITY_QUEUES: readonly string[] = ['fetch', 'write', 'flush'];

interface Reply {
  id: string;
  durationMs: number;
  result: unknown;
  error?: { name?: string; message?: string };
  maxRssKb: number;
}

class LambdaHost {
  private seq = 0;
  private readonly waiting = new Map<string, (r: Reply) => void>();
  private exited: Error | undefined;
  readonly stats = {
    invocations: 0,
    errors: 0,
    maxDurationMs: 0,
    maxRssKb: 0,
    initRssKb: 0,
    lastError: undefined as string | undefined,
  };
  readonly ready: Promise<void>;

  private constructor(
    readonly fn: LambdaFunctionInfo,
    private readonly child: ChildProcess,
  ) {
    this.ready = new Promise((resolve, reject) => {
      this.waiting.set('ready', (r) => {
        this.stats.initRssKb = r.maxRssKb;
        resolve();
      });
      child.once('exit', (code) =>
        reject(new Error(`${fn.entry} host exited (${code}) before it was ready`)),
      );
    });
    // A crashed host fails its pending invocations instead of leaving them waiting.
    child.once('exit', (code, signal) => {
      this.exited = new Error(`${fn.entry} host exited (${code ?? signal})`);
      for (const [id, resolve] of this.waiting)
        resolve({
          id,
          durationMs: 0,
          result: null,
          error: { name: 'HostExited', message: this.exited.message },
          maxRssKb: 0,
        });
      this.waiting.clear();
    });
    child.on('message', (m: Reply) => {
      this.stats.maxRssKb = Math.max(this.stats.maxRssKb, m.maxRssKb);
      this.waiting.get(m.id)?.(m);
      this.waiting.delete(m.id);
    });
  }

  static start(fn: LambdaFunctionInfo, env: Record<string, string>): LambdaHost {
    if (!fn.bundleDir) throw new Error(`${fn.entry} has no bundle`);
    const child = fork(
      fileURLToPath(new URL('./lambda-host.mjs', import.meta.url)),
      [`${fn.bundleDir}/index.mjs`, fn.entry, String(fn.memoryMb), String(fn.timeoutSeconds)],
      // Plain node, not the tsx loader the bench runs under: the bundle alone, as in Lambda.
      { env, execArgv: ['--no-deprecation'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
    );
    return new LambdaHost(fn, child);
  }

  async invoke(event: unknown): Promise<unknown> {
    if (this.exited) throw this.exited;
    const id = String(++this.seq);
    const reply = await new Promise<Reply>((resolve) => {
      this.waiting.set(id, resolve);
      this.child.send({ id, event });
    });
    this.stats.invocations += 1;
    this.stats.maxDurationMs = Math.max(this.stats.maxDurationMs, reply.durationMs);
    if (reply.error) {
      this.stats.errors += 1;
      this.stats.lastError = `${reply.error.name}: ${reply.error.message}`;
      throw new Error(`${this.fn.entry}: ${this.stats.lastError}`);
    }
    return reply.result;
  }

  stop(): void {
    this.child.kill();
  }
}

async function endpointOf(client: {
  config: { endpoint?: () => Promise<{ protocol: string; hostname: string; port?: number }> };
}): Promise<string> {
  const e = await client.config.endpoint?.();
  if (!e) throw new Error('client has no explicit endpoint');
  return `${e.protocol}//${e.hostname}${e.port ? `:${e.port}` : ''}`;
}

/** The stack's variables for `fn`, pointed at the embedded default (credentials from the environment, not Secrets Manager). */
async function envFor(fn: LambdaFunctionInfo, local: LocalEnvironment): Promise<Record<string, string>> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: await endpointOf(local.platform.doc),
    AWS_ENDPOINT_URL_SQS: await endpointOf(local.platform.sqs),
    AWS_LAMBDA_FUNCTION_NAME: fn.entry,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    AWS_LAMBDA_LOG_LEVEL: 'ERROR',
    ...local.credentials,
  };
  const tables = new Map<string, TableKey>(Object.entries(TABLES).map(([k, d]) => [d.envVar, k as TableKey]));
  const queues = new Map<string, QueueKey>(Object.entries(QUEUES).map(([k, d]) => [d.envVar, k as QueueKey]));
  for (const [name, value] of Object.entries(fn.env)) {
    const table = tables.get(name);
    const queue = queues.get(name);
    if (table) env[name] = local.platform.tables[table];
    else if (queue) {
      const url = local.platform.queueUrls[queue];
      // fauxqs names queues under sqs.us-east-1.localhost; the SDK in the bundle sends to the
      // queue URL's host, so point the URL at the SQS endpoint itself.
      if (url) env[name] = `${env.AWS_ENDPOINT_URL_SQS}${new URL(url).pathname}`;
    } else if (name.endsWith('_SECRET_ARN')) continue;
    else if (typeof value === 'string') env[name] = value;
  }
  return env;
}

export interface RssProbeOptions {
  /** Settings compiled into the bundles (the probe's environment uses the same). */
  settings: Settings;
  activities: number;
  seed: number;
  marketoLatencyMs: number;
  salesforceLatencyMs: number;
  timeoutMs: number;
}

/** Runs one back-fill through the bundled activity functions; their peak RSS by entry. */
export async function probeRss(functions: LambdaFunctionInfo[], o: RssProbeOptions): Promise<RssFigures[]> {
  const probed = functions.filter(
    (f) =>
      f.bundleDir &&
      (f.entry === 'schedule-activity-sync' || (f.consumes && ACTIVITY_QUEUES.includes(f.consumes.queue))),
  );
  const logger = createLogger('bench-rss', { logLevel: 'CRITICAL' });
  const local = await startLocalEnvironment({
    settings: o.settings,
    logger,
    env: {},
    world: worldFor(o.activities, o.settings, o.seed),
    marketoSandbox: { latency: { ms: o.marketoLatencyMs } },
    visibilityTimeoutSeconds: { fetch: 120, write: 120 },
  });
  local.salesforceSandbox?.faults.setLatency(o.salesforceLatencyMs);
  const hosts: LambdaHost[] = [];
  const sources: SqsEventSource[] = [];
  const undrained = new Set<string>();
  try {
    for (const fn of probed) hosts.push(LambdaHost.start(fn, await envFor(fn, local)));
    await Promise.all(hosts.map((h) => h.ready));
    const schedule = hosts.find((h) => h.fn.entry === 'schedule-activity-sync');
    if (!schedule) throw new Error('no schedule-activity-sync bundle');
    const queueUrls: string[] = [];
    for (const h of hosts) {
      const consumes = h.fn.consumes;
      const url = consumes ? local.platform.queueUrls[consumes.queue] : undefined;
      if (!consumes || !url) continue;
      queueUrls.push(url);
      sources.push(
        await startSqsEventSource({
          client: local.platform.sqs,
          queueUrl: url,
          handler: async (event: SQSEvent) => (await h.invoke(event)) as SQSBatchResponse,
          batchSize: Math.min(10, consumes.batchSize),
          maxBatchingWindowMs: consumes.maxBatchingWindowMs,
          concurrency: 1,
          logger,
          functionName: h.fn.entry,
        }),
      );
    }
    await schedule.invoke({ source: 'aws.scheduler', 'detail-type': 'Scheduled Event', detail: {} });
    try {
      await drainUntilIdle({
        client: local.platform.sqs,
        queues: queueUrls,
        idleMs: 1_000,
        timeoutMs: o.timeoutMs,
      });
    } catch (err) {
      if (!(err instanceof DrainTimeoutError)) throw err;
      for (const [url, d] of Object.entries(err.depths))
        if (d.visible + d.inFlight + d.delayed > 0) undrained.add(url);
    }
  } finally {
    await Promise.all(sources.map((s) => s.stop()));
    for (const h of hosts) h.stop();
    await local.stop();
  }
  return hosts.map((h) => ({
    entry: h.fn.entry,
    peakRssMb: h.stats.maxRssKb / 1024,
    initRssMb: h.stats.initRssKb / 1024,
    invocations: h.stats.invocations,
    errors: h.stats.errors,
    maxDurationMs: h.stats.maxDurationMs,
    drained: !h.fn.consumes || !undrained.has(local.platform.queueUrls[h.fn.consumes.queue] ?? ''),
    ...(h.stats.lastError ? { lastError: h.stats.lastError } : {}),
  }));
}
