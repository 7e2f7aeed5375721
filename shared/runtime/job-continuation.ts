import type { Logger } from '@aws-lambda-powertools/logger';
import * as z from 'zod';
import { DynamoDbCursorStore } from '../adapters/dynamodb/cursor-store.js';
import { JOB4_FUNCTION_TIMEOUT_MINUTES } from '../config/job-schedule.js';
import type { Settings } from '../config/settings.js';
import { holdUntil, isHeld } from '../domain/run-hold.js';
import type { MetricsSink } from '../observability/metrics.js';
import type { CursorStore } from '../ports/cursor-store.js';
import type { GrantedCredentials } from './credentials.js';
import type { ScheduledRun } from './function-builder.js';
import type { JobHost } from './job-run.js';
import type { Platform } from './platform.js';

/**
 * Job 4's continuation, the opt-out night's way (shared/optouts/reconcile.ts `continueOptOuts`): one
 * cursor per job (`job4#tasks`, `job4#campaigns`) says whether the last run left a back-fill open
 * (stopped by its budget, `complete: false`) and which invocation runs the job until when. Every run
 * takes the hold with a versioned write before any work and gives it back at the end, so two
 * invocations (the daily schedule, a continuation tick, a hand-made invoke) never run the job at
 * once: the loser of the write does nothing. A continuation tick runs the job only when it is open.
 */

const continuationSchema = z.object({
  /** The last run stopped at its time budget: the watermark is a checkpoint, a tick continues. */
  open: z.boolean(),
  /** The run holding the job (its run id), until `heldUntil`. */
  heldBy: z.string().optional(),
  heldUntil: z.iso.datetime({ offset: true }).optional(),
});
export type JobContinuation = z.infer<typeof continuationSchema>;

export type ContinuedJob = 'tasks' | 'campaigns';

export const continuationCursorId = (job: ContinuedJob) => `job4#${job}`;

/**
 * Until when a run starting at `startMs` holds its job: its budget plus the margin, and never less
 * than the function's timeout. The budget is only checked between chunks (job 4a reads its whole
 * window first), so a short budget must not let a hold expire under a run that is still working.
 */
export function jobHoldUntil(startMs: number, budgetMs: number): string {
  return holdUntil(startMs, budgetMs, JOB4_FUNCTION_TIMEOUT_MINUTES * 60_000);
}

/** Why a run did nothing: nothing open (a tick), another invocation holds the job, or took it first. */
export type IdleReason = 'nothing-open' | 'held' | 'lost-race';
export interface IdleRun {
  status: 'idle';
  reason: IdleReason;
}

export class JobContinuationCursorError extends Error {
  override readonly name = 'JobContinuationCursorError';
  constructor(id: string, options: { cause: unknown }) {
    super(
      `The cursor ${id} is not a job continuation ({ open, heldBy?, heldUntil? }). Nothing was run; delete the item from the cursors table (the next run writes it again).`,
      options,
    );
  }
}

/**
 * Runs `work` under the job's hold: `onlyIfOpen` (a continuation tick) does one read and nothing
 * else unless the last run left the job open; any run leaves a job held by a running invocation
 * alone and ends quietly when another takes the hold between its read and its write. The hold is
 * given back after the work, the job left open when the run was not complete (or, on a throw, as
 * it was). `released: false`: the hold had expired and another invocation took the job meanwhile.
 */
export async function runUnderHold<R>(
  cursors: CursorStore,
  options: {
    job: ContinuedJob;
    runId: string;
    budgetMs: number;
    onlyIfOpen: boolean;
    now?: () => number;
  },
  work: () => Promise<{ result: R; complete: boolean }>,
): Promise<IdleRun | { status: 'ran'; result: R; released: boolean }> {
  const id = continuationCursorId(options.job);
  const now = options.now ?? Date.now;
  const item = await cursors.getValue<unknown>(id);
  const parsed = item ? continuationSchema.safeParse(item.value) : undefined;
  if (parsed && !parsed.success) throw new JobContinuationCursorError(id, { cause: parsed.error });
  const state: JobContinuation = parsed?.data ?? { open: false };
  if (options.onlyIfOpen && !state.open) return { status: 'idle', reason: 'nothing-open' };
  if (isHeld(state.heldUntil, now())) return { status: 'idle', reason: 'held' };
  // Open while held: a run that dies without giving the hold back (a timeout, out of memory) is
  // continued by the first tick after its hold expires.
  const hold: JobContinuation = {
    open: true,
    heldBy: options.runId,
    heldUntil: jobHoldUntil(now(), options.budgetMs),
  };
  if (!(await cursors.putValue(id, hold, item?.version))) return { status: 'idle', reason: 'lost-race' };
  const held = (item?.version ?? 0) + 1;
  let outcome: { result: R; complete: boolean };
  try {
    outcome = await work();
  } catch (err) {
    await cursors.putValue<JobContinuation>(id, { open: state.open }, held).catch(() => undefined);
    throw err;
  }
  const released = await cursors.putValue<JobContinuation>(id, { open: !outcome.complete }, held);
  return { status: 'ran', result: outcome.result, released };
}

export class UnknownJobError extends Error {
  override readonly name = 'UnknownJobError';
  constructor(service: string, jobs: readonly string[], job: string) {
    // The name is echoed only when it looks like a job name (the input is free text: never an
    // email or anything else personal in a message that reaches a log).
    const named = /^[a-z0-9-]{1,40}$/.test(job) ? `"${job}"` : 'the job named in the input';
    super(
      `The ${service} function runs the jobs ${jobs.map((j) => `"${j}"`).join(', ')} (or none: the scheduled run); ${named} is none of them. Nothing was run.`,
    );
  }
}

/** Refuses a job `service` does not run (none: the scheduled run or a hand-made invoke is fine). */
export function refuseUnknownJob(service: string, jobs: readonly string[], job: string | undefined): void {
  if (job !== undefined && !jobs.includes(job)) throw new UnknownJobError(service, jobs, job);
}

/**
 * A job-4 function's dispatch: its own job (or none: invoked by hand) runs under the hold; its
 * continuation job (`<job>-continue`) runs only when the job is open; anything else is refused
 * (a typo must not start a run). An idle run is logged and recorded nowhere (no run report, no metric).
 */
export async function runJobOrContinuation<R>(
  cursors: CursorStore,
  logger: Pick<Logger, 'info' | 'warn'>,
  spec: {
    service: string;
    job: ContinuedJob;
    continuationJob: string;
    run: Pick<ScheduledRun, 'runId' | 'job'>;
    budgetMs: number;
    now?: () => number;
  },
  work: () => Promise<{ result: R; complete: boolean }>,
): Promise<R | IdleRun> {
  refuseUnknownJob(spec.service, [spec.job, spec.continuationJob], spec.run.job);
  const outcome = await runUnderHold(
    cursors,
    {
      job: spec.job,
      runId: spec.run.runId,
      budgetMs: spec.budgetMs,
      onlyIfOpen: spec.run.job === spec.continuationJob,
      ...(spec.now ? { now: spec.now } : {}),
    },
    work,
  );
  if (outcome.status === 'idle') {
    logger.info('Nothing run', { job: spec.run.job ?? spec.job, reason: outcome.reason });
    return outcome;
  }
  if (!outcome.released)
    logger.warn(
      'The run outlived its hold and another invocation took the job meanwhile; it keeps the continuation state',
      { job: spec.job, runId: spec.run.runId },
    );
  return outcome.result;
}

/**
 * A job-4 function's job (the scheduled function's third argument) over `runJob`, the run the CLI
 * makes too: dispatched by `runJobOrContinuation` on the cursors table, budgeted by the job's
 * `runBudgetSeconds`. Options are for tests: the job's dependencies wrapped (a budget), the hold's clock.
 */
export function jobOrContinuation<Deps, Run extends { report: { complete: boolean } }>(spec: {
  service: string;
  job: ContinuedJob;
  continuationJob: string;
  budgetSeconds: (settings: Settings) => number;
  runJob: (
    platform: Platform,
    credentials: GrantedCredentials,
    runId: string,
    options: { wrapDeps?: (deps: Deps) => Deps },
  ) => Promise<Run>;
}) {
  return async (
    host: JobHost,
    run: Pick<ScheduledRun, 'runId' | 'job'>,
    _metrics?: MetricsSink,
    options: { wrapDeps?: (deps: Deps) => Deps; now?: () => number } = {},
  ): Promise<Run | IdleRun> => {
    const { platform } = host;
    return runJobOrContinuation(
      new DynamoDbCursorStore(platform.doc, platform.tables.cursors),
      platform.logger,
      {
        service: spec.service,
        job: spec.job,
        continuationJob: spec.continuationJob,
        run,
        budgetMs: spec.budgetSeconds(platform.settings) * 1000,
        ...(options.now ? { now: options.now } : {}),
      },
      async () => {
        const result = await spec.runJob(platform, await host.credentials(), run.runId, {
          ...(options.wrapDeps ? { wrapDeps: options.wrapDeps } : {}),
        });
        return { result, complete: result.report.complete };
      },
    );
  };
}
