import { emailRef } from '../domain/email.js';
import { holdUntil, isHeld } from '../domain/run-hold.js';
import { newRunId } from '../domain/run-report.js';
import { recordJobCompleted } from '../observability/metrics.js';
import { applyPeople } from './night-apply.js';
import {
  type MarketoPosition,
  markSideFailed,
  type ReadChunk,
  readMarketoChunk,
  readSalesforceChunk,
  readWithRetry,
  type SalesforcePosition,
} from './night-read.js';
import { buildReport, type OptOutRunReport } from './night-report.js';
import { addTally, emptyTally, MAX_POISON_LISTED, type NightTally, type PoisonChunk } from './night-tally.js';
import { nowOf, type OptOutDeps, vendorCallTotals } from './opt-out-deps.js';
import { SALESFORCE_PERSON_OBJECTS } from './person-records.js';

/**
 * The nightly unsubscribe reconciliation, both directions, as a night of small chunks:
 *   1. read what changed since the cursor, one chunk at a time: a page of Marketo lead changes on
 *      `unsubscribed`, then keyset pages (by Id) of Salesforce Leads/Contacts modified between the
 *      watermark and the night's start;
 *   2. feed each chunk's changes to the policy in each person's state (echoes recognised), and
 *   3. bring every record of those people in line (night-apply.ts: a failing chunk is retried, then
 *      split until the one person who breaks it is set aside as poison — reported, retried next
 *      night — while everyone else goes through);
 *   4. last, the people whose writes failed last night;
 *   5. advance the watermarks and store a consent-drift report in the runs table (kind `optouts`).
 * After every chunk the night's position and tally are checkpointed in the cursor store. An
 * invocation stops starting chunks when its time budget is spent; the next invocation (of the same
 * function: the next schedule tick, or `continueOptOuts`) resumes the open night before anything
 * else. A crash re-does at most the chunk in hand (idempotent). Why a checkpoint, not a queue or a
 * state machine: README "Nightly opt-out reconciliation".
 */

export type { OptOutRunReport } from './night-report.js';

export const OPT_OUT_CURSOR_ID = 'optouts#nightly';
/** Re-read this far behind the watermarks: late-committed changes, clock skew. */
const OVERLAP_MS = 60 * 60 * 1000;
/** Time an invocation spends starting chunks (Lambda timeout 15 min; a chunk takes seconds). */
export const INVOCATION_BUDGET_MS = 12 * 60 * 1000;
/** People carried to the next night (the checkpoint is one DynamoDB item, 400 KB). */
const MAX_PENDING_PEOPLE = 2000;
/** People aligned per chunk of last night's leftovers. */
const RETRY_PEOPLE_PER_CHUNK = 500;

/** An open night, as checkpointed after each chunk. */
export interface NightCheckpoint {
  runId: string;
  startedAt: string;
  until: string;
  marketoSince: string;
  salesforceSince: string;
  marketo: MarketoPosition;
  salesforce: SalesforcePosition;
  /** Sides whose reading failed every attempt: their watermark stays, the next night re-reads. */
  sideFailed: { marketo?: string; salesforce?: string };
  /** Last night's leftovers not yet aligned. */
  retryPeople: string[];
  /** Tonight's leftovers (retryable write failures, poison people) for the next night. */
  pending: string[];
  poison: PoisonChunk[];
  tally: NightTally;
  invocations: number;
  /** Wall time spent inside invocations (the night's elapsed time includes the gaps). */
  busyMs: number;
  /** An invocation is running the night until then (a continuation tick leaves it alone). */
  heldUntil?: string;
}

export interface OptOutCursor {
  marketoWatermark?: string;
  salesforceWatermark?: string;
  /** People whose writes failed with a retryable error: retried by the next run. */
  pendingPeople?: string[];
  /** The night in progress, if any. */
  night?: NightCheckpoint;
}

export interface ReconcileOptions {
  runId?: string;
  /** Time this invocation may spend starting chunks (default INVOCATION_BUDGET_MS). */
  budgetMs?: number;
  /** Chunks this invocation may run (tests, bench). */
  maxChunks?: number;
}

/** Starts a night (or resumes the open one) and runs chunks until done or out of budget. */
export async function reconcileOptOuts(
  deps: OptOutDeps,
  options: ReconcileOptions = {},
): Promise<OptOutRunReport> {
  const item = await deps.cursors.getValue<OptOutCursor>(OPT_OUT_CURSOR_ID);
  const cursor = item?.value ?? {};
  if (cursor.night) return runNight(deps, cursor, item?.version, options);
  const night = newNight(deps, cursor, options.runId);
  await deps.runs.start('optouts', night.runId, { salesforceField: deps.settings.optOuts.salesforceField });
  const opened = { ...cursor, night };
  if (!(await deps.cursors.putValue(OPT_OUT_CURSOR_ID, opened, item?.version)))
    throw new OptOutNightBusyError();
  return runNight(deps, opened, (item?.version ?? 0) + 1, options);
}

/**
 * Resumes the open night, if any and not held by a running invocation (the continuation schedule:
 * it never starts a night).
 */
export async function continueOptOuts(
  deps: OptOutDeps,
  options: Omit<ReconcileOptions, 'runId'> = {},
): Promise<OptOutRunReport | undefined> {
  const item = await deps.cursors.getValue<OptOutCursor>(OPT_OUT_CURSOR_ID);
  if (!item?.value.night || isHeld(item.value.night.heldUntil, nowOf(deps).getTime())) return undefined;
  return runNight(deps, item.value, item.version, options);
}

/** Runs invocations back to back until the night completes (CLI, bench: one process). */
export async function reconcileOptOutsToEnd(
  deps: OptOutDeps,
  options: ReconcileOptions = {},
): Promise<OptOutRunReport> {
  let report = await reconcileOptOuts(deps, options);
  while (report.status === 'continued') report = await reconcileOptOuts(deps, options);
  return report;
}

export class OptOutNightBusyError extends Error {
  override readonly name = 'OptOutNightBusyError';
  constructor() {
    super(
      'The opt-out night checkpoint was moved by another invocation meanwhile; this one stops and leaves the night to it. Nothing to do unless it repeats every night (then look for two schedules of reconcile-optouts).',
    );
  }
}

function newNight(deps: OptOutDeps, cursor: OptOutCursor, runId: string | undefined): NightCheckpoint {
  const started = nowOf(deps);
  const lookback = new Date(
    started.getTime() - deps.settings.optOuts.lookbackDays * 86_400_000,
  ).toISOString();
  return {
    runId: runId ?? newRunId(started),
    startedAt: started.toISOString(),
    until: started.toISOString(),
    marketoSince: cursor.marketoWatermark ?? lookback,
    salesforceSince: cursor.salesforceWatermark ?? lookback,
    marketo: { done: false },
    salesforce: { sobject: SALESFORCE_PERSON_OBJECTS[0] ?? 'Lead', done: false },
    sideFailed: {},
    retryPeople: cursor.pendingPeople ?? [],
    pending: [],
    poison: [],
    tally: emptyTally(),
    invocations: 0,
    busyMs: 0,
  };
}

type ChunkStep = { kind: 'marketo' } | { kind: 'salesforce' } | { kind: 'retry' } | { kind: 'done' };

function nextStep(n: NightCheckpoint): ChunkStep {
  if (!n.marketo.done && !n.sideFailed.marketo) return { kind: 'marketo' };
  if (!n.salesforce.done && !n.sideFailed.salesforce) return { kind: 'salesforce' };
  if (n.retryPeople.length) return { kind: 'retry' };
  return { kind: 'done' };
}

/** One chunk: read (if a side), apply, and the night's new checkpoint. */
async function runChunk(deps: OptOutDeps, night: NightCheckpoint, step: ChunkStep): Promise<NightCheckpoint> {
  const n: NightCheckpoint = structuredClone(night);
  const cause = `nightly:${n.runId}`;
  let changes: ReadChunk['changes'] = new Map();
  let people: string[] = [];
  if (step.kind === 'marketo') {
    const mk = await deps.marketo();
    const since = new Date(Date.parse(n.marketoSince) - OVERLAP_MS);
    const r = await readWithRetry(() =>
      readMarketoChunk(mk, {
        position: n.marketo,
        since,
        batchSize: deps.settings.marketo.batchSize,
        runId: n.runId,
      }),
    );
    if (!r.ok)
      return markSideFailed(
        deps.logger,
        n,
        'marketo',
        n.marketo.token ?? `since:${since.toISOString()}`,
        r.error,
      );
    n.tally.chunks.retried += r.retried;
    n.tally.changesRead.marketo += r.chunk.read;
    n.tally = addTally(n.tally, { ...emptyTally(), skipped: r.chunk.skipped });
    n.marketo = r.chunk.next;
    changes = r.chunk.changes;
    people = [...changes.keys()];
  } else if (step.kind === 'salesforce') {
    const sf = await deps.salesforce();
    const position = n.salesforce;
    const r = await readWithRetry(() =>
      readSalesforceChunk(sf, {
        position,
        objects: SALESFORCE_PERSON_OBJECTS,
        field: deps.settings.optOuts.salesforceField,
        since: new Date(Date.parse(n.salesforceSince) - OVERLAP_MS),
        until: new Date(n.until),
        runId: n.runId,
        resubscribeSources: deps.settings.optOuts.resubscribeSources,
        logger: deps.logger,
      }),
    );
    if (!r.ok)
      return markSideFailed(
        deps.logger,
        n,
        'salesforce',
        `${position.sobject}:${position.afterId ?? 'start'}`,
        r.error,
      );
    n.tally.chunks.retried += r.retried;
    n.tally.changesRead.salesforce += r.chunk.read;
    n.tally = addTally(n.tally, { ...emptyTally(), fieldHistory: r.chunk.fieldHistory });
    n.salesforce = r.chunk.next;
    changes = r.chunk.changes;
    people = [...changes.keys()];
  } else if (step.kind === 'retry') {
    people = n.retryPeople.slice(0, RETRY_PEOPLE_PER_CHUNK);
    n.retryPeople = n.retryPeople.slice(RETRY_PEOPLE_PER_CHUNK);
  }
  // A person set aside as poison tonight is not tried again tonight (they are pending already).
  const poisonRefs = new Set(n.poison.filter((p) => p.kind === 'person').map((p) => p.ref));
  people = people.filter((e) => !poisonRefs.has(emailRef(e)));
  if (people.length) {
    const outcome = await applyPeople(deps, people, changes, cause);
    n.tally = addTally(n.tally, outcome.tally);
    n.pending = [...new Set([...n.pending, ...outcome.pending])].slice(0, MAX_PENDING_PEOPLE);
    n.poison = [...n.poison, ...outcome.poison].slice(0, MAX_POISON_LISTED);
  }
  n.tally.chunks.done++;
  return n;
}

async function runNight(
  deps: OptOutDeps,
  cursor: OptOutCursor,
  version: number | undefined,
  options: ReconcileOptions,
): Promise<OptOutRunReport> {
  const budget = options.budgetMs ?? INVOCATION_BUDGET_MS;
  const heldUntil = holdUntil(nowOf(deps).getTime(), budget);
  let night: NightCheckpoint = { ...(cursor.night as NightCheckpoint), heldUntil };
  night = { ...night, invocations: night.invocations + 1 };
  const invocationStart = Date.now();
  let busyFrom = invocationStart;
  let chunks = 0;
  let v = version;
  const save = async (value: OptOutCursor) => {
    if (!(await deps.cursors.putValue(OPT_OUT_CURSOR_ID, value, v))) throw new OptOutNightBusyError();
    v = (v ?? 0) + 1;
  };
  await save({ ...cursor, night }); // the hold, before any work
  for (;;) {
    const step = nextStep(night);
    if (step.kind === 'done') break;
    if (
      Date.now() - invocationStart >= budget ||
      (options.maxChunks !== undefined && chunks >= options.maxChunks)
    ) {
      const { heldUntil: _released, ...open } = night;
      night = { ...open, busyMs: night.busyMs + (Date.now() - busyFrom) };
      await save({ ...cursor, night });
      const report = buildReport(deps, night, 'continued');
      deps.logger.info('Nightly unsubscribe reconciliation continues in the next invocation', { report });
      return report;
    }
    const calls = await vendorCallTotals(deps);
    night = await runChunk(deps, night, step);
    const after = await vendorCallTotals(deps);
    night.tally.apiCalls.marketo += after.marketo - calls.marketo;
    night.tally.apiCalls.salesforce += after.salesforce - calls.salesforce;
    chunks++;
    const now = Date.now();
    night = { ...night, busyMs: night.busyMs + (now - busyFrom) };
    busyFrom = now;
    await save({ ...cursor, night });
  }
  return finishNight(deps, night, save);
}

async function finishNight(
  deps: OptOutDeps,
  night: NightCheckpoint,
  save: (value: OptOutCursor) => Promise<void>,
): Promise<OptOutRunReport> {
  const report = buildReport(deps, night, 'completed');
  const next: OptOutCursor = {
    marketoWatermark: night.sideFailed.marketo ? night.marketoSince : night.until,
    salesforceWatermark: night.sideFailed.salesforce ? night.salesforceSince : night.until,
    pendingPeople: night.pending,
  };
  await save(next);
  await deps.runs.add('optouts', night.runId, {
    'read.marketo': report.changesRead.marketo,
    'read.salesforce': report.changesRead.salesforce,
    people: report.people,
    disagreements: report.disagreements.total,
    'written.salesforce': report.writes.salesforce,
    'written.marketo': report.writes.marketo,
    failed: report.writes.failed,
    echoes: report.echoesIgnored,
    'calls.marketo': report.apiCalls.marketo,
    'calls.salesforce': report.apiCalls.salesforce,
    poison: report.chunks.poison,
  });
  await deps.runs.finish('optouts', night.runId, 'completed', { report });
  recordJobCompleted('optouts');
  if (report.chunks.poison)
    deps.logger.warn('Nightly unsubscribe reconciliation done with poison chunks', { poison: report.poison });
  deps.logger.info('Nightly unsubscribe reconciliation done', { report });
  return report;
}
