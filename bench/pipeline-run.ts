/**
 * One activity back-fill on the embedded default, instrumented: the real pipeline
 * (cli/commands/activities.ts runActivityCycle: the Lambda handlers over fauxqs + dynalite) against
 * the Marketo sandbox enforcing the documented instance limits and the Salesforce sandbox, both
 * with a per-call latency, while our governor keeps to the configured budget.
 */
import {
  type ActivityCycleSummary,
  runActivityCycle,
  WRITE_BATCH_SIZE,
  WRITE_BATCHING_WINDOW_MS,
} from '../cli/commands/activities.js';
import { startLocalEnvironment } from '../cli/embedded/local-environment.js';
import { createWorld, type World } from '../sandboxes/world.js';
import { DynamoDbCallGovernor } from '../shared/adapters/marketo/dynamodb-call-governor.js';
import type { Settings } from '../shared/config/settings.js';
import { createLogger } from '../shared/observability/logger.js';
import { expectedTasks, reconcile, tasksByActivity } from '../test/helpers/embedded.js';
import { countDynamoDb, countSqs, type DynamoDbUsage, type Invocation, type SqsUsage } from './aws-usage.js';

export interface PipelineOptions {
  settings: Settings;
  /** Activities the back-fill should read (eligible types, in the look-back). */
  activities: number;
  /** Marketo people; default one per 10 activities (the embedded default's ratio). */
  people?: number;
  seed: number;
  /** Rate window of both the sandbox (100 calls) and our governor (settings.marketo.callsPer20s). */
  windowMs: number;
  marketoLatencyMs: number;
  salesforceLatencyMs: number;
  /** Sandbox paging faults: shares of short and empty pages (moreResult still true). */
  shortPages: number;
  emptyPages: number;
  /** Write batching window of the embedded event source (the stack's, so batches fill as in AWS). */
  writeBatchingWindowMs?: number;
  /** Give up after this long (the run is then reported incomplete). */
  timeoutMs: number;
  progress: boolean;
}

export interface PipelineMeasurement {
  summary: ActivityCycleSummary;
  world: { activities: number; people: number; eligible: number };
  /** Epoch ms the cycle started. */
  startedAt: number;
  wallMs: number;
  /** Cycle start → the last fetch page settled: the back-fill's read phase. */
  readMs: number;
  marketo: {
    /** Requests that reached the sandbox, by `METHOD path`, identity excluded. */
    byEndpoint: Record<string, number>;
    identityCalls: number;
    rejected: Record<string, number>;
    maxInWindowObserved: number;
    maxConcurrentObserved: number;
    dailyUsed: number;
    /** Arrival of each counted call (identity excluded), ms after the cycle started. */
    callTimes: number[];
  };
  salesforce: {
    /** API requests by kind, oauth excluded. */
    byKind: Record<string, number>;
    oauth: number;
    /** Records per write call, by kind. */
    recordsPerCall: Record<string, number[]>;
    bulkJobs: number;
  };
  correctness: ReturnType<typeof reconcile>;
  dynamodb: DynamoDbUsage;
  sqs: Omit<SqsUsage, 'invocations'> & { invocations: Invocation[] };
  /** The schedule step (startActivityCycle), run in-process before the consumers start. */
  scheduleMs: number;
}

/** Enabled activity type ids of `settings` that the world has (by id pin or name). */
export function enabledTypeIds(settings: Settings, world: Pick<World, 'activityTypes'>): number[] {
  const byName = new Map(world.activityTypes.map((t) => [t.name.toLowerCase(), t.id]));
  return settings.activities.types.flatMap((t) => {
    if (!t.enabled) return [];
    const id = t.id ?? byName.get(t.name.toLowerCase());
    return id === undefined ? [] : [id];
  });
}

function eligibleCount(world: World, settings: Settings, now: number): number {
  const since = now - settings.activities.lookbackDays * 86_400_000;
  return world.visibleActivities(now, enabledTypeIds(settings, world), since).length;
}

/** A world whose look-back holds about `target` eligible activities (sized from a small sample of the same mix). */
export function worldFor(target: number, settings: Settings, seed: number, people?: number): World {
  const now = Date.now();
  const sample = createWorld({ seed, people: 1000, activities: 20_000, days: 90, now });
  const share = eligibleCount(sample, settings, now) / 20_000;
  const activities = Math.max(1, Math.round(target / share));
  return createWorld({
    seed,
    people: people ?? Math.max(10, Math.round(target / 10)),
    activities,
    days: 90,
    now,
  });
}

export async function runPipeline(o: PipelineOptions): Promise<PipelineMeasurement> {
  const world = worldFor(o.activities, o.settings, o.seed, o.people);
  const logger = createLogger('bench', { logLevel: process.env.LOG_LEVEL ?? 'CRITICAL' });
  const local = await startLocalEnvironment({
    settings: o.settings,
    logger,
    env: {},
    world,
    marketoSandbox: {
      limits: { windowMs: o.windowMs, callsPerWindow: 100, maxConcurrent: 10 },
      latency: { ms: o.marketoLatencyMs },
      paging: { shortPageProbability: o.shortPages, emptyPageProbability: o.emptyPages },
    },
    // Long enough that a fetch waiting for the governor is never redelivered while it waits.
    visibilityTimeoutSeconds: { fetch: 120, write: 120 },
  });
  try {
    const mkto = local.marketoSandbox;
    const sf = local.salesforceSandbox;
    if (!mkto || !sf)
      throw new Error('The benchmark needs both sandboxes (unset MARKETO_* and SALESFORCE_*).');
    sf.faults.setLatency(o.salesforceLatencyMs);
    const eligible = eligibleCount(world, o.settings, Date.now());
    const dynamodb = countDynamoDb(local.platform.doc, local.platform.tables);
    const queues = new Map<string, string>();
    for (const [key, url] of Object.entries(local.platform.queueUrls)) if (url) queues.set(url, key);
    for (const [key, url] of Object.entries(local.dlqUrls)) if (url) queues.set(url, `${key}-dlq`);
    // As runActivityCycle consumes them: fetch one message per invocation, write in batches.
    const sqs = countSqs(
      local.platform.sqs,
      queues,
      new Map([
        ['fetch', { batchSize: 1, windowMs: 0 }],
        [
          'write',
          { batchSize: WRITE_BATCH_SIZE, windowMs: o.writeBatchingWindowMs ?? WRITE_BATCHING_WINDOW_MS },
        ],
      ]),
    );
    const governor = new DynamoDbCallGovernor({
      doc: local.platform.doc,
      tableName: local.platform.tables.governor,
      callsPerWindow: o.settings.marketo.callsPer20s,
      maxConcurrent: o.settings.marketo.maxConcurrent,
      windowMs: o.windowMs,
    });
    mkto.stats.reset();
    sf.stats.reset();

    const started = Date.now();
    const sandboxStarted = mkto.clock.now();
    const summary = await runActivityCycle(local, {
      governor,
      timeoutMs: o.timeoutMs,
      progress: o.progress,
      ...(o.writeBatchingWindowMs !== undefined ? { writeBatchingWindowMs: o.writeBatchingWindowMs } : {}),
    });
    const wallMs = Date.now() - started;
    const firstFetch = sqs.activity.fetch?.firstReceiveAt ?? started;

    const byEndpoint: Record<string, number> = {};
    const rejected: Record<string, number> = {};
    for (const [endpoint, results] of Object.entries(mkto.stats.byEndpoint)) {
      if (endpoint.includes(' /identity/')) continue;
      for (const [result, n] of Object.entries(results)) {
        byEndpoint[endpoint] = (byEndpoint[endpoint] ?? 0) + n;
        if (result !== '200') rejected[result] = (rejected[result] ?? 0) + n;
      }
    }
    const kinds = sf.stats.countByKind();
    const { oauth = 0, ...byKind } = kinds;
    const recordsPerCall: Record<string, number[]> = {};
    for (const kind of ['create', 'update', 'upsert', 'bulkUpload'] as const) {
      const r = sf.stats.recordsPerCall(kind);
      if (r.length) recordsPerCall[kind] = r;
    }
    const embedded = {
      local,
      world,
      settings: o.settings,
      runCycle: () => Promise.reject(new Error('not used')),
      stop: () => local.stop(),
    };
    return {
      summary,
      world: { activities: world.activities.length, people: world.leads.length, eligible },
      startedAt: started,
      wallMs,
      readMs: (sqs.activity.fetch?.lastSettledAt ?? started) - started,
      marketo: {
        byEndpoint,
        identityCalls: mkto.stats.identityCalls,
        rejected,
        maxInWindowObserved: mkto.stats.maxInWindowObserved,
        maxConcurrentObserved: mkto.stats.maxConcurrentObserved,
        dailyUsed: mkto.dailyUsed(),
        callTimes: mkto.stats.requests
          .filter((r) => r.counted && !r.path.startsWith('/identity/'))
          .map((r) => r.at - sandboxStarted),
      },
      salesforce: { byKind, oauth, recordsPerCall, bulkJobs: sf.bulkJobs().length },
      // The cycle read from its start minus the look-back: judge it against the same span.
      correctness: reconcile(
        expectedTasks(embedded, { sinceMs: started - o.settings.activities.lookbackDays * 86_400_000 }),
        tasksByActivity(embedded),
      ),
      dynamodb,
      sqs: {
        requests: sqs.requests,
        billedRequests: sqs.billedRequests,
        emptyReceives: sqs.emptyReceives,
        activity: sqs.activity,
        invocations: sqs.invocations(),
      },
      scheduleMs: firstFetch - started,
    };
  } finally {
    await local.stop();
  }
}
