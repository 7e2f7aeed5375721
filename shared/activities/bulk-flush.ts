import { randomUUID } from 'node:crypto';
import type { StagedRow } from '../domain/staged-row.js';
import type { SalesforceSaveResult } from '../ports/salesforce-api.js';
import { SalesforceBulkJobError } from '../ports/salesforce-errors.js';
import { requireQueueUrl } from './activity-deps.js';
import { bulkUnavailable, bulkUpsert } from './bulk-upsert.js';
import type { FlushDeps, FlushOutcome } from './flush-deps.js';
import type { FlushMessage } from './messages.js';
import { dedupeRows, planFlush, withoutSettled } from './plan-flush.js';
import { redirectConvertedLeads } from './redirect-converted-leads.js';
import { RunTally } from './run-tally.js';
import { restage, settleRows, taskRef } from './settle-staged-rows.js';
import { upsertTasksByExternalId } from './upsert-tasks.js';

export type { FlushDeps, FlushOutcome } from './flush-deps.js';
export { MAX_JOB_BYTES } from './plan-flush.js';
export { MAX_FLUSH_ATTEMPTS } from './settle-staged-rows.js';

/** Longest one flush may hold the lease (the flush function's timeout); a crashed flush's lease expires after it. */
export const FLUSH_LEASE_MS = 15 * 60_000;

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
