import { randomUUID } from 'node:crypto';
import type { SalesforceRecordError } from '../domain/salesforce-records.js';
import type { StagedRow } from '../domain/staged-row.js';
import { isTransientRecordError } from '../domain/task-policy.js';
import type { SalesforceSaveResult } from '../ports/salesforce-api.js';
import {
  SalesforceApiError,
  SalesforceApiLimitError,
  SalesforceAuthError,
  SalesforceBulkJobError,
} from '../ports/salesforce-errors.js';
import type { FlushState, StagedItemSummary } from '../ports/staged-task-store.js';
import type { ActivityDeps } from './activity-deps.js';
import { requireQueueUrl } from './activity-deps.js';
import type { FlushMessage } from './messages.js';
import { redirectConvertedLeads } from './redirect-converted-leads.js';
import { RunTally } from './run-tally.js';
import { type Settlement, settleTaskResult, type TaskRef } from './settle-task-result.js';
import { refusesCreateOnlyField, upsertTasksByExternalId } from './upsert-tasks.js';

export type FlushDeps = Pick<
  ActivityDeps,
  'settings' | 'logger' | 'ledger' | 'runs' | 'staging' | 'salesforce' | 'sender' | 'queueUrls' | 'now'
> &
  /** Present where onLeadDeleted = deleteTask is used (the flush records those Tasks by lead). */
  Partial<Pick<ActivityDeps, 'leadTasks'>>;

/** Longest one flush may hold the lease (the flush function's timeout); a crashed flush's lease expires after it. */
export const FLUSH_LEASE_MS = 15 * 60_000;
/** Flushes a row may hit a transient failure in before it is recorded failed (the DLQ's maxReceiveCount, for rows). */
export const MAX_FLUSH_ATTEMPTS = 5;
/** Uncompressed JSON bytes of rows per job: JSON is longer than the CSV, which must stay under 100 MB. */
export const MAX_JOB_BYTES = 80_000_000;
const SETTLE_SLICE = 500;

export interface FlushOutcome {
  /**
   * empty: nothing staged; busy: another flush holds the lease; pending: the Bulk job is still
   * running (its id is kept: the next flush waits for it); flushed: this flush settled its rows.
   */
  status: 'empty' | 'busy' | 'pending' | 'flushed';
  /** Staged rows this flush covered (after de-duplication). */
  rows: number;
  via?: 'bulk' | 'collections';
  jobId?: string;
  written: number;
  failed: number;
  /** Rows put back for the next flush after a transient failure. */
  restaged: number;
  /** Staged items left for a later flush (restaged rows, or more than one job's worth). */
  remaining: number;
}

/** Why a row is worth another try: the record errors that are transient, and what a Bulk job leaves undone. */
function retryable(e: SalesforceRecordError): boolean {
  return (
    isTransientRecordError(e) ||
    e.statusCode === 'UNPROCESSED' ||
    e.statusCode === 'BULK_JOB_FAILED' ||
    (e.statusCode === 'INVALID_FIELD_FOR_INSERT_UPDATE' && (e.fields ?? []).includes('TaskSubtype'))
  );
}

/**
 * Writes staged Tasks: takes the flush lease, covers the staged items up to one job's size (or
 * resumes the items and Bulk job a crashed flush left), skips rows the ledger already settled,
 * then upserts the rest on the External ID — one Bulk API 2.0 job at or above
 * `salesforce.bulkThreshold` rows (its id persisted before the upload, so a restart waits for the
 * same job), sObject Collections below. Every result row is settled in the ledger: done, or failed
 * with the reason. Rows the job failed transiently, did not process, or lost to a job that failed
 * as a whole are retried at once through collections; what still fails transiently is staged
 * again for the next flush, and recorded failed after MAX_FLUSH_ATTEMPTS. Only then are the
 * covered items removed. Counts go to each row's own run report.
 */
export async function flushStagedTasks(
  deps: FlushDeps,
  options: { leaseMs?: number; takeOverLease?: boolean } = {},
): Promise<FlushOutcome> {
  const owner = randomUUID();
  const state = await deps.staging.acquireFlush(owner, {
    leaseMs: options.leaseMs ?? FLUSH_LEASE_MS,
    ...(options.takeOverLease ? { takeOver: true } : {}),
  });
  const out: FlushOutcome = { status: 'flushed', rows: 0, written: 0, failed: 0, restaged: 0, remaining: 0 };
  if (!state) return { ...out, status: 'busy' };
  const tally = new RunTally();
  let settled = false;
  try {
    const plan = await planFlush(deps, owner, state);
    if (!plan) {
      await deps.staging.completeFlush(owner);
      settled = true;
      return { ...out, status: 'empty' };
    }
    out.remaining = plan.remaining;
    const rows = dedupeRows(await deps.staging.load(plan.members));
    out.rows = rows.length;
    const open = await withoutSettled(deps, rows, tally);
    let results: SalesforceSaveResult[] = [];
    if (open.length > 0) {
      const bulk = plan.jobId !== undefined || open.length >= deps.settings.salesforce.bulkThreshold;
      out.via = bulk ? 'bulk' : 'collections';
      if (bulk) {
        try {
          results = await bulkUpsert(deps, owner, open, plan.jobId, (jobId) => {
            out.jobId = jobId;
            tally.add(newestRun(open), 'bulkJobs');
          });
          out.jobId ??= plan.jobId;
        } catch (error) {
          if (error instanceof SalesforceBulkJobError && error.errorCode === 'BULK_JOB_TIMEOUT') {
            deps.logger.info('Bulk job still running; the next flush waits for it', { jobId: error.jobId });
            return { ...out, status: 'pending', jobId: error.jobId };
          }
          if (!bulkUnavailable(error)) throw error;
          // The org refused the job itself (Bulk API not permitted, job spec refused, upload
          // failed): the same upserts through collections, each with its own result.
          deps.logger.warn('Bulk API 2.0 job could not run; writing these Tasks through collections', {
            error: { name: (error as Error).name, message: (error as Error).message },
          });
          out.via = 'collections';
        }
      }
      if (out.via === 'collections') {
        results = await upsertTasksByExternalId(
          deps,
          open.map((r) => r.task),
        );
      }
    }
    if (open.length > 0) {
      // A converted Lead refuses its Tasks: they go to its Contact, through collections, now.
      const items = open.map((r) => ({ ref: taskRef(r), task: r.task }));
      results = await redirectConvertedLeads(deps, items, results, (redirected) =>
        upsertTasksByExternalId(
          deps,
          redirected.map((i) => i.task),
        ),
      );
      items.forEach((item, i) => {
        open[i]!.whoId = item.ref.whoId;
      });
    }
    let retry = await settleRows(deps, open, results, tally, out);
    if (retry.length > 0 && out.via === 'bulk') {
      // Locked, unprocessed or lost to a failed job: once more through collections, right away.
      const again = await upsertTasksByExternalId(
        deps,
        retry.map((r) => r.row.task),
      );
      retry = await settleRows(
        deps,
        retry.map((r) => r.row),
        again,
        tally,
        out,
      );
    }
    await restage(deps, plan.flushId, retry, tally, out);
    await deps.staging.remove(plan.members);
    await deps.staging.completeFlush(owner);
    settled = true;
    return out;
  } finally {
    await tally.flush(deps.runs);
    if (!settled) await deps.staging.releaseFlush(owner);
  }
}

interface Plan {
  flushId: string;
  members: string[];
  jobId?: string;
  remaining: number;
}

/** The flush a crashed or timed-out flush left, or a new one over the oldest staged items (≤ one job). */
async function planFlush(deps: FlushDeps, owner: string, state: FlushState): Promise<Plan | undefined> {
  if (state.flushId && state.members) {
    return {
      flushId: state.flushId,
      members: state.members,
      ...(state.jobId ? { jobId: state.jobId } : {}),
      remaining: 0,
    };
  }
  const staged = await deps.staging.list();
  if (staged.length === 0) return undefined;
  const members = selectMembers(staged);
  const flushId = randomUUID();
  await deps.staging.planFlush(owner, flushId, members);
  return { flushId, members, remaining: staged.length - members.length };
}

function selectMembers(staged: StagedItemSummary[]): string[] {
  const members: string[] = [];
  let bytes = 0;
  for (const item of staged) {
    if (members.length > 0 && bytes + item.bytes > MAX_JOB_BYTES) break;
    members.push(item.sk);
    bytes += item.bytes;
  }
  return members;
}

/** One row per marketoGUID (a message redelivered across runs can stage an activity twice). */
function dedupeRows(rows: StagedRow[]): StagedRow[] {
  const seen = new Map<string, StagedRow>();
  for (const r of rows) {
    const known = seen.get(r.marketoGUID);
    if (!known || r.attempts > known.attempts) seen.set(r.marketoGUID, r);
  }
  return [...seen.values()];
}

/** Rows the ledger already settled (an earlier flush, or the collections path) are counted skipped, not written again. */
async function withoutSettled(deps: FlushDeps, rows: StagedRow[], tally: RunTally): Promise<StagedRow[]> {
  const ledger = await deps.ledger.getMany(rows.map((r) => r.marketoGUID));
  return rows.filter((r) => {
    const status = ledger.get(r.marketoGUID)?.status;
    if (status === 'done') tally.add(r.runId, 'skipped.alreadyWritten');
    else if (status === 'failed') tally.add(r.runId, 'skipped.previouslyFailed');
    else if (status === 'skipped') tally.add(r.runId, 'skipped.alreadySkipped');
    else return true;
    return false;
  });
}

async function bulkUpsert(
  deps: FlushDeps,
  owner: string,
  rows: StagedRow[],
  resumeJobId: string | undefined,
  created: (jobId: string) => void,
): Promise<SalesforceSaveResult[]> {
  if (!deps.salesforce.bulkUpsert) throw new Error('This Salesforce client has no Bulk API 2.0 support');
  return deps.salesforce.bulkUpsert(
    'Task',
    deps.settings.salesforce.taskExternalIdField,
    rows.map((r) => r.task),
    {
      ...(resumeJobId ? { resumeJobId } : {}),
      onJobCreated: async (jobId) => {
        await deps.staging.recordJob(owner, jobId);
        created(jobId);
      },
    },
  );
}

interface Retry {
  row: StagedRow;
  codes: string[];
}

/** Settles each row in the ledger; returns the rows to try again, with the codes that refused them. */
async function settleRows(
  deps: FlushDeps,
  rows: StagedRow[],
  results: SalesforceSaveResult[],
  tally: RunTally,
  out: FlushOutcome,
): Promise<Retry[]> {
  const settlements: Settlement[] = [];
  // In slices: a 100k-row job must not open 100k ledger writes at once.
  for (let start = 0; start < rows.length; start += SETTLE_SLICE) {
    settlements.push(
      ...(await Promise.all(
        rows.slice(start, start + SETTLE_SLICE).map((r, j) => {
          const result = results[start + j];
          // An existing Task refused the create-only TaskSubtype: collections retry it without.
          return result && refusesCreateOnlyField(result)
            ? { kind: 'retry' as const, codes: ['INVALID_FIELD_FOR_INSERT_UPDATE'] }
            : settleTaskResult(deps, taskRef(r), result, retryable);
        }),
      )),
    );
  }
  const retry: Retry[] = [];
  settlements.forEach((s, i) => {
    const row = rows[i]!;
    switch (s.kind) {
      case 'written':
        out.written++;
        tally.add(row.runId, 'written');
        tally.add(row.runId, s.created ? 'created' : 'updated');
        break;
      case 'alreadyWritten':
        tally.add(row.runId, 'skipped.alreadyWritten');
        break;
      case 'failed':
        out.failed++;
        tally.add(row.runId, 'failed');
        break;
      case 'alreadyFailed':
        tally.add(row.runId, 'skipped.previouslyFailed');
        break;
      case 'retry':
        tally.add(row.runId, 'retried');
        retry.push({ row, codes: s.codes });
        break;
    }
  });
  return retry;
}

/**
 * Rows still refused transiently go back to staging under a key derived from this flush (a
 * resumed flush overwrites the same item), or are recorded failed once they used up their attempts.
 */
async function restage(
  deps: FlushDeps,
  flushId: string,
  retry: Retry[],
  tally: RunTally,
  out: FlushOutcome,
): Promise<void> {
  const again: StagedRow[] = [];
  for (const { row, codes } of retry) {
    const attempts = row.attempts + 1;
    if (attempts < MAX_FLUSH_ATTEMPTS) {
      again.push({ ...row, attempts });
      continue;
    }
    const reason = `still refused after ${attempts} flushes: ${[...new Set(codes)].join(', ')}`;
    deps.logger.warn('Staged Task given up after repeated transient failures; recorded failed', {
      marketoGUID: row.marketoGUID,
      reason,
    });
    if (await deps.ledger.markFailed({ ...taskRef(row), reason })) {
      out.failed++;
      tally.add(row.runId, 'failed');
    } else tally.add(row.runId, 'skipped.previouslyFailed');
  }
  if (again.length === 0) return;
  await deps.staging.stage(`retry-${flushId}`, again, deps.now?.() ?? new Date());
  out.restaged = again.length;
  out.remaining++;
}

function taskRef(row: StagedRow): TaskRef {
  const { task: _task, attempts: _attempts, ...ref } = row;
  return ref;
}

/** Errors that mean "this org will not run the Bulk job" (not a budget, login or timeout problem). */
function bulkUnavailable(error: unknown): boolean {
  return (
    error instanceof SalesforceApiError &&
    !(error instanceof SalesforceApiLimitError) &&
    !(error instanceof SalesforceAuthError) &&
    !(error instanceof SalesforceBulkJobError)
  );
}

function newestRun(rows: StagedRow[]): string {
  return rows.reduce((max, r) => (r.runId > max ? r.runId : max), rows[0]?.runId ?? '');
}

/**
 * The flush function's step (AWS): a signal arrives `bulkFlushQuietSeconds` after Tasks were
 * staged. While staging is not yet quiet, a later signal (sent by the later staging) will come,
 * so this one ends. Otherwise flush; when work is left (a job still running, another flush
 * holding the lease, restaged rows, more than one job's worth) send a new signal for later.
 */
export async function flushOnSignal(deps: FlushDeps, msg: FlushMessage): Promise<FlushOutcome | 'notQuiet'> {
  const now = (deps.now?.() ?? new Date()).getTime();
  const quietSeconds = deps.settings.salesforce.bulkFlushQuietSeconds;
  const last = await deps.staging.lastStagedAt();
  if (last !== undefined && now - last < quietSeconds * 1000) return 'notQuiet';
  const out = await flushStagedTasks(deps);
  const later = out.status === 'busy' || out.status === 'pending' || out.restaged > 0;
  if (later || out.remaining > 0) {
    const signal: FlushMessage = { kind: 'flushTasks', runId: msg.runId };
    await deps.sender.send(requireQueueUrl(deps, 'flush'), [signal], {
      // Restaged rows moved the quiet clock: wait at least the quiet period (and ≥ 30 s for a lock to clear).
      delaySeconds: later ? Math.min(900, Math.max(quietSeconds, 30)) : 0,
    });
  }
  return out;
}

export interface FlushAllOutcome {
  /** Nothing is left staged. */
  empty: boolean;
  flushes: number;
  jobIds: string[];
  written: number;
  failed: number;
}

/**
 * Flushes until nothing is staged (the CLI, once its queues drained): resumes a running job,
 * retries restaged rows after a pause, and gives up after `maxErrors` failed flushes in a row or
 * at the deadline — leaving the rows staged for the next cycle, never dropping them.
 */
export async function flushUntilEmpty(
  deps: FlushDeps,
  options: { timeoutMs: number; pauseMs?: number; maxErrors?: number; takeOverLease?: boolean },
): Promise<FlushAllOutcome> {
  const deadline = Date.now() + options.timeoutMs;
  const pauseMs = options.pauseMs ?? 1_000;
  const total: FlushAllOutcome = { empty: false, flushes: 0, jobIds: [], written: 0, failed: 0 };
  let errors = 0;
  while (Date.now() < deadline) {
    let out: FlushOutcome;
    try {
      out = await flushStagedTasks(deps, options.takeOverLease ? { takeOverLease: true } : {});
      errors = 0;
    } catch (error) {
      deps.logger.warn('Flush of staged Tasks failed; the staged rows are kept and tried again', {
        error: error instanceof Error ? { name: error.name, message: error.message } : String(error),
      });
      if (++errors >= (options.maxErrors ?? 5)) return total;
      await sleep(pauseMs);
      continue;
    }
    if (out.status === 'empty') return { ...total, empty: true };
    total.flushes++;
    total.written += out.written;
    total.failed += out.failed;
    if (out.jobId && !total.jobIds.includes(out.jobId)) total.jobIds.push(out.jobId);
    if (out.status === 'busy' || out.restaged > 0) await sleep(pauseMs);
  }
  return total;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
