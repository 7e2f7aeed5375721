import { readWindow } from '../domain/read-window.js';
import {
  type CustomActivityItem,
  type SalesActivityKind,
  type SalesActivityRecord,
  salesActivityTypeDefinition,
  toCustomActivity,
  whoObject,
} from '../domain/sales-activity.js';
import type { CustomActivityApi } from '../ports/custom-activity-api.js';
import type { SalesActivitySource } from '../ports/sales-activity-source.js';
import type { SalesActivityLedgerEntry, SalesActivityStore } from '../ports/sales-activity-store.js';
import { MARKETO_MAX_BATCH } from '../ports/vendor-limits.js';
import { ensureActivityType } from './ensure-activity-type.js';
import { resolveMarketoLeads } from './resolve-marketo-leads.js';

export interface SalesActivitySettings {
  kinds: Record<SalesActivityKind, boolean>;
  lookbackDays: number;
  overlapMinutes: number;
  activityType: { apiName: string; name: string };
}

export interface SalesActivityDeps {
  source: SalesActivitySource;
  marketo: CustomActivityApi;
  store: SalesActivityStore;
  settings: SalesActivitySettings;
  runId: string;
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Stop starting new send chunks after this long (a Lambda run's 15 minutes); unset = no limit. */
  budgetMs?: number;
}

export type SalesActivitySkipReason =
  | 'ownTask'
  | 'alreadySent'
  | 'editedAfterSend'
  | 'noPerson'
  | 'noMarketoLead';

export interface SalesActivityReport {
  since: string;
  until: string;
  read: number;
  readByKind: Record<SalesActivityKind, number>;
  added: number;
  /** Unknown outcomes (a crash after a send) found already added by reading the lead's activities back. */
  recoveredByReadBack: number;
  skipped: Record<SalesActivitySkipReason, number>;
  /** Items Marketo skipped, by error code (sent again if the record is read again). */
  failed: Record<string, number>;
  /**
   * Records whose person had no Marketo lead, kept for the look-back and read again by Id on each
   * run: `revisited` this run, `written` of them now, still `waiting` after it, `expired` (dropped).
   */
  pending: { revisited: number; written: number; waiting: number; expired: number };
  activityTypeId?: number;
  typeActions: string[];
  /** False when the run stopped at its time budget: `remaining` records wait for the next run. */
  complete: boolean;
  remaining: number;
}

/** Read-backs start this long before the earliest unknown activity's date (time-zone and rounding slack). */
const READ_BACK_MARGIN_MS = 10 * 60_000;

/**
 * One job-4a cycle: closed Tasks / ended Events since the watermark (less the overlap; the
 * look-back on the first run) → exactly one Marketo custom activity per record on the person's
 * lead. The ledger entry is written before each send, so a crash between send and record leaves
 * an unknown outcome that the next run settles by reading the type's activities back.
 */
export async function syncSalesActivity(deps: SalesActivityDeps): Promise<SalesActivityReport> {
  const clock = deps.clock ?? Date.now;
  const started = clock();
  const budget = deps.budgetMs ?? Number.POSITIVE_INFINITY;
  const { settings } = deps;
  const { since, until } = readWindow(await deps.store.getWatermark(), settings, clock());
  const report: SalesActivityReport = {
    since: since.toISOString(),
    until: until.toISOString(),
    read: 0,
    readByKind: { call: 0, email: 0, task: 0, meeting: 0 },
    added: 0,
    recoveredByReadBack: 0,
    skipped: { ownTask: 0, alreadySent: 0, editedAfterSend: 0, noPerson: 0, noMarketoLead: 0 },
    failed: {},
    pending: { revisited: 0, written: 0, waiting: 0, expired: 0 },
    typeActions: [],
    complete: true,
    remaining: 0,
  };
  const kinds = (Object.keys(settings.kinds) as SalesActivityKind[]).filter((k) => settings.kinds[k]);
  const windowRecords = kinds.length > 0 ? await deps.source.readEligible({ since, until, kinds }) : [];
  report.read = windowRecords.length;
  for (const r of windowRecords) report.readByKind[r.kind] += 1;
  // Records an earlier run skipped for want of a Marketo lead: read again by Id while inside the look-back.
  const nowMs = clock();
  const pending = await deps.store.pendingRecords();
  const expired = [...pending].filter(([, keep]) => Date.parse(keep) <= nowMs).map(([id]) => id);
  const inWindow = new Set(windowRecords.map((r) => r.id));
  const waitingIds = [...pending.keys()].filter(
    (id) => !inWindow.has(id) && Date.parse(pending.get(id) ?? '') > nowMs,
  );
  const revisited =
    waitingIds.length > 0 && kinds.length > 0
      ? await deps.source.readByIds({ ids: waitingIds, until, kinds })
      : [];
  report.pending.revisited = revisited.length;
  report.pending.expired = expired.length;
  const records = [...windowRecords, ...revisited];
  /** Where the next run starts (less the overlap): `until`, or before the first record not sent. */
  let checkpoint = until.toISOString();
  /** Record ids this run settled (sent, already sent, ours, no person): no longer pending. */
  const settledIds = new Set<string>();
  const stillPending: { recordId: string; keepUntil: string }[] = [];

  const candidates: SalesActivityRecord[] = [];
  for (const r of records) {
    if (r.marketoActivityId) {
      report.skipped.ownTask += 1;
      settledIds.add(r.id);
    } else candidates.push(r);
  }
  if (candidates.length > 0) {
    const ledger = await deps.store.getLedger(candidates.map((r) => r.id));
    const type = await ensureActivityType(
      deps.marketo,
      deps.store,
      salesActivityTypeDefinition(settings.activityType.apiName, settings.activityType.name),
      { owner: deps.runId, ...(deps.sleep ? { sleep: deps.sleep } : {}) },
    );
    report.activityTypeId = type.id;
    report.typeActions = type.actions;
    await resolveUnknownOutcomes(deps, type.id, ledger, report);

    const toSend: SalesActivityRecord[] = [];
    for (const r of candidates) {
      const entry = ledger.get(r.id);
      if (entry?.state === 'added') {
        settledIds.add(r.id);
        if (r.systemModstamp > entry.systemModstamp) report.skipped.editedAfterSend += 1;
        else report.skipped.alreadySent += 1;
      } else toSend.push(r);
    }
    // Oldest first, in chunks of one Add Custom Activities call: a run stopped by its time budget
    // has sent everything before its checkpoint (the records after it are read again next run).
    toSend.sort((x, y) => eligibleAt(x).localeCompare(eligibleAt(y)));
    const instanceUrl = deps.source.instanceUrl();
    for (let i = 0; i < toSend.length; i += MARKETO_MAX_BATCH) {
      if (i > 0 && clock() - started >= budget) {
        const rest = toSend.slice(i);
        report.complete = false;
        report.remaining = rest.length;
        const fromWindow = rest.filter((r) => inWindow.has(r.id)).map(eligibleAt);
        if (fromWindow.length > 0) checkpoint = new Date(Date.parse(fromWindow[0] ?? '') - 1).toISOString();
        break;
      }
      const chunk = toSend.slice(i, i + MARKETO_MAX_BATCH);
      const leadOf = await resolveMarketoLeads(deps, chunk);
      const items: { record: SalesActivityRecord; item: CustomActivityItem }[] = [];
      for (const r of chunk) {
        const lead = r.whoId ? leadOf.get(r.whoId) : undefined;
        if (!r.whoId || !whoObject(r.whoId)) {
          report.skipped.noPerson += 1;
          settledIds.add(r.id);
          continue;
        }
        if (lead === undefined || lead === null) {
          report.skipped.noMarketoLead += 1;
          const keepUntil =
            pending.get(r.id) ??
            new Date(Date.parse(r.occurredAt) + settings.lookbackDays * 86_400_000).toISOString();
          if (Date.parse(keepUntil) > nowMs) stillPending.push({ recordId: r.id, keepUntil });
          continue;
        }
        items.push({ record: r, item: toCustomActivity(r, lead, type.id, instanceUrl) });
      }
      const added = items.length > 0 ? await sendChunk(deps, items, clock, report) : [];
      for (const id of added) {
        settledIds.add(id);
        if (pending.has(id)) report.pending.written += 1;
      }
    }
  }
  // Pending: gone from Salesforce (not read back), settled, or past the look-back → removed.
  const read = new Set(records.map((r) => r.id));
  const remove = [...pending.keys()].filter(
    (id) => settledIds.has(id) || expired.includes(id) || (waitingIds.includes(id) && !read.has(id)),
  );
  const put = stillPending.filter((p) => pending.get(p.recordId) !== p.keepUntil);
  if (put.length > 0 || remove.length > 0) await deps.store.updatePending(put, remove);
  report.pending.waiting = pending.size - remove.length + put.length;
  await deps.store.putWatermark(checkpoint);
  return report;
}

/**
 * When a record became eligible, as the next run's read finds it again: a Task by SystemModstamp;
 * an Event by SystemModstamp or, later, its end (the read takes Events that ended in the window).
 */
function eligibleAt(r: SalesActivityRecord): string {
  if (r.sobject === 'Event' && r.dueDate && r.dueDate > r.systemModstamp) return r.dueDate;
  return r.systemModstamp;
}

async function sendChunk(
  deps: SalesActivityDeps,
  chunk: { record: SalesActivityRecord; item: CustomActivityItem }[],
  clock: () => number,
  report: SalesActivityReport,
): Promise<string[]> {
  const sentAt = new Date(clock()).toISOString();
  const pending: SalesActivityLedgerEntry[] = chunk.map(({ record, item }) => ({
    recordId: record.id,
    state: 'sending',
    leadId: item.leadId,
    sentAt,
    activityDate: item.activityDate,
    systemModstamp: record.systemModstamp,
  }));
  await deps.store.putLedger(pending);
  const results = await deps.marketo.addActivities(chunk.map((c) => c.item));
  const settled: SalesActivityLedgerEntry[] = [];
  results.forEach((result, i) => {
    const entry = pending[i];
    if (!entry) return;
    if (result.status === 'added') {
      report.added += 1;
      settled.push({
        ...entry,
        state: 'added',
        ...(result.marketoGUID ? { marketoGUID: result.marketoGUID } : {}),
      });
    } else {
      const code = result.errors?.[0]?.code ?? 'unknown';
      report.failed[code] = (report.failed[code] ?? 0) + 1;
      // Marketo says it did not add it: the record is sent again when next read (an edit or the overlap).
      settled.push({ ...entry, state: 'rejected' });
    }
  });
  await deps.store.putLedger(settled);
  return settled.filter((e) => e.state === 'added').map((e) => e.recordId);
}

/** Ledger entries left `sending` by a crash: added if the type's activities hold the record Id, else sent again. */
async function resolveUnknownOutcomes(
  deps: SalesActivityDeps,
  typeId: number,
  ledger: Map<string, SalesActivityLedgerEntry>,
  report: SalesActivityReport,
): Promise<void> {
  const unknown = [...ledger.values()].filter((e) => e.state === 'sending');
  if (unknown.length === 0) return;
  const earliest = Math.min(...unknown.map((e) => Date.parse(e.activityDate)));
  const found = await deps.marketo.readActivities(typeId, new Date(earliest - READ_BACK_MARGIN_MS));
  const byRecord = new Map<string, string>();
  for (const a of found)
    if (a.primaryAttributeValue) byRecord.set(`${a.leadId}#${a.primaryAttributeValue}`, a.marketoGUID);
  const settled: SalesActivityLedgerEntry[] = [];
  for (const e of unknown) {
    const guid = byRecord.get(`${e.leadId}#${e.recordId}`);
    if (guid) {
      const added = { ...e, state: 'added' as const, marketoGUID: guid };
      settled.push(added);
      ledger.set(e.recordId, added);
      report.recoveredByReadBack += 1;
    } else ledger.delete(e.recordId);
  }
  if (settled.length > 0) await deps.store.putLedger(settled);
}
