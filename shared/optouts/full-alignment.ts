import { emailRef, normaliseEmail } from '../domain/email.js';
import type { Observation, Verdict } from '../domain/opt-out-policy.js';
import { holdUntil, isHeld } from '../domain/run-hold.js';
import { newRunId } from '../domain/run-report.js';
import type { MarketoApi } from '../ports/marketo-api.js';
import { MARKETO_MAX_BATCH } from '../ports/vendor-limits.js';
import { applyPeople } from './night-apply.js';
import {
  markSideFailed,
  type ReadChunk,
  readSalesforceChunk,
  readWithRetry,
  type SalesforcePosition,
} from './night-read.js';
import {
  addTally,
  bump,
  emptyTally,
  MAX_POISON_LISTED,
  type NightTally,
  type PoisonChunk,
} from './night-tally.js';
import { nowOf, type OptOutDeps, vendorCallTotals } from './opt-out-deps.js';
import { MARKETO_LEAD_FIELDS, marketoLeadToRecord, SALESFORCE_PERSON_OBJECTS } from './person-records.js';

/**
 * First-enable alignment (`optouts --full`, seed 001 "all unsubscribes"): every unsubscribed
 * Marketo lead and every opted-out Salesforce Lead/Contact, whatever their age, goes through the
 * same policy, history and alignment as a night (night-apply.ts) — only the reading differs:
 *  - Marketo: Get Leads by Filter Type `id`, 300 ids per call, walking the id range upwards. The
 *    documents offer no filter on `unsubscribed`: `filterType` takes searchable fields and custom
 *    fields of type string, email or integer only (a boolean is neither), and the Bulk Lead Extract
 *    filters are createdAt, updatedAt, static list and smart list (AdobeDocs/marketo-developer.en
 *    help/rest-api/leads.md "Query", help/rest-api/bulk-lead-extract.md "Filters"). Lead ids are
 *    system-assigned integers (leads.md: "`id` is a system managed unique key"); the walk ends once
 *    `idGap` ids past the highest lead found held no lead (deleted leads leave holes).
 *  - Salesforce: keyset pages (by Id) of Leads, then Contacts, whose opt-out field is set.
 * Resumable: after every chunk the position and tally are checkpointed in the cursor store (item
 * `optouts#full`); a later invocation continues the open run. Ids and counts only, never an email.
 */

export const FULL_CURSOR_ID = 'optouts#full';
/** Ids past the highest lead found that must hold no lead before the Marketo walk ends. */
export const DEFAULT_ID_GAP = 20_000;
/** Get Leads calls per Marketo chunk (3,000 ids). */
const MARKETO_CALLS_PER_CHUNK = 10;
/** Time an invocation spends starting chunks (a Lambda or one CLI process alike). */
const FULL_BUDGET_MS = 12 * 60 * 1000;

export interface FullCheckpoint {
  runId: string;
  startedAt: string;
  idGap: number;
  marketo: { nextId: number; highestFound: number; scanned: number; done: boolean };
  salesforce: SalesforcePosition;
  sideFailed: { marketo?: string; salesforce?: string };
  pending: string[];
  poison: PoisonChunk[];
  tally: NightTally;
  invocations: number;
  /** Set while an invocation runs the alignment (until its budget plus a margin): a continuation tick leaves it alone. */
  heldUntil?: string;
}

export interface FullAlignmentCursor {
  open?: FullCheckpoint;
  lastCompleted?: { runId: string; finishedAt: string };
}

export interface FullAlignmentReport {
  kind: 'optouts-full';
  status: 'completed' | 'continued';
  runId: string;
  startedAt: string;
  finishedAt: string;
  invocations: number;
  /** Opted-out records read per side. */
  read: { marketo: number; salesforce: number };
  /** Marketo leads looked at (opted out or not) and the ids covered so far. */
  marketoScan: { leads: number; idsUpTo: number };
  people: number;
  /** Records written per side to bring them in line with the person's decision. */
  aligned: { salesforce: number; marketo: number };
  /** Verdicts where an opt-out and a resubscribe met (the policy chose one). */
  conflicts: number;
  skipped: Record<string, number>;
  failed: number;
  failedByError: Record<string, number>;
  verdicts: NightTally['verdicts'];
  apiCalls: { marketo: number; salesforce: number };
  chunks: NightTally['chunks'];
  poison: PoisonChunk[];
  /** People whose writes failed (retryable) or who were poison: a second `--full` retries them. */
  pendingPeople: number;
}

export interface FullAlignmentOptions {
  idGap?: number;
  /** First Marketo id to read (default 1). */
  startId?: number;
  budgetMs?: number;
  /** Chunks this invocation may run (tests: an interruption). */
  maxChunks?: number;
  /** After every chunk (the CLI's progress line). */
  onChunk?: (report: FullAlignmentReport) => void;
}

export class FullAlignmentBusyError extends Error {
  override readonly name = 'FullAlignmentBusyError';
  constructor() {
    super(
      'The first-enable alignment checkpoint was moved by another process meanwhile; this one stops. Run `optouts --full` once at a time; the other process continues the run.',
    );
  }
}

const CONFLICT_VERDICTS: readonly Verdict[] = [
  'resubscribe',
  'resubscribeRejected',
  'optOutOlderThanResubscribe',
];

/** Starts a first-enable alignment, or continues the open one, and runs chunks until done or out of budget. */
export async function alignAllOptOuts(
  deps: OptOutDeps,
  options: FullAlignmentOptions = {},
): Promise<FullAlignmentReport> {
  const item = await deps.cursors.getValue<FullAlignmentCursor>(FULL_CURSOR_ID);
  const cursor = item?.value ?? {};
  let version = item?.version;
  let run = cursor.open;
  const save = async (value: FullAlignmentCursor) => {
    if (!(await deps.cursors.putValue(FULL_CURSOR_ID, value, version))) throw new FullAlignmentBusyError();
    version = (version ?? 0) + 1;
  };
  if (!run) {
    const started = nowOf(deps);
    run = {
      runId: `full-${newRunId(started)}`,
      startedAt: started.toISOString(),
      idGap: options.idGap ?? DEFAULT_ID_GAP,
      marketo: { nextId: options.startId ?? 1, highestFound: 0, scanned: 0, done: false },
      salesforce: { sobject: SALESFORCE_PERSON_OBJECTS[0] ?? 'Lead', done: false },
      sideFailed: {},
      pending: [],
      poison: [],
      tally: emptyTally(),
      invocations: 0,
    };
    await save({ ...cursor, open: run });
    await deps.runs.start('optouts', run.runId, {
      mode: 'full',
      salesforceField: deps.settings.optOuts.salesforceField,
    });
  }
  if (options.idGap !== undefined && options.idGap !== run.idGap) {
    // A gap given to the open run applies to its walk from here: a larger one reopens a walk that
    // ended (nothing accepted and ignored), a smaller one may end it.
    const { marketo } = run;
    run = {
      ...run,
      idGap: options.idGap,
      marketo: { ...marketo, done: marketo.nextId > marketo.highestFound + options.idGap },
    };
  }
  const budget = options.budgetMs ?? FULL_BUDGET_MS;
  const heldUntil = holdUntil(nowOf(deps).getTime(), budget);
  run = { ...run, invocations: run.invocations + 1, heldUntil };
  await save({ ...cursor, open: run }); // the hold, before any work
  const began = Date.now();
  let chunks = 0;
  for (;;) {
    const side = nextSide(run);
    if (!side) break;
    if (Date.now() - began >= budget || (options.maxChunks !== undefined && chunks >= options.maxChunks)) {
      const { heldUntil: _released, ...open } = run;
      run = open;
      await save({ ...cursor, open: run });
      return fullReport(deps, run, 'continued');
    }
    const before = await vendorCallTotals(deps);
    run = await runChunk(deps, run, side);
    const after = await vendorCallTotals(deps);
    run.tally.apiCalls.marketo += after.marketo - before.marketo;
    run.tally.apiCalls.salesforce += after.salesforce - before.salesforce;
    chunks++;
    await save({ ...cursor, open: run });
    options.onChunk?.(fullReport(deps, run, 'continued'));
  }
  const report = fullReport(deps, run, 'completed');
  await save({ lastCompleted: { runId: run.runId, finishedAt: report.finishedAt } });
  await deps.runs.add('optouts', run.runId, {
    'read.marketo': report.read.marketo,
    'read.salesforce': report.read.salesforce,
    people: report.people,
    'written.salesforce': report.aligned.salesforce,
    'written.marketo': report.aligned.marketo,
    conflicts: report.conflicts,
    failed: report.failed,
  });
  await deps.runs.finish('optouts', run.runId, 'completed', { report });
  deps.logger.info('First-enable opt-out alignment done', { report });
  return report;
}

/**
 * Resumes the open first-enable alignment, if any and not held by a running invocation (the
 * continuation schedule in AWS: it never starts one).
 */
export async function continueFullAlignment(
  deps: OptOutDeps,
  options: Omit<FullAlignmentOptions, 'idGap' | 'startId'> = {},
): Promise<FullAlignmentReport | undefined> {
  const open = (await deps.cursors.getValue<FullAlignmentCursor>(FULL_CURSOR_ID))?.value.open;
  if (!open || isHeld(open.heldUntil, nowOf(deps).getTime())) return undefined;
  return alignAllOptOuts(deps, options);
}

function nextSide(run: FullCheckpoint): 'marketo' | 'salesforce' | undefined {
  if (!run.marketo.done && !run.sideFailed.marketo) return 'marketo';
  if (!run.salesforce.done && !run.sideFailed.salesforce) return 'salesforce';
  return undefined;
}

/** One chunk of Marketo ids: MARKETO_CALLS_PER_CHUNK calls of 300 ids each. */
async function readMarketoIds(
  mk: MarketoApi,
  position: FullCheckpoint['marketo'],
  idGap: number,
  runId: string,
  now: Date,
): Promise<ReadChunk & { next: FullCheckpoint['marketo'] }> {
  const changes = new Map<string, Observation[]>();
  const skipped: Record<string, number> = {};
  const next = { ...position };
  let read = 0;
  for (let call = 0; call < MARKETO_CALLS_PER_CHUNK && !next.done; call++) {
    const ids = Array.from({ length: MARKETO_MAX_BATCH }, (_, i) => next.nextId + i);
    const leads = await mk.getLeads({ filterType: 'id', filterValues: ids, fields: MARKETO_LEAD_FIELDS });
    next.nextId += MARKETO_MAX_BATCH;
    next.scanned += leads.length;
    for (const lead of leads) {
      next.highestFound = Math.max(next.highestFound, lead.id);
      if (lead.unsubscribed !== true) continue;
      const rec = marketoLeadToRecord(lead, now);
      if (!rec) {
        bump(skipped, 'marketoLeadWithoutEmail');
        continue;
      }
      read++;
      changes.set(rec.email, [
        ...(changes.get(rec.email) ?? []),
        {
          source: 'marketo-nightly',
          target: rec.target,
          value: true,
          at: rec.at,
          evidence: {
            leadId: lead.id,
            runId,
            ...(lead.unsubscribedReason ? { reason: lead.unsubscribedReason } : {}),
          },
        },
      ]);
    }
    if (next.nextId > next.highestFound + idGap) next.done = true;
  }
  return { changes, read, skipped, next };
}

async function runChunk(
  deps: OptOutDeps,
  from: FullCheckpoint,
  side: 'marketo' | 'salesforce',
): Promise<FullCheckpoint> {
  const run: FullCheckpoint = structuredClone(from);
  const now = nowOf(deps);
  let chunk: ReadChunk;
  if (side === 'marketo') {
    const mk = await deps.marketo();
    const r = await readWithRetry(() => readMarketoIds(mk, run.marketo, run.idGap, run.runId, now));
    if (!r.ok) return markSideFailed(deps.logger, run, 'marketo', `id:${run.marketo.nextId}`, r.error);
    run.marketo = r.chunk.next;
    chunk = r.chunk;
    run.tally.changesRead.marketo += r.chunk.read;
    run.tally.chunks.retried += r.retried;
  } else {
    const sf = await deps.salesforce();
    const position = run.salesforce;
    const r = await readWithRetry(() =>
      readSalesforceChunk(sf, {
        position,
        objects: SALESFORCE_PERSON_OBJECTS,
        field: deps.settings.optOuts.salesforceField,
        since: new Date(0),
        until: now,
        runId: run.runId,
        optedOutOnly: true,
      }),
    );
    if (!r.ok)
      return markSideFailed(
        deps.logger,
        run,
        'salesforce',
        `${position.sobject}:${position.afterId ?? 'start'}`,
        r.error,
      );
    run.salesforce = r.chunk.next;
    chunk = r.chunk;
    run.tally.changesRead.salesforce += r.chunk.read;
    run.tally.chunks.retried += r.retried;
  }
  run.tally = addTally(run.tally, { ...emptyTally(), skipped: chunk.skipped });
  const poisonRefs = new Set(run.poison.filter((p) => p.kind === 'person').map((p) => p.ref));
  const people = [...chunk.changes.keys()].map(normaliseEmail).filter((e) => !poisonRefs.has(emailRef(e)));
  if (people.length) {
    const outcome = await applyPeople(deps, people, chunk.changes, `full:${run.runId}`);
    run.tally = addTally(run.tally, outcome.tally);
    run.pending = [...new Set([...run.pending, ...outcome.pending])].slice(0, 2000);
    run.poison = [...run.poison, ...outcome.poison].slice(0, MAX_POISON_LISTED);
  }
  run.tally.chunks.done++;
  return run;
}

function fullReport(
  deps: OptOutDeps,
  run: FullCheckpoint,
  status: FullAlignmentReport['status'],
): FullAlignmentReport {
  const t = run.tally;
  const v = t.verdicts;
  const conflicts = CONFLICT_VERDICTS.reduce((sum, k) => sum + (v[k] ?? 0) + (v[`sighting.${k}`] ?? 0), 0);
  return {
    kind: 'optouts-full',
    status,
    runId: run.runId,
    startedAt: run.startedAt,
    finishedAt: nowOf(deps).toISOString(),
    invocations: run.invocations,
    read: { ...t.changesRead },
    marketoScan: { leads: run.marketo.scanned, idsUpTo: run.marketo.nextId - 1 },
    people: t.people,
    aligned: { ...t.written },
    conflicts,
    skipped: t.skipped,
    failed: t.failed,
    failedByError: t.failedByError,
    verdicts: v,
    apiCalls: t.apiCalls,
    chunks: t.chunks,
    poison: run.poison,
    pendingPeople: run.pending.length,
  };
}
