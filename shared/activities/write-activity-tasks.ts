import { randomUUID } from 'node:crypto';
import { enabledSettingFor } from '../domain/activity-streams.js';
import type { CachedLead } from '../domain/lead-link.js';
import type { TaskRecord } from '../domain/salesforce-records.js';
import { SOQL_IN_BATCH, soql, soqlIdentifier } from '../domain/soql.js';
import { type StagedRow, stagedItemKey } from '../domain/staged-row.js';
import { mapActivityToTask } from '../domain/task-mapping.js';
import { resolveWhoId, type SkipReason } from '../domain/task-policy.js';
import type { Lead } from '../ports/marketo-api.js';
import type { SalesforceSaveResult } from '../ports/salesforce-api.js';
import { SalesforceApiLimitError, SalesforceAuthError } from '../ports/salesforce-errors.js';
import { MARKETO_MAX_BATCH, SALESFORCE_MAX_COLLECTION_SIZE } from '../ports/vendor-limits.js';
import type { ActivityDeps } from './activity-deps.js';
import { type EmailMatch, matchLeadsByEmail } from './match-by-email.js';
import {
  type FlushMessage,
  parseMessage,
  type WriteActivity,
  type WriteMessage,
  writeMessageSchema,
} from './messages.js';
import { redirectConvertedLeads } from './redirect-converted-leads.js';
import { RunTally } from './run-tally.js';
import { type Settlement, settleTaskResult, type TaskRef } from './settle-task-result.js';
import { assignRecordOwners } from './task-owner.js';
import { taskTimeZone } from './task-time-zone.js';
import { upsertTasksByExternalId } from './upsert-tasks.js';

/** Marketo lead fields needed to find the Salesforce record. */
export const LEAD_LINK_FIELDS = ['id', 'sfdcType', 'sfdcLeadId', 'sfdcContactId'];

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

/** One Task to write, and the messages waiting for it (the first one counts it). */
interface Item {
  ref: TaskRef;
  task: TaskRecord;
  owners: string[];
}

interface Parsed {
  id: string;
  msg: WriteMessage;
}

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
  const parsed: Parsed[] = [];
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

const emptyOutcome = (): WriteOutcome => ({
  written: 0,
  created: 0,
  updated: 0,
  skipped: {},
  failed: 0,
  staged: 0,
  retry: 0,
});

async function writeUnit(deps: ActivityDeps, unit: Parsed[]): Promise<Map<string, WriteResult>> {
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
  const settle = (item: Item, s: Settlement) => {
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
    const items = await prepare(deps, unit, skip);
    const { direct, staged } = await route(deps, items);
    await stage(
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
    await write(deps, direct, settle, fail);
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

/**
 * Skip what needs no Task (type disabled, already settled in the ledger, no Salesforce record),
 * resolve WhoIds for the whole unit at once, and map the rest to Tasks, one per marketoGUID.
 */
async function prepare(
  deps: ActivityDeps,
  unit: Parsed[],
  skip: (id: string, reason: SkipReason) => void,
): Promise<Item[]> {
  const eligible: { id: string; runId: string; activity: WriteActivity }[] = [];
  for (const { id, msg } of unit) {
    for (const activity of dedupe(msg.activities)) {
      if (enabledSettingFor(deps.settings, activity.activityTypeName))
        eligible.push({ id, runId: msg.runId, activity });
      else skip(id, 'typeDisabled');
    }
  }
  const ledger = await deps.ledger.getMany(eligible.map((e) => e.activity.marketoGUID));
  const fresh = eligible.filter(({ id, activity }) => {
    const entry = ledger.get(activity.marketoGUID);
    if (entry?.status === 'done') skip(id, 'alreadyWritten');
    else if (entry?.status === 'failed') skip(id, 'previouslyFailed');
    // "No Salesforce record" is never final (an entry an earlier version recorded is revisited too).
    else if (entry?.status === 'skipped' && entry.reason !== 'noSalesforceRecord') skip(id, 'alreadySkipped');
    else return true;
    return false;
  });
  const leads = await resolveLeads(
    deps,
    [...new Set(fresh.map((e) => e.activity.leadId))],
    fresh[0]?.runId ?? '',
  );
  const matches =
    deps.settings.activities.unlinkedLeads === 'matchByEmail'
      ? await matchLeadsByEmail(
          deps,
          [...leads.values()].filter((l) => !resolveWhoId(l).ok),
        )
      : new Map<number, EmailMatch>();
  const now = deps.now?.() ?? new Date();
  const timeZone = fresh.length ? await taskTimeZone(deps) : 'UTC';
  const waiting: { activity: WriteActivity; keepUntil: Date }[] = [];
  const items = new Map<string, Item>();
  for (const { id, runId, activity } of fresh) {
    const known = items.get(activity.marketoGUID);
    if (known) {
      known.owners.push(id);
      continue;
    }
    const linked = resolveWhoId(leads.get(activity.leadId));
    const match = matches.get(activity.leadId);
    const who = !linked.ok && match ? { ok: true as const, ...match } : linked;
    if (!who.ok && who.reason === 'noSalesforceRecord') {
      // The person may reach Salesforce later: kept and revisited each run inside the type's look-back.
      const keepUntil = waitsUntil(deps.settings, activity);
      if (keepUntil > now) {
        waiting.push({ activity, keepUntil });
        skip(id, 'noSalesforceRecord');
        continue;
      }
    }
    if (!who.ok) {
      const first = await deps.ledger.markSkipped({
        marketoGUID: activity.marketoGUID,
        leadId: activity.leadId,
        activityTypeName: activity.activityTypeName,
        activityDate: activity.activityDate,
        runId,
        reason: who.reason,
      });
      skip(id, first ? who.reason : 'alreadySkipped');
      continue;
    }
    const setting = enabledSettingFor(deps.settings, activity.activityTypeName)!;
    items.set(activity.marketoGUID, {
      ref: {
        marketoGUID: activity.marketoGUID,
        runId,
        whoId: who.whoId,
        how: who.how,
        leadId: activity.leadId,
        activityTypeName: activity.activityTypeName,
        activityDate: activity.activityDate,
      },
      task: mapActivityToTask({
        activity,
        activityTypeName: activity.activityTypeName,
        setting,
        whoId: who.whoId,
        externalIdField: deps.settings.salesforce.taskExternalIdField,
        timeZone,
      }),
      owners: [id],
    });
  }
  await deps.pending.put(waiting);
  await assignRecordOwners(
    deps,
    [...items.values()].map((i) => i.task),
  );
  return [...items.values()];
}

/** When an activity stops waiting for its person to reach Salesforce: its date plus its type's look-back. */
export function waitsUntil(settings: ActivityDeps['settings'], activity: WriteActivity): Date {
  const days =
    enabledSettingFor(settings, activity.activityTypeName)?.lookbackDays ?? settings.activities.lookbackDays;
  return new Date(Date.parse(activity.activityDate) + days * 86_400_000);
}

/**
 * Which Tasks are written now and which are staged (externalId mode only; ledger mode writes all).
 * Staged: every Task of a run that has read ≥ bulkThreshold activities (Bulk API 2.0 will write
 * them), and the last `n mod 200` of the rest — so every collection call written here carries
 * exactly 200 records, and the remainders of all batches are written together, in full chunks,
 * by the flush at the end of the cycle. Over a cycle that makes ceil(N / 200) calls for N Tasks.
 */
async function route(deps: ActivityDeps, items: Item[]): Promise<{ direct: Item[]; staged: Item[] }> {
  const { upsertMode, bulkThreshold } = deps.settings.salesforce;
  if (upsertMode !== 'externalId' || items.length === 0) return { direct: items, staged: [] };
  const bulkRuns = new Set<string>();
  if (deps.salesforce.bulkUpsert) {
    for (const runId of new Set(items.map((i) => i.ref.runId))) {
      const read = (await deps.runs.get('activities', runId))?.counts.read ?? 0;
      if (read >= bulkThreshold) bulkRuns.add(runId);
    }
  }
  const staged = items.filter((i) => bulkRuns.has(i.ref.runId));
  const rest = items.filter((i) => !bulkRuns.has(i.ref.runId));
  const full = rest.length - (rest.length % SALESFORCE_MAX_COLLECTION_SIZE);
  return { direct: rest.slice(0, full), staged: [...staged, ...rest.slice(full)] };
}

/**
 * Stages Tasks for Bulk API 2.0: one item per first-owner message (a redelivery overwrites its
 * own item), then one delayed "flush" signal (AWS: the flush waits for staging to go quiet).
 * Staged counts as accepted: the flush owns the write from here.
 */
async function stage(
  deps: ActivityDeps,
  items: Item[],
  staged: (item: Item) => void,
  fail: (ownerIds: Iterable<string>, error: unknown) => void,
): Promise<void> {
  if (items.length === 0) return;
  const groups = new Map<string, Item[]>();
  for (const item of items) groups.set(item.owners[0]!, [...(groups.get(item.owners[0]!) ?? []), item]);
  const done: Item[] = [];
  await Promise.all(
    [...groups.values()].map(async (group) => {
      const rows = group.map((i): StagedRow => ({ ...i.ref, task: i.task, attempts: 0 }));
      const key = stagedItemKey(
        group[0]!.ref.runId,
        rows.map((r) => r.marketoGUID),
      );
      try {
        await deps.staging.stage(key, rows, deps.now?.() ?? new Date());
        done.push(...group);
      } catch (error) {
        fail(
          group.flatMap((i) => i.owners),
          error,
        );
      }
    }),
  );
  if (done.length === 0) return;
  const flushUrl = deps.queueUrls.flush;
  if (flushUrl) {
    try {
      const signal: FlushMessage = { kind: 'flushTasks', runId: done[0]!.ref.runId };
      await deps.sender.send(flushUrl, [signal], {
        delaySeconds: deps.settings.salesforce.bulkFlushQuietSeconds,
      });
    } catch (error) {
      // Without a signal nothing may wake the flush: retry the messages (their items are simply restaged).
      fail(
        done.flatMap((i) => i.owners),
        error,
      );
      return;
    }
  }
  for (const item of done) staged(item);
}

/**
 * Writes Tasks in chunks of exactly 200 (one collection call each), settling every result in
 * the ledger. A chunk whose call fails fails only its messages; an exhausted API budget or a
 * refused login stops the rest (their messages fail with it and are deferred, not retried).
 */
async function write(
  deps: ActivityDeps,
  items: Item[],
  settle: (item: Item, s: Settlement) => void,
  fail: (ownerIds: Iterable<string>, error: unknown) => void,
): Promise<void> {
  let stop: unknown;
  for (let i = 0; i < items.length; i += SALESFORCE_MAX_COLLECTION_SIZE) {
    const chunk = items.slice(i, i + SALESFORCE_MAX_COLLECTION_SIZE);
    const owners = chunk.flatMap((item) => item.owners);
    if (stop !== undefined) {
      fail(owners, stop);
      continue;
    }
    try {
      const writeItems = (its: Item[]) =>
        deps.settings.salesforce.upsertMode === 'externalId'
          ? upsertTasksByExternalId(
              deps,
              its.map((item) => item.task),
            )
          : writeThroughLedger(deps, its);
      const results = await redirectConvertedLeads(deps, chunk, await writeItems(chunk), writeItems);
      const settled = await Promise.all(chunk.map((item, j) => settleTaskResult(deps, item.ref, results[j])));
      for (const [j, item] of chunk.entries()) settle(item, settled[j]!);
    } catch (error) {
      fail(owners, error);
      if (error instanceof SalesforceApiLimitError || error instanceof SalesforceAuthError) stop = error;
    }
  }
}

function dedupe(activities: WriteActivity[]): WriteActivity[] {
  const seen = new Map<string, WriteActivity>();
  for (const a of activities) if (!seen.has(a.marketoGUID)) seen.set(a.marketoGUID, a);
  return [...seen.values()];
}

/**
 * Cache first; the rest from Marketo in ≤ 300-id calls. A negative answer (no link yet, or no such
 * lead) is cached for `runId` only and ignored by any other run, so a person who reaches
 * Salesforce is seen by the next run's look-up.
 */
async function resolveLeads(
  deps: ActivityDeps,
  leadIds: number[],
  runId: string,
): Promise<Map<number, CachedLead>> {
  const known = new Map(
    [...(await deps.leadCache.getMany(leadIds))].filter(
      ([, lead]) => resolveWhoId(lead).ok || lead.forRun === runId,
    ),
  );
  const missing = leadIds.filter((id) => !known.has(id));
  const fetched: CachedLead[] = [];
  for (let i = 0; i < missing.length; i += MARKETO_MAX_BATCH) {
    const ids = missing.slice(i, i + MARKETO_MAX_BATCH);
    const leads = await deps.marketo.getLeads({
      filterType: 'id',
      filterValues: ids,
      fields:
        deps.settings.activities.unlinkedLeads === 'matchByEmail'
          ? [...LEAD_LINK_FIELDS, 'email']
          : LEAD_LINK_FIELDS,
    });
    const byId = new Map(leads.map((l) => [l.id, l]));
    for (const id of ids) {
      const l = byId.get(id);
      fetched.push(l ? salesforceLinkOf(l) : { leadId: id, exists: false });
    }
  }
  // Without the email (read for matchByEmail; no personal data kept); negatives for this run only
  // (with matchByEmail not at all: matching needs the email each time).
  const matching = deps.settings.activities.unlinkedLeads === 'matchByEmail';
  await deps.leadCache.putMany(
    fetched.flatMap(({ email: _email, ...l }) =>
      resolveWhoId(l).ok ? [l] : matching ? [] : [{ ...l, forRun: runId }],
    ),
  );
  for (const l of fetched) known.set(l.leadId, l);
  return known;
}

/** What the write path keeps of a Marketo lead: its Salesforce link (and email, for matchByEmail). */
export function salesforceLinkOf(l: Lead): CachedLead {
  return {
    leadId: l.id,
    exists: true,
    sfdcType: l.sfdcType ?? null,
    sfdcLeadId: l.sfdcLeadId ?? null,
    sfdcContactId: l.sfdcContactId ?? null,
    ...(l.email ? { email: l.email } : {}),
  };
}

/** Longest one write attempt can run (the write function's timeout); a crashed attempt's claims expire after it. */
export const CLAIM_LEASE_MS = 120_000;

/**
 * Ledger mode (the org cannot make the Activity field an External ID): claim each activity (a
 * lease), look up the Task of any activity an earlier attempt already claimed (crash, lost
 * response: the outcome is unknown), create the rest, then record the Task ids. Claims are
 * released when the attempt ends, so a retry never waits for a live attempt's lease to expire,
 * and never runs alongside one.
 */
async function writeThroughLedger(deps: ActivityDeps, pending: Item[]): Promise<SalesforceSaveResult[]> {
  const field = deps.settings.salesforce.taskExternalIdField;
  const owner = randomUUID();
  const results = new Map<string, SalesforceSaveResult>();
  const claimed: Item[] = [];
  const unknown: Item[] = [];
  for (const p of pending) {
    const claim = await deps.ledger.claim(
      { marketoGUID: p.ref.marketoGUID, whoId: p.ref.whoId, leadId: p.ref.leadId },
      owner,
      CLAIM_LEASE_MS,
    );
    if (!claim.claimed) {
      results.set(p.ref.marketoGUID, {
        success: false,
        errors: [{ statusCode: 'CLAIMED_ELSEWHERE', message: 'another attempt is writing this activity' }],
      });
      continue;
    }
    claimed.push(p);
    if (claim.hadAttempt) unknown.push(p);
  }
  try {
    for (let i = 0; i < unknown.length; i += SOQL_IN_BATCH) {
      const guids = unknown.slice(i, i + SOQL_IN_BATCH).map((p) => p.ref.marketoGUID);
      const rows = await deps.salesforce.query<Record<string, unknown>>(
        soql`SELECT Id, ${soqlIdentifier(field)} FROM Task WHERE ${soqlIdentifier(field)} IN ${guids}`,
      );
      for (const row of rows) {
        results.set(String(row[field]), { id: String(row.Id), success: true, created: false, errors: [] });
      }
    }
    const toCreate = claimed.filter((p) => !results.has(p.ref.marketoGUID));
    if (toCreate.length) {
      const created = await deps.salesforce.create(
        'Task',
        toCreate.map((p) => p.task),
      );
      toCreate.forEach((p, i) => {
        const r = created[i];
        if (r) results.set(p.ref.marketoGUID, r);
      });
    }
    return pending.map(
      (p): SalesforceSaveResult =>
        results.get(p.ref.marketoGUID) ?? {
          success: false,
          errors: [{ statusCode: 'NO_RESULT', message: 'no result returned' }],
        },
    );
  } finally {
    // Entries that reach done are no longer pending; release the rest for the next attempt.
    // (Recording results happens after this returns; a release before it is harmless: done wins.)
    await Promise.all(
      claimed
        .filter((p) => !results.get(p.ref.marketoGUID)?.success)
        .map((p) => deps.ledger.release(p.ref.marketoGUID, owner)),
    );
  }
}
