import { readWindow } from '../domain/read-window.js';
import { type SalesActivityKind, whoObject } from '../domain/sales-activity.js';
import type { CustomActivityApi } from '../ports/custom-activity-api.js';
import type { SalesActivitySource } from '../ports/sales-activity-source.js';
import type { SalesActivityStore } from '../ports/sales-activity-store.js';
import { MARKETO_MAX_BATCH } from '../ports/vendor-limits.js';
import type { SalesActivitySettings } from './sync-sales-activity.js';

/** Salesforce query pages hold up to 2,000 records (REST API guide, "Query": batch size 2,000 by default). */
const QUERY_PAGE = 2_000;
/** WhoIds per Lead / Contact query (sales-activity-reader.ts: IN lists of 200). */
const PEOPLE_PER_QUERY = 200;

export interface SalesActivityPlan {
  job: 'tasks';
  window: { since: string; until: string; origin: 'cursor' | 'lookback' };
  /** Eligible Tasks / Events in the window (read: the plan reads what the run reads). */
  records: { tasks: number; events: number; ownTasks: number; alreadySent: number; toSend: number };
  people: { leads: number; contacts: number };
  /** The custom activity type: ready, to be created/completed and approved (3 more Marketo calls), or not needed (nothing to send). */
  activityType: 'ready' | 'setUp' | 'notNeeded';
  calls: { marketo: number; salesforce: number };
  method: string;
}

export const SALES_ACTIVITY_PLAN_METHOD =
  'the window read as the run reads it (Salesforce query pages of 2,000); Marketo: type describe (+3 to set it up), lead look-ups of 300 by sfdcLeadId, sfdcContactId and email (at most), activities added 300 a call; Salesforce: the reads and Lead/Contact queries of 200 WhoIds';

/**
 * Dry run of the next job-4a run: the same window, the eligible records read, the ledger consulted
 * (records already sent), and the calls the run would spend per vendor. Writes nothing.
 */
export async function planSalesActivity(deps: {
  source: SalesActivitySource;
  marketo: Pick<CustomActivityApi, 'describeType'>;
  store: Pick<SalesActivityStore, 'getWatermark' | 'getLedger'>;
  settings: SalesActivitySettings;
  now?: () => number;
}): Promise<SalesActivityPlan> {
  const { settings } = deps;
  const watermark = await deps.store.getWatermark();
  const { since, until } = readWindow(watermark, settings, (deps.now ?? Date.now)());
  const kinds = (Object.keys(settings.kinds) as SalesActivityKind[]).filter((k) => settings.kinds[k]);
  const records = kinds.length > 0 ? await deps.source.readEligible({ since, until, kinds }) : [];
  const candidates = records.filter((r) => !r.marketoActivityId);
  const ledger = await deps.store.getLedger(candidates.map((r) => r.id));
  const toSend = candidates.filter((r) => ledger.get(r.id)?.state !== 'added');
  const whoIds = new Set(toSend.map((r) => r.whoId).filter((w): w is string => !!w && !!whoObject(w)));
  const leads = [...whoIds].filter((w) => whoObject(w) === 'Lead').length;
  const contacts = whoIds.size - leads;
  const type =
    candidates.length > 0 ? await deps.marketo.describeType(settings.activityType.apiName) : undefined;
  const ready = !!type && (type.status === 'approved' || type.status === 'approved with draft');
  const per = (count: number, size: number) => Math.ceil(count / size);
  const tasks = records.filter((r) => r.sobject === 'Task').length;
  const events = records.length - tasks;
  const readsTasks = kinds.some((k) => k !== 'meeting');
  const readsEvents = kinds.includes('meeting');
  const salesforce =
    (readsTasks ? Math.max(1, per(tasks, QUERY_PAGE)) : 0) +
    (readsEvents ? Math.max(1, per(events, QUERY_PAGE)) : 0) +
    per(leads, PEOPLE_PER_QUERY) +
    per(contacts, PEOPLE_PER_QUERY);
  const marketo =
    candidates.length === 0
      ? 0
      : 1 +
        (ready ? 0 : 3) +
        per(leads, MARKETO_MAX_BATCH) +
        per(contacts, MARKETO_MAX_BATCH) +
        per(whoIds.size, MARKETO_MAX_BATCH) +
        per(toSend.length, MARKETO_MAX_BATCH);
  return {
    job: 'tasks',
    window: {
      since: since.toISOString(),
      until: until.toISOString(),
      origin: watermark ? 'cursor' : 'lookback',
    },
    records: {
      tasks,
      events,
      ownTasks: records.length - candidates.length,
      alreadySent: candidates.length - toSend.length,
      toSend: toSend.length,
    },
    people: { leads, contacts },
    activityType: candidates.length === 0 ? 'notNeeded' : ready ? 'ready' : 'setUp',
    calls: { marketo, salesforce },
    method: SALES_ACTIVITY_PLAN_METHOD,
  };
}
