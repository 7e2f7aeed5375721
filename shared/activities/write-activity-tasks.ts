import { randomUUID } from 'node:crypto';
import type { CachedLead } from '../adapters/dynamodb/lead-cache-store.js';
import type { SalesforceSaveResult, TaskRecord } from '../adapters/salesforce/salesforce-api.js';
import { soql, soqlIdentifier } from '../adapters/salesforce/soql.js';
import { enabledSettingFor } from '../domain/activity-streams.js';
import { mapActivityToTask } from '../domain/task-mapping.js';
import { isTransientRecordError, resolveWhoId, type SkipReason } from '../domain/task-policy.js';
import type { ActivityDeps } from './activity-deps.js';
import type { WriteActivity, WriteMessage } from './messages.js';

/** Marketo lead fields needed to find the Salesforce record. */
export const LEAD_LINK_FIELDS = ['id', 'sfdcType', 'sfdcLeadId', 'sfdcContactId'];
const MARKETO_FILTER_MAX = 300;

export interface WriteOutcome {
  written: number;
  created: number;
  updated: number;
  skipped: Partial<Record<SkipReason, number>>;
  failed: number;
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

interface Pending {
  activity: WriteActivity;
  task: TaskRecord;
  whoId: string;
}

/**
 * Write step: skip what needs no Task (type disabled, no Salesforce record, already written),
 * resolve WhoIds (cache, then ≤ 300-id Marketo look-ups), write Tasks, and record each outcome
 * in the ledger. Permanent per-record failures are recorded and do not poison the message;
 * transient ones make it fail so SQS retries it (and, after N receives, dead-letters it).
 */
export async function writeActivityTasks(deps: ActivityDeps, msg: WriteMessage): Promise<WriteOutcome> {
  const out: WriteOutcome = { written: 0, created: 0, updated: 0, skipped: {}, failed: 0, retry: 0 };
  const skip = (reason: SkipReason) => {
    out.skipped[reason] = (out.skipped[reason] ?? 0) + 1;
  };
  const retryCodes = new Set<string>();
  try {
    const unique = dedupe(msg.activities);
    const eligible = unique.filter((a) => {
      if (enabledSettingFor(deps.settings, a.activityTypeName)) return true;
      skip('typeDisabled');
      return false;
    });
    const ledger = await deps.ledger.getMany(eligible.map((a) => a.marketoGUID));
    const fresh = eligible.filter((a) => {
      const entry = ledger.get(a.marketoGUID);
      if (entry?.status === 'done') skip('alreadyWritten');
      else if (entry?.status === 'failed') skip('previouslyFailed');
      else if (entry?.status === 'skipped') skip('alreadySkipped');
      else return true;
      return false;
    });
    const leads = await resolveLeads(deps, [...new Set(fresh.map((a) => a.leadId))]);
    const pending: Pending[] = [];
    for (const activity of fresh) {
      const who = resolveWhoId(leads.get(activity.leadId));
      if (!who.ok) {
        const first = await deps.ledger.markSkipped({
          marketoGUID: activity.marketoGUID,
          leadId: activity.leadId,
          activityTypeName: activity.activityTypeName,
          activityDate: activity.activityDate,
          runId: msg.runId,
          reason: who.reason,
        });
        skip(first ? who.reason : 'alreadySkipped');
        continue;
      }
      const setting = enabledSettingFor(deps.settings, activity.activityTypeName)!;
      pending.push({
        activity,
        whoId: who.whoId,
        task: mapActivityToTask({
          activity,
          activityTypeName: activity.activityTypeName,
          setting,
          whoId: who.whoId,
          externalIdField: deps.settings.salesforce.taskExternalIdField,
        }),
      });
    }
    if (pending.length > 0) {
      const results =
        deps.settings.salesforce.upsertMode === 'externalId'
          ? await upsertByExternalId(deps, pending)
          : await writeThroughLedger(deps, pending);
      await recordResults(deps, msg.runId, pending, results, out, retryCodes);
    }
  } finally {
    await deps.runs.add('activities', msg.runId, {
      written: out.written,
      created: out.created,
      updated: out.updated,
      failed: out.failed,
      retried: out.retry,
      ...Object.fromEntries(Object.entries(out.skipped).map(([k, v]) => [`skipped.${k}`, v ?? 0])),
    });
  }
  if (out.retry > 0) throw new TransientWriteError(out.retry, [...retryCodes]);
  return out;
}

function dedupe(activities: WriteActivity[]): WriteActivity[] {
  const seen = new Map<string, WriteActivity>();
  for (const a of activities) if (!seen.has(a.marketoGUID)) seen.set(a.marketoGUID, a);
  return [...seen.values()];
}

/** Cache first; the rest from Marketo in ≤ 300-id calls; leads Marketo does not return are cached as absent. */
async function resolveLeads(deps: ActivityDeps, leadIds: number[]): Promise<Map<number, CachedLead>> {
  const known = await deps.leadCache.getMany(leadIds);
  const missing = leadIds.filter((id) => !known.has(id));
  const fetched: CachedLead[] = [];
  for (let i = 0; i < missing.length; i += MARKETO_FILTER_MAX) {
    const ids = missing.slice(i, i + MARKETO_FILTER_MAX);
    const leads = await deps.marketo.getLeads({
      filterType: 'id',
      filterValues: ids,
      fields: LEAD_LINK_FIELDS,
    });
    const byId = new Map(leads.map((l) => [l.id, l]));
    for (const id of ids) {
      const l = byId.get(id);
      fetched.push(
        l
          ? {
              leadId: id,
              exists: true,
              sfdcType: l.sfdcType ?? null,
              sfdcLeadId: l.sfdcLeadId ?? null,
              sfdcContactId: l.sfdcContactId ?? null,
            }
          : { leadId: id, exists: false },
      );
    }
  }
  await deps.leadCache.putMany(fetched);
  for (const l of fetched) known.set(l.leadId, l);
  return known;
}

async function upsertByExternalId(deps: ActivityDeps, pending: Pending[]): Promise<SalesforceSaveResult[]> {
  const { taskExternalIdField, bulkThreshold } = deps.settings.salesforce;
  const records = pending.map((p) => p.task);
  const results =
    records.length >= bulkThreshold && deps.salesforce.bulkUpsert
      ? await deps.salesforce.bulkUpsert('Task', taskExternalIdField, records)
      : await deps.salesforce.upsert('Task', taskExternalIdField, records);
  // TaskSubtype can only be set on create: a Task that already exists (written by an attempt whose
  // ledger entry was lost) refuses it. Upsert those again without it.
  const again = results.flatMap((r, i) => (r && refusesCreateOnlyField(r) ? [i] : []));
  if (again.length === 0) return results;
  const retried = await deps.salesforce.upsert(
    'Task',
    taskExternalIdField,
    again.map((i) => {
      const { TaskSubtype: _createOnly, ...rest } = records[i]!;
      return rest;
    }),
  );
  again.forEach((i, j) => {
    const r = retried[j];
    if (r) results[i] = r;
  });
  return results;
}

function refusesCreateOnlyField(r: SalesforceSaveResult): boolean {
  return (
    !r.success &&
    r.errors.some(
      (e) => e.statusCode === 'INVALID_FIELD_FOR_INSERT_UPDATE' && (e.fields ?? []).includes('TaskSubtype'),
    )
  );
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
async function writeThroughLedger(deps: ActivityDeps, pending: Pending[]): Promise<SalesforceSaveResult[]> {
  const field = deps.settings.salesforce.taskExternalIdField;
  const owner = randomUUID();
  const results = new Map<string, SalesforceSaveResult>();
  const claimed: Pending[] = [];
  const unknown: Pending[] = [];
  for (const p of pending) {
    const claim = await deps.ledger.claim(
      { marketoGUID: p.activity.marketoGUID, whoId: p.whoId, leadId: p.activity.leadId },
      owner,
      CLAIM_LEASE_MS,
    );
    if (!claim.claimed) {
      results.set(p.activity.marketoGUID, {
        success: false,
        errors: [{ statusCode: 'CLAIMED_ELSEWHERE', message: 'another attempt is writing this activity' }],
      });
      continue;
    }
    claimed.push(p);
    if (claim.hadAttempt) unknown.push(p);
  }
  try {
    for (let i = 0; i < unknown.length; i += 200) {
      const guids = unknown.slice(i, i + 200).map((p) => p.activity.marketoGUID);
      const rows = await deps.salesforce.query<Record<string, unknown>>(
        soql`SELECT Id, ${soqlIdentifier(field)} FROM Task WHERE ${soqlIdentifier(field)} IN ${guids}`,
      );
      for (const row of rows) {
        results.set(String(row[field]), { id: String(row.Id), success: true, created: false, errors: [] });
      }
    }
    const toCreate = claimed.filter((p) => !results.has(p.activity.marketoGUID));
    if (toCreate.length) {
      const created = await deps.salesforce.create(
        'Task',
        toCreate.map((p) => p.task),
      );
      toCreate.forEach((p, i) => {
        const r = created[i];
        if (r) results.set(p.activity.marketoGUID, r);
      });
    }
    return pending.map(
      (p): SalesforceSaveResult =>
        results.get(p.activity.marketoGUID) ?? {
          success: false,
          errors: [{ statusCode: 'NO_RESULT', message: 'no result returned' }],
        },
    );
  } finally {
    // Entries that reach done are no longer pending; release the rest for the next attempt.
    // (Recording results happens after this returns; a release before it is harmless: done wins.)
    await Promise.all(
      claimed
        .filter((p) => !results.get(p.activity.marketoGUID)?.success)
        .map((p) => deps.ledger.release(p.activity.marketoGUID, owner)),
    );
  }
}

async function recordResults(
  deps: ActivityDeps,
  runId: string,
  pending: Pending[],
  results: SalesforceSaveResult[],
  out: WriteOutcome,
  retryCodes: Set<string>,
): Promise<void> {
  await Promise.all(
    pending.map(async (p, i) => {
      const r = results[i];
      const base = {
        marketoGUID: p.activity.marketoGUID,
        whoId: p.whoId,
        leadId: p.activity.leadId,
        activityTypeName: p.activity.activityTypeName,
        activityDate: p.activity.activityDate,
        runId,
      };
      if (r?.success && r.id) {
        if (await deps.ledger.markDone({ ...base, taskId: r.id })) {
          out.written++;
          if (r.created) out.created++;
          else out.updated++;
        } else {
          out.skipped.alreadyWritten = (out.skipped.alreadyWritten ?? 0) + 1;
        }
        return;
      }
      const errors = r?.errors ?? [
        { statusCode: 'NO_RESULT', message: 'no result returned for this record' },
      ];
      if (errors.some(isTransientRecordError)) {
        out.retry++;
        for (const e of errors) retryCodes.add(e.statusCode);
        return;
      }
      const reason = errors.map((e) => `${e.statusCode}: ${e.message}`).join('; ');
      deps.logger.warn('Task refused by Salesforce; recorded, not retried', {
        marketoGUID: base.marketoGUID,
        reason,
      });
      if (await deps.ledger.markFailed({ ...base, reason })) out.failed++;
    }),
  );
}
