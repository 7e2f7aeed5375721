import type { Logger } from '@aws-lambda-powertools/logger';
import type { Settings } from '../config/settings.js';
import type { Activity } from '../domain/activity.js';
import { planStreams } from '../domain/activity-streams.js';
import type { LedgerEntry } from '../domain/ledger-entry.js';
import { SoqlDate, soql, soqlIdentifier } from '../domain/soql.js';
import { activityDay } from '../domain/task-mapping.js';
import { resolveWhoId, type SkipReason } from '../domain/task-policy.js';
import type { CursorStore } from '../ports/cursor-store.js';
import type { LedgerStore } from '../ports/ledger-store.js';
import type { MarketoApi } from '../ports/marketo-api.js';
import { readMarketoPages } from '../ports/marketo-paging.js';
import type { PendingActivityStore } from '../ports/pending-activity-store.js';
import type { RunReportStore } from '../ports/run-report-store.js';
import type { SalesforceApi } from '../ports/salesforce-api.js';
import { LEAD_LINK_FIELDS } from './write-activity-tasks.js';

/**
 * Reconciliation as a product feature, read-only: Marketo activities (the enabled types) against
 * our ledger and the Salesforce Tasks carrying their marketoGUID. Eligibility is the write path's
 * own policy (type enabled, `resolveWhoId` on the lead's current Salesforce link), so a skipped
 * activity (no Salesforce record, lead deleted) is never reported missing.
 *
 * Window: activities dated in [since, until). `until` defaults to the oldest stream watermark —
 * what the sync claims to have finished — so activities the next cycle will write are not
 * reported missing. Tasks are read by date from since's UTC day on (one paged query), and any
 * expected or ledger-recorded Task not found that way is looked up by its id in batched IN
 * clauses, so a Task whose date was edited is still found.
 */

export interface VerifyDeps {
  settings: Settings;
  logger: Logger;
  marketo: Pick<MarketoApi, 'getActivityTypes' | 'getPagingToken' | 'getActivities' | 'getLeads'>;
  salesforce: Pick<SalesforceApi, 'query'>;
  ledger: Pick<LedgerStore, 'getMany'>;
  cursors: Pick<CursorStore, 'getStream'>;
  /** Activities waiting for their person to reach Salesforce: counted pending, never missing. */
  pending?: Pick<PendingActivityStore, 'pendingOf'>;
  now?: () => Date;
}

export interface VerifyOptions {
  /** Default: the configured look-back (activities.lookbackDays) before now. */
  since?: Date;
  /** Default: the oldest stream watermark (or now, before any cycle finished). */
  until?: Date;
  /** Ids listed per category (counts are always exact). Default 1,000. */
  idLimit?: number;
}

export interface FoundTask {
  taskId: string;
  whoId: string | null;
}

export interface VerifyReport {
  window: { since: string; until: string; untilFrom: 'option' | 'watermark' | 'now' };
  upsertMode: Settings['salesforce']['upsertMode'];
  counts: {
    /** Activities of the enabled types dated in the window. */
    activities: number;
    /** Of those, the ones that must have a Task (the write path's policy). */
    eligible: number;
    /** Not due a Task, by the write path's skip reason. */
    skipped: Partial<Record<SkipReason, number>>;
    /** Tasks carrying a Marketo activity id found (from since's day on, plus look-ups). */
    tasks: number;
    ledgerEntries: number;
    /** Waiting for their person to reach Salesforce (written once linked, inside the type's look-back). */
    pending: number;
    missing: number;
    duplicates: number;
    orphanTasks: number;
    orphanLedgerEntries: number;
    wrongWhoId: number;
  };
  clean: boolean;
  /** Eligible activities without a Task (with the ledger's word on them, if any). */
  missing: { marketoGUID: string; leadId: number; activityDate: string; ledger?: string }[];
  /** Activities with more than one Task. */
  duplicates: { marketoGUID: string; taskIds: string[] }[];
  /** Tasks whose Marketo activity id matches no activity of the enabled types from since's day on. */
  orphanTasks: { taskId: string; marketoGUID: string }[];
  /** Ledger entries (done) of activities in the window whose Task does not exist. */
  orphanLedgerEntries: { marketoGUID: string; taskId?: string }[];
  /** Tasks on another record than the lead's current Salesforce Lead / Contact. */
  wrongWhoId: { marketoGUID: string; taskId: string; whoId: string | null; expected: string }[];
  /** True when an id list was cut at idLimit. */
  truncated: boolean;
  durationMs: number;
}

/** SOQL IN lists: 200 ids keep a query well under the REST URI length limit. */
const IN_BATCH = 200;

/** Salesforce ids compare on their 15-character case-sensitive form (18 adds a checksum). */
const sameId = (a: string | null | undefined, b: string | null | undefined) =>
  !!a && !!b && a.slice(0, 15) === b.slice(0, 15);

const startOfUtcDay = (d: Date) => new Date(`${d.toISOString().slice(0, 10)}T00:00:00.000Z`);

export async function verifyTasks(deps: VerifyDeps, options: VerifyOptions = {}): Promise<VerifyReport> {
  const started = Date.now();
  const now = deps.now?.() ?? new Date();
  const { settings } = deps;
  const since = options.since ?? new Date(now.getTime() - settings.activities.lookbackDays * 86_400_000);
  const plan = planStreams(settings, await deps.marketo.getActivityTypes());
  const { until, untilFrom } = await windowEnd(deps, plan.streams, now, options.until);
  const readFrom = startOfUtcDay(since);
  const field = settings.salesforce.taskExternalIdField;

  // 1. Marketo: every activity of the enabled types from since's UTC day on, read to the end.
  const activities = new Map<string, Activity>();
  for (const stream of plan.streams) {
    const pages = readMarketoPages({
      marketo: deps.marketo,
      readPage: (nextPageToken) =>
        deps.marketo.getActivities({
          nextPageToken,
          activityTypeIds: stream.types.map((t) => t.id),
          batchSize: settings.marketo.batchSize,
        }),
      since: readFrom,
      dateOf: (a) => a.activityDate,
    });
    for await (const page of pages)
      for (const a of page.items)
        if (Date.parse(a.activityDate) >= readFrom.getTime()) activities.set(a.marketoGUID, a);
  }
  const inWindow = [...activities.values()].filter((a) => {
    const at = Date.parse(a.activityDate);
    return at >= since.getTime() && at < until.getTime();
  });

  // 2. Eligibility, the write path's way, on each lead's current Salesforce link.
  const leadIds = [...new Set(inWindow.map((a) => a.leadId))];
  const leads = leadIds.length
    ? await deps.marketo.getLeads({ filterType: 'id', filterValues: leadIds, fields: LEAD_LINK_FIELDS })
    : [];
  const leadById = new Map(leads.map((l) => [l.id, l]));
  const skipped: Partial<Record<SkipReason, number>> = {};
  const expected = new Map<string, { activity: Activity; whoId: string }>();
  for (const a of inWindow) {
    const l = leadById.get(a.leadId);
    const who = resolveWhoId(
      l
        ? {
            leadId: l.id,
            exists: true,
            sfdcType: l.sfdcType ?? null,
            sfdcLeadId: l.sfdcLeadId ?? null,
            sfdcContactId: l.sfdcContactId ?? null,
          }
        : undefined,
    );
    if (who.ok) expected.set(a.marketoGUID, { activity: a, whoId: who.whoId });
    else skipped[who.reason] = (skipped[who.reason] ?? 0) + 1;
  }

  // 3. The ledger's word on each activity in the window (by key: no function may scan it), and
  // which of them wait for their person to reach Salesforce.
  const ledger: Map<string, LedgerEntry> = await deps.ledger.getMany(inWindow.map((a) => a.marketoGUID));
  const waiting = deps.pending ? await deps.pending.pendingOf(inWindow) : new Set<string>();

  // 4. Salesforce Tasks carrying an activity id: by date, then by id for whatever is still unseen.
  const tasks = new Map<string, FoundTask[]>();
  const seenTaskIds = new Set<string>();
  const add = (guid: string, t: FoundTask) => {
    if (seenTaskIds.has(t.taskId)) return;
    seenTaskIds.add(t.taskId);
    tasks.set(guid, [...(tasks.get(guid) ?? []), t]);
  };
  const F = soqlIdentifier(field);
  type Row = Record<string, unknown> & { Id: string; WhoId?: string | null };
  const take = (rows: Row[], guidOf: (r: Row) => string | undefined) => {
    for (const r of rows) {
      const guid = guidOf(r);
      if (guid) add(guid, { taskId: String(r.Id), whoId: r.WhoId ?? null });
    }
  };
  take(
    await deps.salesforce.query<Row>(
      soql`SELECT Id, WhoId, ${F} FROM Task WHERE ${F} != null AND ActivityDate >= ${new SoqlDate(activityDay(readFrom.toISOString()))}`,
    ),
    (r) => (typeof r[field] === 'string' ? (r[field] as string) : undefined),
  );
  const unseen = [...new Set([...expected.keys(), ...ledger.keys()])].filter((g) => !tasks.has(g));
  for (let i = 0; i < unseen.length; i += IN_BATCH) {
    take(
      await deps.salesforce.query<Row>(
        soql`SELECT Id, WhoId, ${F} FROM Task WHERE ${F} IN ${unseen.slice(i, i + IN_BATCH)}`,
      ),
      (r) => (typeof r[field] === 'string' ? (r[field] as string) : undefined),
    );
  }
  if (settings.salesforce.upsertMode === 'ledger') {
    // Ledger mode: the Task the ledger recorded, even if its activity id field was cleared.
    const byTask = new Map<string, string>();
    for (const e of ledger.values())
      if (e.taskId && !tasks.has(e.marketoGUID) && !seenTaskIds.has(e.taskId))
        byTask.set(e.taskId, e.marketoGUID);
    const ids = [...byTask.keys()];
    for (let i = 0; i < ids.length; i += IN_BATCH) {
      take(
        await deps.salesforce.query<Row>(
          soql`SELECT Id, WhoId, ${F} FROM Task WHERE Id IN ${ids.slice(i, i + IN_BATCH)}`,
        ),
        (r) => byTask.get(String(r.Id)) ?? [...byTask].find(([id]) => sameId(id, String(r.Id)))?.[1],
      );
    }
  }

  // 5. Compare.
  const report: VerifyReport = {
    window: { since: since.toISOString(), until: until.toISOString(), untilFrom },
    upsertMode: settings.salesforce.upsertMode,
    counts: {
      activities: inWindow.length,
      eligible: expected.size,
      skipped,
      tasks: seenTaskIds.size,
      ledgerEntries: ledger.size,
      pending: waiting.size,
      missing: 0,
      duplicates: 0,
      orphanTasks: 0,
      orphanLedgerEntries: 0,
      wrongWhoId: 0,
    },
    clean: true,
    missing: [],
    duplicates: [],
    orphanTasks: [],
    orphanLedgerEntries: [],
    wrongWhoId: [],
    truncated: false,
    durationMs: 0,
  };
  const limit = options.idLimit ?? 1_000;
  const list = <K extends 'missing' | 'duplicates' | 'orphanTasks' | 'orphanLedgerEntries' | 'wrongWhoId'>(
    key: K,
    item: VerifyReport[K][number],
  ) => {
    report.counts[key]++;
    if (report[key].length < limit) (report[key] as VerifyReport[K][number][]).push(item);
    else report.truncated = true;
  };
  for (const [guid, { activity, whoId }] of expected) {
    const found = tasks.get(guid) ?? [];
    if (found.length === 0 && waiting.has(guid)) continue;
    const settledSkip = ledger.get(guid);
    if (
      found.length === 0 &&
      settledSkip?.status === 'skipped' &&
      settledSkip.reason === 'noSalesforceRecord'
    ) {
      // Its person reached Salesforce after the activity's look-back ended: not due (seed 002).
      skipped.noSalesforceRecord = (skipped.noSalesforceRecord ?? 0) + 1;
      report.counts.eligible--;
      continue;
    }
    if (found.length === 0) {
      const entry = ledger.get(guid);
      list('missing', {
        marketoGUID: guid,
        leadId: activity.leadId,
        activityDate: activity.activityDate,
        ...(entry ? { ledger: entry.reason ? `${entry.status}: ${entry.reason}` : entry.status } : {}),
      });
      continue;
    }
    for (const t of found)
      if (!sameId(t.whoId, whoId))
        list('wrongWhoId', { marketoGUID: guid, taskId: t.taskId, whoId: t.whoId, expected: whoId });
  }
  for (const [guid, found] of tasks) {
    if (found.length > 1)
      list('duplicates', { marketoGUID: guid, taskIds: found.map((t) => t.taskId).sort() });
    if (!activities.has(guid))
      for (const t of found) list('orphanTasks', { taskId: t.taskId, marketoGUID: guid });
  }
  for (const e of ledger.values()) {
    if (e.status === 'done' && !tasks.has(e.marketoGUID))
      list('orphanLedgerEntries', { marketoGUID: e.marketoGUID, ...(e.taskId ? { taskId: e.taskId } : {}) });
  }
  const c = report.counts;
  report.clean = c.missing + c.duplicates + c.orphanTasks + c.orphanLedgerEntries + c.wrongWhoId === 0;
  report.durationMs = Date.now() - started;
  return report;
}

async function windowEnd(
  deps: VerifyDeps,
  streams: { key: string }[],
  now: Date,
  given: Date | undefined,
): Promise<{ until: Date; untilFrom: VerifyReport['window']['untilFrom'] }> {
  if (given) return { until: given, untilFrom: 'option' };
  const marks: number[] = [];
  for (const s of streams) {
    const w = (await deps.cursors.getStream(s.key))?.watermark;
    if (!w) return { until: now, untilFrom: 'now' };
    marks.push(Date.parse(w));
  }
  return marks.length
    ? { until: new Date(Math.min(...marks)), untilFrom: 'watermark' }
    : { until: now, untilFrom: 'now' };
}

/** Ids logged per category by the scheduled verify (the run report carries the counts). */
const LOGGED_IDS = 20;

/**
 * The scheduled run's verify (settings activities.verify.nightly): the last `days` days, counts
 * added to the cycle's run report as `verify.*`, discrepancies logged with ids. Never throws: a
 * failed verify is logged and never stops the cycle.
 */
export async function verifyForRun(
  deps: VerifyDeps & { runs: Pick<RunReportStore, 'add'> },
  runId: string,
): Promise<VerifyReport | undefined> {
  const now = deps.now?.() ?? new Date();
  try {
    const report = await verifyTasks(deps, {
      since: new Date(now.getTime() - deps.settings.activities.verify.days * 86_400_000),
      idLimit: LOGGED_IDS,
    });
    const c = report.counts;
    await deps.runs.add('activities', runId, {
      'verify.runs': 1,
      'verify.eligible': c.eligible,
      'verify.pending': c.pending,
      'verify.missing': c.missing,
      'verify.duplicates': c.duplicates,
      'verify.orphanTasks': c.orphanTasks,
      'verify.orphanLedgerEntries': c.orphanLedgerEntries,
      'verify.wrongWhoId': c.wrongWhoId,
    });
    const { missing, duplicates, orphanTasks, orphanLedgerEntries, wrongWhoId, window } = report;
    if (report.clean) deps.logger.info('Verify: clean', { window, counts: c });
    else
      deps.logger.warn('Verify found discrepancies; run `sync verify` for every id', {
        window,
        counts: c,
        missing: missing.map((m) => m.marketoGUID),
        duplicates,
        orphanTasks,
        orphanLedgerEntries,
        wrongWhoId,
      });
    return report;
  } catch (err) {
    deps.logger.error('Verify failed; the cycle is not affected', {
      error: err instanceof Error ? { name: err.name, message: err.message } : String(err),
    });
    return undefined;
  }
}
