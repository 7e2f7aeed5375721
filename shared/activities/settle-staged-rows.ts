import type { SalesforceRecordError } from '../domain/salesforce-records.js';
import type { StagedRow } from '../domain/staged-row.js';
import { isTransientRecordError } from '../domain/task-policy.js';
import type { SalesforceSaveResult } from '../ports/salesforce-api.js';
import type { FlushDeps, FlushOutcome } from './flush-deps.js';
import type { RunTally } from './run-tally.js';
import { type Settlement, settleTaskResult, type TaskRef } from './settle-task-result.js';
import { refusesCreateOnlyField } from './upsert-tasks.js';

/** Flushes a row may hit a transient failure in before it is recorded failed (the DLQ's maxReceiveCount, for rows). */
export const MAX_FLUSH_ATTEMPTS = 5;
const SETTLE_SLICE = 500;

/** Why a row is worth another try: the record errors that are transient, and what a Bulk job leaves undone. */
function retryable(e: SalesforceRecordError): boolean {
  return (
    isTransientRecordError(e) ||
    e.statusCode === 'UNPROCESSED' ||
    e.statusCode === 'BULK_JOB_FAILED' ||
    (e.statusCode === 'INVALID_FIELD_FOR_INSERT_UPDATE' && (e.fields ?? []).includes('TaskSubtype'))
  );
}

export interface Retry {
  row: StagedRow;
  codes: string[];
}

/** Settles each row in the ledger; returns the rows to try again, with the codes that refused them. */
export async function settleRows(
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
export async function restage(
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

export function taskRef(row: StagedRow): TaskRef {
  const { task: _task, attempts: _attempts, ...ref } = row;
  return ref;
}
