import type { SalesActivityKind } from '../domain/sales-activity.js';
import { whoObject } from '../domain/sales-activity.js';
import type { CustomActivityApi } from '../ports/custom-activity-api.js';
import type { SalesActivitySource } from '../ports/sales-activity-source.js';
import type { SalesActivityStore } from '../ports/sales-activity-store.js';
import { resolveMarketoLeads } from './resolve-marketo-leads.js';
import type { SalesActivitySettings } from './sync-sales-activity.js';

/**
 * Job 4a reconciliation, read-only: every eligible closed Task / ended Event in the window (what
 * the sync reads: SystemModstamp in the window, our own Tasks left out) against the Marketo custom
 * activities read back through the Marketo API by their primary attribute, the Salesforce Id.
 * Exactly one activity on the person's Marketo lead is clean; none is missing (unless the person
 * has no Marketo lead yet: pending-unlinked, written once the lead exists); more than one is a
 * duplicate; one on another lead is a wrong lead.
 */

export interface SalesActivityVerifyDeps {
  source: SalesActivitySource;
  marketo: CustomActivityApi;
  store: Pick<SalesActivityStore, 'getWatermark'>;
  settings: SalesActivitySettings;
  now?: () => Date;
}

export interface SalesActivityVerifyReport {
  job: 'tasks';
  window: { since: string; until: string; untilFrom: 'option' | 'watermark' | 'now' };
  activityTypeId: number | null;
  counts: {
    /** Tasks/Events of the enabled kinds in the window. */
    read: number;
    /** Read, with a person who has a Marketo lead: each must have exactly one activity. */
    eligible: number;
    exactlyOne: number;
    missing: number;
    duplicates: number;
    wrongLead: number;
    /** Their person has no Marketo lead (yet): no activity expected until the lead exists. */
    pendingUnlinked: number;
    /** No WhoId, or one that names neither a Lead nor a Contact. */
    noPerson: number;
    /** Marketo activities of the type read back (any date from the window's earliest activity on). */
    activitiesReadBack: number;
  };
  missing: { recordId: string; kind: SalesActivityKind; leadId: number }[];
  duplicates: { recordId: string; marketoGUIDs: string[] }[];
  wrongLead: { recordId: string; marketoGUID: string; leadId: number; expected: number }[];
  clean: boolean;
  durationMs: number;
}

/** Read-backs start this long before the earliest activity's date (time-zone and rounding slack). */
const READ_BACK_MARGIN_MS = 10 * 60_000;

export async function verifySalesActivity(
  deps: SalesActivityVerifyDeps,
  options: { since?: Date; until?: Date; idLimit?: number } = {},
): Promise<SalesActivityVerifyReport> {
  const started = Date.now();
  const now = deps.now?.() ?? new Date();
  const { settings } = deps;
  const watermark = await deps.store.getWatermark();
  const until = options.until ?? (watermark ? new Date(watermark) : now);
  const untilFrom = options.until ? 'option' : watermark ? 'watermark' : 'now';
  const since = options.since ?? new Date(until.getTime() - settings.lookbackDays * 86_400_000);
  const limit = options.idLimit ?? 1_000;
  const kinds = (Object.keys(settings.kinds) as SalesActivityKind[]).filter((k) => settings.kinds[k]);
  const records = (kinds.length > 0 ? await deps.source.readEligible({ since, until, kinds }) : []).filter(
    (r) => !r.marketoActivityId,
  );
  const report: SalesActivityVerifyReport = {
    job: 'tasks',
    window: { since: since.toISOString(), until: until.toISOString(), untilFrom },
    activityTypeId: null,
    counts: {
      read: records.length,
      eligible: 0,
      exactlyOne: 0,
      missing: 0,
      duplicates: 0,
      wrongLead: 0,
      pendingUnlinked: 0,
      noPerson: 0,
      activitiesReadBack: 0,
    },
    missing: [],
    duplicates: [],
    wrongLead: [],
    clean: true,
    durationMs: 0,
  };
  const withPerson = records.filter((r) => {
    if (r.whoId && whoObject(r.whoId)) return true;
    report.counts.noPerson += 1;
    return false;
  });
  const leadOf = await resolveMarketoLeads(deps, withPerson);
  const type = await deps.marketo.describeType(settings.activityType.apiName);
  report.activityTypeId = type?.id ?? null;
  const byRecord = new Map<string, { leadId: number; marketoGUID: string }[]>();
  const dates = withPerson.map((r) => Date.parse(r.occurredAt)).filter((d) => Number.isFinite(d));
  if (type && dates.length > 0) {
    const found = await deps.marketo.readActivities(
      type.id,
      new Date(Math.min(...dates) - READ_BACK_MARGIN_MS),
    );
    report.counts.activitiesReadBack = found.length;
    for (const a of found)
      if (a.primaryAttributeValue)
        byRecord.set(a.primaryAttributeValue, [
          ...(byRecord.get(a.primaryAttributeValue) ?? []),
          { leadId: a.leadId, marketoGUID: a.marketoGUID },
        ]);
  }
  const c = report.counts;
  for (const r of withPerson) {
    const lead = leadOf.get(r.whoId ?? '');
    if (lead === undefined || lead === null) {
      c.pendingUnlinked += 1;
      continue;
    }
    c.eligible += 1;
    const found = byRecord.get(r.id) ?? [];
    if (found.length === 0) {
      c.missing += 1;
      if (report.missing.length < limit) report.missing.push({ recordId: r.id, kind: r.kind, leadId: lead });
    } else if (found.length > 1) {
      c.duplicates += 1;
      if (report.duplicates.length < limit)
        report.duplicates.push({ recordId: r.id, marketoGUIDs: found.map((f) => f.marketoGUID) });
    } else if (found[0] && found[0].leadId !== lead) {
      c.wrongLead += 1;
      if (report.wrongLead.length < limit)
        report.wrongLead.push({
          recordId: r.id,
          marketoGUID: found[0].marketoGUID,
          leadId: found[0].leadId,
          expected: lead,
        });
    } else c.exactlyOne += 1;
  }
  report.clean = c.missing === 0 && c.duplicates === 0 && c.wrongLead === 0;
  report.durationMs = Date.now() - started;
  return report;
}
