import type { SkipReason } from '../domain/task-policy.js';
import type { ActivityDeps } from './activity-deps.js';
import { parseMessage, writeMessageSchema } from './messages.js';
import { type ParsedWriteMessage, prepareTasks, type TaskItem } from './prepare-tasks.js';
import { routeTasks } from './route-tasks.js';
import { RunTally } from './run-tally.js';
import type { Settlement } from './settle-task-result.js';
import { stageTasks } from './stage-tasks.js';
import { writeTaskChunks } from './write-task-chunks.js';

export { waitsUntil } from './prepare-tasks.js';
export { LEAD_LINK_FIELDS, salesforceLinkOf } from './resolve-leads.js';
export { CLAIM_LEASE_MS } from './write-through-ledger.js';

export interface WriteOutcome {
  written: number;
  created: number;
  updated: number;
  skipped: Partial<Record<SkipReason, number>>;
  failed: number;
  /** Handed to the Bulk staging table (written by the flush, counted written then). */
  staged: number;
  /** Activities refused transiently (lock, limits): the message is retried; done ones are skipped then. */
  retry: number;
}

export class TransientWriteError extends Error {
  override readonly name = 'TransientWriteError';
  constructor(
    readonly count: number,
    readonly codes: string[],
  ) {
    super(
      `${count} Task write(s) failed transiently (${codes.join(', ')}); the message will be retried and written ones skipped.`,
    );
  }
}

/** One SQS record of the write queue. */
export interface WriteRecord {
  messageId: string;
  body: string;
}

/** Per message: its outcome, or the error that makes SQS retry it (reported in batchItemFailures). */
export type WriteResult = { ok: true; outcome: WriteOutcome } | { ok: false; error: unknown };

/**
 * Write step for one SQS batch of the write queue. In externalId mode the Tasks of ALL the
 * batch's messages are pooled (deduplicated by marketoGUID, leads resolved in one look-up) and
 * upserted in chunks of exactly 200; the remainder (< 200) is staged and written, with every other
 * batch's remainder, in full chunks by the flush (bulk-flush.ts) at the end of the cycle. Each
 * result is mapped back to the message(s) it came from: a message succeeds only when every one of
 * its activities is written, skipped, failed for good or staged; one with a transient refusal
 * (lock) fails alone, and a chunk whose call fails fails only the messages with Tasks in it. Once
 * the run has read `salesforce.bulkThreshold` activities all its Tasks are staged, for Bulk API
 * 2.0. A message that is not valid fails alone.
 *
 * Ledger mode keeps one message per unit of work: its claims are leases sized to one attempt, the
 * claim loop is sequential, and a create whose response is lost puts every claimed activity of
 * the unit into "look it up first"; one message bounds all three.
 */
export async function writeActivityBatch(
  deps: ActivityDeps,
  records: readonly WriteRecord[],
): Promise<Map<string, WriteResult>> {
  const results = new Map<string, WriteResult>();
  const parsed: ParsedWriteMessage[] = [];
  for (const r of records) {
    try {
      parsed.push({ id: r.messageId, msg: parseMessage(writeMessageSchema, 'write', r.body) });
    } catch (error) {
      results.set(r.messageId, { ok: false, error });
    }
  }
  const units =
    deps.settings.salesforce.upsertMode === 'ledger' ? parsed.map((p) => [p]) : parsed.length ? [parsed] : [];
  for (const unitResults of await Promise.all(units.map((unit) => writeUnit(deps, unit)))) {
    for (const [id, result] of unitResults) results.set(id, result);
  }
  return results;
}

/** A message's outcome before any of its activities is settled. */
export const emptyOutcome = (): WriteOutcome => ({
  written: 0,
  created: 0,
  updated: 0,
  skipped: {},
  failed: 0,
  staged: 0,
  retry: 0,
});

async function writeUnit(deps: ActivityDeps, unit: ParsedWriteMessage[]): Promise<Map<string, WriteResult>> {
  const tally = new RunTally();
  const outcomes = new Map(unit.map((p) => [p.id, emptyOutcome()]));
  const runOf = new Map(unit.map((p) => [p.id, p.msg.runId]));
  const errors = new Map<string, unknown>();
  const retryCodes = new Map<string, Set<string>>();
  const bump = (id: string, key: 'written' | 'created' | 'updated' | 'failed' | 'staged' | 'retry') => {
    outcomes.get(id)![key]++;
    tally.add(runOf.get(id)!, key === 'retry' ? 'retried' : key);
  };
  const skip = (id: string, reason: SkipReason) => {
    const out = outcomes.get(id)!;
    out.skipped[reason] = (out.skipped[reason] ?? 0) + 1;
    tally.add(runOf.get(id)!, `skipped.${reason}`);
  };
  /** A Task's fate, counted once for its first message; its other messages see a duplicate. */
  const settle = (item: TaskItem, s: Settlement) => {
    item.owners.forEach((id, n) => {
      if (s.kind === 'retry') {
        bump(id, 'retry');
        const codes = retryCodes.get(id) ?? new Set<string>();
        for (const c of s.codes) codes.add(c);
        retryCodes.set(id, codes);
      } else if (n > 0)
        skip(id, s.kind === 'failed' || s.kind === 'alreadyFailed' ? 'previouslyFailed' : 'alreadyWritten');
      else if (s.kind === 'written') {
        bump(id, 'written');
        bump(id, s.created ? 'created' : 'updated');
      } else if (s.kind === 'failed') bump(id, 'failed');
      else skip(id, s.kind === 'alreadyFailed' ? 'previouslyFailed' : 'alreadyWritten');
    });
  };
  const fail = (ownerIds: Iterable<string>, error: unknown) => {
    for (const id of ownerIds) if (!errors.has(id)) errors.set(id, error);
  };
  try {
    const items = await prepareTasks(deps, unit, skip);
    const { direct, staged } = await routeTasks(deps, items);
    await stageTasks(
      deps,
      staged,
      (item) => {
        for (const [n, id] of item.owners.entries()) {
          if (n === 0) bump(id, 'staged');
          else skip(id, 'alreadyWritten');
        }
      },
      fail,
    );
    await writeTaskChunks(deps, direct, settle, fail);
  } catch (error) {
    fail(outcomes.keys(), error);
  } finally {
    await tally.flush(deps.runs);
  }
  const out = new Map<string, WriteResult>();
  for (const [id, outcome] of outcomes) {
    const error = errors.get(id);
    if (error !== undefined) out.set(id, { ok: false, error });
    else if (outcome.retry > 0)
      out.set(id, {
        ok: false,
        error: new TransientWriteError(outcome.retry, [...(retryCodes.get(id) ?? [])]),
      });
    else out.set(id, { ok: true, outcome });
  }
  return out;
}
