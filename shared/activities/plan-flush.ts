import { randomUUID } from 'node:crypto';
import { enabledSettingFor } from '../domain/activity-streams.js';
import type { StagedRow } from '../domain/staged-row.js';
import type { FlushState, StagedItemSummary } from '../ports/staged-task-store.js';
import type { FlushDeps } from './flush-deps.js';
import type { RunTally } from './run-tally.js';

/** Uncompressed JSON bytes of rows per job: JSON is longer than the CSV, which must stay under 100 MB. */
export const MAX_JOB_BYTES = 80_000_000;

export interface Plan {
  flushId: string;
  members: string[];
  jobId?: string;
  remaining: number;
}

/** The flush a crashed or timed-out flush left, or a new one over the oldest staged items (≤ one job). */
export async function planFlush(
  deps: FlushDeps,
  owner: string,
  state: FlushState,
): Promise<Plan | undefined> {
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
export function dedupeRows(rows: StagedRow[]): StagedRow[] {
  const seen = new Map<string, StagedRow>();
  for (const r of rows) {
    const known = seen.get(r.marketoGUID);
    if (!known || r.attempts > known.attempts) seen.set(r.marketoGUID, r);
  }
  return [...seen.values()];
}

/**
 * Rows the ledger already settled (an earlier flush, or the collections path) are counted skipped,
 * not written again. A row that keeps no done entry (recordDone false: its upsert is idempotent by
 * itself) is not looked up, unless its type deletes Tasks of deleted leads (a deleted Task is
 * recorded skipped, and must not come back).
 */
export async function withoutSettled(
  deps: FlushDeps,
  rows: StagedRow[],
  tally: RunTally,
): Promise<StagedRow[]> {
  const deletes = (r: StagedRow) =>
    enabledSettingFor(deps.settings, r.activityTypeName)?.onLeadDeleted === 'deleteTask';
  const ledger = await deps.ledger.getMany(
    rows.filter((r) => r.recordDone !== false || deletes(r)).map((r) => r.marketoGUID),
  );
  return rows.filter((r) => {
    const status = ledger.get(r.marketoGUID)?.status;
    if (status === 'done') tally.add(r.runId, 'skipped.alreadyWritten');
    else if (status === 'failed') tally.add(r.runId, 'skipped.previouslyFailed');
    else if (status === 'skipped') tally.add(r.runId, 'skipped.alreadySkipped');
    else return true;
    return false;
  });
}
