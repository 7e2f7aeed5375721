import type { SQSRecord } from 'aws-lambda';
import type { ActivityDeps } from '../../shared/activities/activity-deps.js';
import { flushUntilEmpty } from '../../shared/activities/bulk-flush.js';
import { deleteTasksOfDeletedLeadsForRun } from '../../shared/activities/delete-tasks-of-deleted-leads.js';
import { startActivityCycle } from '../../shared/activities/start-activity-cycle.js';
import type { CallGovernor } from '../../shared/adapters/marketo/call-governor.js';
import { SqsVisibilityDeferrer } from '../../shared/adapters/sqs/sqs-visibility-deferrer.js';
import type { RunReport } from '../../shared/domain/run-report.js';
import { createFetchActivityPage, createWriteActivityTasks } from '../../shared/runtime/activity-handlers.js';
import { activityDeps, marketoGovernor, vendorClients } from '../../shared/runtime/activity-runtime.js';
import { failureRecorderFor } from '../../shared/runtime/failure-recorder.js';
import type { LocalEnvironment } from '../embedded/local-environment.js';
import { queueArn } from '../embedded/local-sqs.js';
import { drainUntilIdle, startSqsEventSource } from '../embedded/sqs-event-source.js';
import { formatProgress, type ProgressSample } from '../progress.js';

/** Write queue messages per handler invocation (the Lambda event source uses the same). */
export const WRITE_BATCH_SIZE = 10;
/** Write invocations at once in the CLI (AWS: the write function's maxConcurrency). */
export const WRITE_CONCURRENCY = 4;
/** How long a write invocation waits to fill its batch (Lambda: MaximumBatchingWindowInSeconds). */
export const WRITE_BATCHING_WINDOW_MS = 500;

export interface ActivityCycleOptions {
  /** Print a progress line to stderr while the cycle runs (on a terminal). */
  progress?: boolean;
  /** Give up waiting for the queues to drain after this long (default 30 min). */
  timeoutMs?: number;
  fetchConcurrency?: number;
  writeConcurrency?: number;
  /** Write batching window (default WRITE_BATCHING_WINDOW_MS; the benchmark uses the stack's). */
  writeBatchingWindowMs?: number;
  /** Test hooks: simulate a crash after a handler's side effects, before SQS deletes the messages. */
  beforeDelete?: {
    fetch?: (records: SQSRecord[]) => Promise<void>;
    write?: (records: SQSRecord[]) => Promise<void>;
  };
  /** Governor override (tests use a shorter window). */
  governor?: CallGovernor;
  /**
   * Replay (`sync activities --since T [--types a,b]`): read every stream from `since` (only the
   * named types when given). Idempotent by construction: Tasks are upserted on marketoGUID (or
   * through the ledger), so nothing already written is written twice or re-created.
   */
  replay?: { since: Date; types?: string[] };
  /** Test hook: wrap the pipeline's dependencies (e.g. to crash one step once). */
  wrapDeps?: (deps: ActivityDeps) => ActivityDeps;
}

export interface ActivityCycleSummary {
  command: 'activities';
  runId: string;
  status: 'completed' | 'incomplete';
  read: number;
  written: number;
  created: number;
  updated: number;
  skipped: Record<string, number>;
  failed: number;
  retried: number;
  calls: { marketo: number; salesforce: number };
  durationMs: number;
  streams: { streamKey: string; status: string; windows: number; from: string; until: string }[];
  deadLetters: { fetch: number; write: number };
  /** Activities waiting for their person to reach Salesforce, and those written now that they have. */
  pending: { people: number; activities: number; requeued: number };
  /** onLeadDeleted = deleteTask: leads Marketo deleted, and our Tasks of theirs deleted now. */
  deletions: { leads: number; tasksDeleted: number; failed: number };
  /** Enabled optional activity types this Marketo instance lacks (skipped). */
  typesMissing: string[];
  /** How each enabled type was matched to the instance's catalogue (id, and by what). */
  catalogue: { setting: string; id: number; by: string; instanceName: string }[];
  /** Bulk API 2.0 jobs this run created (large cycles; 0 when every Task went through collections). */
  bulkJobs?: number;
  /** Salesforce daily API use after the run, when the org reported it. */
  salesforceApiUsage?: { used: number; limit: number };
}

/**
 * One complete activity cycle on the embedded default: the schedule step, then the SAME handlers
 * the Lambda functions run, fed by a local SQS event source, until both queues are empty.
 */
export async function runActivityCycle(
  local: LocalEnvironment,
  options: ActivityCycleOptions = {},
): Promise<ActivityCycleSummary> {
  const started = Date.now();
  const { platform } = local;
  const clients = vendorClients(platform, local.credentials, options.governor ?? marketoGovernor(platform));
  // No flush signals locally: the cycle flushes staged Tasks itself once the queues drain.
  const { flush: _signalledInAwsOnly, ...queueUrls } = platform.queueUrls;
  const built = activityDeps({ ...platform, queueUrls }, clients);
  const deps = options.wrapDeps ? options.wrapDeps(built) : built;
  const fetchUrl = platform.queueUrls.fetch!;
  const writeUrl = platform.queueUrls.write!;

  // A stream still owned by an earlier run continues from its queued pages; with nothing queued
  // (the earlier process died with its work), this run takes the stream over from its watermark.
  const pendingFetch = await local.queueDepth('fetch');
  const queued = pendingFetch.visible + pendingFetch.inFlight + pendingFetch.delayed > 0;
  const cycle = await startActivityCycle(deps, {
    ...(queued ? {} : { takeOverAfterMs: 0 }),
    ...(options.replay ? { since: options.replay.since } : {}),
    ...(options.replay?.types ? { types: options.replay.types } : {}),
  });
  // onLeadDeleted: deleteTask (seed 002): Tasks of leads Marketo deleted since the last run go.
  const deletions = await deleteTasksOfDeletedLeadsForRun(deps, cycle.runId);

  const arns = new Map([
    [await queueArn(platform.sqs, fetchUrl), fetchUrl],
    [await queueArn(platform.sqs, writeUrl), writeUrl],
  ]);
  const deferrer = new SqsVisibilityDeferrer(platform.sqs, (arn) => arns.get(arn));
  const failures = failureRecorderFor(platform.doc, platform.tables);
  const sources = await Promise.all([
    startSqsEventSource({
      client: platform.sqs,
      queueUrl: fetchUrl,
      handler: createFetchActivityPage(deps, deferrer, failures),
      batchSize: 1,
      concurrency: options.fetchConcurrency ?? platform.settings.marketo.maxConcurrent,
      logger: platform.logger,
      functionName: 'fetch-activity-page',
      ...(options.beforeDelete?.fetch ? { beforeDelete: options.beforeDelete.fetch } : {}),
    }),
    startSqsEventSource({
      client: platform.sqs,
      queueUrl: writeUrl,
      handler: createWriteActivityTasks(deps, deferrer, failures),
      // As in AWS: up to 10 messages per invocation, so the batch's Tasks fill 200-record collections.
      batchSize: WRITE_BATCH_SIZE,
      maxBatchingWindowMs: options.writeBatchingWindowMs ?? WRITE_BATCHING_WINDOW_MS,
      concurrency: options.writeConcurrency ?? WRITE_CONCURRENCY,
      logger: platform.logger,
      functionName: 'write-activity-tasks',
      ...(options.beforeDelete?.write ? { beforeDelete: options.beforeDelete.write } : {}),
    }),
  ]);
  let status: ActivityCycleSummary['status'] = 'completed';
  const ticker = options.progress
    ? startProgress(
        deps.runs,
        cycle.runId,
        () => clients.marketo.callCounts().total,
        platform.settings.marketo.callsPer20s,
      )
    : undefined;
  try {
    await drainUntilIdle({
      client: platform.sqs,
      queues: [fetchUrl, writeUrl],
      idleMs: 600,
      timeoutMs: options.timeoutMs ?? 30 * 60_000,
    });
  } catch (err) {
    platform.logger.error(
      'Activity cycle did not finish in time; its state is kept and the next run continues it',
      err as Error,
    );
    status = 'incomplete';
  } finally {
    await Promise.all(sources.map((s) => s.stop()));
  }
  if (status === 'completed' && (await orphanedStreams(deps, cycle.streams)).length > 0) {
    // The queues are empty, so nobody is left to finish a stream that is still owned: its run died
    // before enqueueing the stream's first pages (or they were dead-lettered). Not complete; the
    // next run finds nothing queued and takes the stream over from its watermark.
    platform.logger.warn(
      'Activity streams still owned after the queues drained; the next run takes them over',
    );
    status = 'incomplete';
  }
  // Tasks staged for Bulk API 2.0 (large cycles) are written now: as few jobs as possible.
  const flushed = await flushUntilEmpty(deps, {
    timeoutMs: Math.max(60_000, (options.timeoutMs ?? 30 * 60_000) - (Date.now() - started)),
    takeOverLease: true,
  });
  ticker?.stop();
  if (!flushed.empty) {
    platform.logger.error('Staged Tasks not all written; they stay staged and the next cycle writes them');
    status = 'incomplete';
  }
  await deps.runs.add('activities', cycle.runId, {
    'calls.marketo': clients.marketo.callCounts().total,
    'calls.salesforce': clients.salesforce.callCounts().total,
  });
  const [fetchDepth, writeDepth] = [await local.queueDepth('fetch'), await local.queueDepth('write')];
  await deps.runs.finish('activities', cycle.runId, status === 'completed' ? 'completed' : 'failed');
  const report = (await deps.runs.get('activities', cycle.runId)) as RunReport;
  const usage = clients.salesforce.limitInfo();
  return {
    command: 'activities',
    runId: cycle.runId,
    status,
    ...summariseCounts(report.counts),
    durationMs: Date.now() - started,
    streams: cycle.streams,
    deadLetters: { fetch: fetchDepth.dlq, write: writeDepth.dlq },
    pending: cycle.pending,
    deletions,
    typesMissing: cycle.typesMissing,
    catalogue: cycle.resolutions,
    ...(report.counts.bulkJobs ? { bulkJobs: report.counts.bulkJobs } : {}),
    ...(usage ? { salesforceApiUsage: usage } : {}),
  };
}

/** Streams of this cycle whose cursor is still owned by a run (not caught up and released). */
async function orphanedStreams(
  deps: ActivityDeps,
  streams: readonly { streamKey: string }[],
): Promise<string[]> {
  const cursors = await Promise.all(streams.map((s) => deps.cursors.getStream(s.streamKey)));
  return streams.flatMap((s, i) => (cursors[i]?.activeRunId ? [s.streamKey] : []));
}

export function summariseCounts(counts: Record<string, number>) {
  const n = (k: string) => counts[k] ?? 0;
  const skipped: Record<string, number> = {};
  for (const [k, v] of Object.entries(counts))
    if (k.startsWith('skipped.')) skipped[k.slice('skipped.'.length)] = v;
  return {
    read: n('read'),
    written: n('written'),
    created: n('created'),
    updated: n('updated'),
    skipped,
    failed: n('failed'),
    retried: n('retried'),
    calls: { marketo: n('calls.marketo'), salesforce: n('calls.salesforce') },
  };
}

function startProgress(
  runs: { get: (k: 'activities', id: string) => Promise<RunReport | undefined> },
  runId: string,
  marketoCalls: () => number,
  callsPer20s: number,
) {
  const samples: ProgressSample[] = [];
  const timer = setInterval(() => {
    void runs.get('activities', runId).then((r) => {
      const c = r?.counts ?? {};
      const n = (k: string) => c[k] ?? 0;
      const skipped = Object.entries(c).reduce(
        (sum, [k, v]) => (k.startsWith('skipped.') ? sum + v : sum),
        0,
      );
      samples.push({
        atMs: Date.now(),
        streamsStarted: n('streamsStarted'),
        streamsDone: n('streamsDone'),
        pages: n('pages'),
        read: n('read'),
        processed: n('written') + n('staged') + n('failed') + skipped,
        written: n('written'),
        marketoCalls: marketoCalls(),
      });
      if (samples.length > 120) samples.splice(1, 1);
      process.stderr.write(`\r${formatProgress(samples, callsPer20s)}\x1b[K`);
    });
  }, 1000);
  return {
    stop() {
      clearInterval(timer);
      process.stderr.write('\r\x1b[K');
    },
  };
}
