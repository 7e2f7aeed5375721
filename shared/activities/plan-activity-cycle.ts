import type { Activity } from '../domain/activity.js';
import { allocateWindows, planStreams, splitWindows } from '../domain/activity-streams.js';
import {
  estimateWindowActivities,
  exportJobCalls,
  exportRowBytes,
  leadLookupCalls,
  peopleMet,
  peoplePopulation,
  quotaShare,
  restLookupGroups,
  type WindowSample,
  windowMarketoCalls,
  windowPages,
  writeCalls,
} from '../domain/cycle-estimate.js';
import { resolveWhoId } from '../domain/task-policy.js';
import type { SalesforceLimitInfo } from '../ports/salesforce-api.js';
import { MARKETO_DAILY_EXPORT_BYTES, MARKETO_MAX_BATCH } from '../ports/vendor-limits.js';
import type { ActivityDeps } from './activity-deps.js';
import { type BackfillPath, backfillPath } from './plan-backfill-export.js';

/** Why a stream is read by REST paging or by export (BackfillPath's reasons, as the plan prints them). */
export type PathReason = Extract<BackfillPath, { path: 'rest' }>['reason'] | 'aboveThreshold';

export interface PlannedWindow {
  from: string;
  until: string;
  /** Activities estimated in the window, and whether the sample read all of them. */
  activities: number;
  exact: boolean;
  /**
   * rest: paging; export: one Bulk Activity Extract job; restAfterAllowance: an export window past
   * the daily export allowance, read by REST paging once Marketo refuses its job (1029).
   */
  path: 'rest' | 'export' | 'restAfterAllowance';
  /** Export windows: the job's file size (estimated) and its ranged reads. */
  exportBytes?: number;
  ranges?: number;
}

export interface PlannedStream {
  streamKey: string;
  types: string[];
  /** cursor: from the stored watermark less the overlap; lookback: no watermark yet. */
  from: string;
  until: string;
  origin: 'cursor' | 'lookback';
  /** busy: an earlier run still owns the stream (the next cycle continues it; not estimated). */
  status: 'planned' | 'busy';
  path: 'rest' | 'export';
  /** Why that path: the back-fill estimate against `activities.backfill.exportAbove` (0: export off). */
  pathReason: PathReason;
  /** The back-fill estimate the run compares with exportAbove (read only for a back-fill). */
  backfillEstimate?: number;
  windows: PlannedWindow[];
  activities: number;
  /** Reading the stream: the back-fill estimate, paging tokens and pages, export jobs (lead look-ups: CyclePlan.leads). */
  calls: { marketo: number; salesforce: number };
}

export interface CyclePlan {
  streams: PlannedStream[];
  typesMissing: string[];
  activities: number;
  calls: { marketo: number; salesforce: number };
  /** The Marketo calls by what spends them (they add up to calls.marketo). */
  marketoCalls: {
    types: number;
    backfillEstimates: number;
    paging: number;
    exportJobs: number;
    leadLookups: number;
    revisit: number;
  };
  /** Lead look-ups: people in the samples, the share the lead cache holds linked, people estimated. */
  leads: {
    sampledActivities: number;
    sampledPeople: number;
    cachedPeople: number;
    people: number;
    restLookups: number;
    exportLookups: number;
    /** People waiting for a Salesforce record, looked up again at the cycle's start. */
    waitingPeople: number;
  };
  /** activities.backfill.exportAbove: a back-fill estimated above it is read by export (0: never). */
  exportAbove: number;
  /** Present when a stream is read by export: the files' size against the daily allowance. */
  exportAllowance?: { bytes: number; limit: number; exceeded: boolean };
  quota: {
    marketo: { daily: number; sharePercent: number };
    salesforce?: { used: number; limit: number; sharePercent: number };
  };
  /** What the plan itself spent to estimate (types, one page per window, /limits). */
  estimateCost: { marketo: number; salesforce: number };
  method: string;
}

/** The write consumer's shape the look-ups depend on: messages per invocation and invocations at once. */
export interface WriteConsumerShape {
  batchMessages: number;
  concurrency: number;
}

export const PLAN_METHOD =
  "first page of each window read and extrapolated by its time span; windows and pages as the cycle splits them; a back-fill's path as the run chooses it (its estimate against activities.backfill.exportAbove); export jobs: create, enqueue, one status poll, one read per chunkBytes of a file sized from the sampled rows; lead look-ups (300 a call) only for people the lead cache does not hold linked: the sampled people's cache entries read (one getMany), the people behind the cycle's activities estimated from the repeats in the samples, looked up per write batch (up to batchMessages pages, concurrency at once) on REST and per file range on export; the waiting people looked up again; Salesforce: a converted-Lead query per page and collections of 200, a Bulk job above twice bulkThreshold";

/** A sampled window: its first page's count, and the activities of that page inside the window. */
export interface SampledWindow extends WindowSample {
  activities: Activity[];
  /** Marketo calls the sample spent (a paging token and a page, more when pages came back empty). */
  calls: number;
}

/** Empty pages a sample reads past before it estimates from what it has. */
const SAMPLE_EMPTY_PAGES = 3;

/**
 * Dry run of the next activity cycle: the same stream plan, cursors, windows and back-fill path as
 * startActivityCycle, one page read per window to estimate its activities, the lead cache read for
 * the sampled people, and the calls the cycle would spend. Reads only (Marketo, the cursors, the
 * lead cache, the waiting people, Salesforce /limits); writes nothing.
 */
export async function planActivityCycle(
  deps: Pick<ActivityDeps, 'settings' | 'marketo' | 'cursors' | 'now' | 'leadCache' | 'pending' | 'logger'>,
  options: {
    writeConsumer: WriteConsumerShape;
    salesforceLimits?: () => Promise<SalesforceLimitInfo>;
    /** The instance's daily export allowance (Marketo's default unless a larger one was bought). */
    exportAllowanceBytes?: number;
  },
): Promise<CyclePlan> {
  const { writeConsumer, salesforceLimits } = options;
  const allowance = options.exportAllowanceBytes ?? MARKETO_DAILY_EXPORT_BYTES;
  const now = deps.now?.() ?? new Date();
  const { settings } = deps;
  const { overlapMinutes, lookbackDays, backfillWindows, backfill } = settings.activities;
  const { batchSize } = settings.marketo;
  const plan = planStreams(settings, await deps.marketo.getActivityTypes());
  const cost = { marketo: 1, salesforce: 0 };
  const marketoCalls = {
    types: 1,
    backfillEstimates: 0,
    paging: 0,
    exportJobs: 0,
    leadLookups: 0,
    revisit: 0,
  };
  const shares = allocateWindows(plan.streams, backfillWindows);
  const sampled = new Map<string, Activity>();
  const keep = (s: SampledWindow | undefined) => {
    for (const a of s?.activities ?? []) sampled.set(a.marketoGUID, a);
  };
  const streams: PlannedStream[] = [];
  /** Export windows in the order their jobs would run, to meet the daily allowance in that order. */
  const exportPlans: { stream: PlannedStream; rowBytes: number }[] = [];
  for (const [i, stream] of plan.streams.entries()) {
    const cursor = await deps.cursors.getStream(stream.key);
    const from = cursor?.watermark
      ? new Date(Date.parse(cursor.watermark) - overlapMinutes * 60_000)
      : new Date(now.getTime() - lookbackDays * 86_400_000);
    const base = {
      streamKey: stream.key,
      types: stream.types.map((t) => t.name),
      from: from.toISOString(),
      until: now.toISOString(),
      origin: cursor?.watermark ? ('cursor' as const) : ('lookback' as const),
    };
    if (cursor?.activeRunId) {
      streams.push({
        ...base,
        status: 'busy',
        path: 'rest',
        pathReason: 'incremental',
        windows: [],
        activities: 0,
        calls: { marketo: 0, salesforce: 0 },
      });
      continue;
    }
    const choice = await backfillPath(deps, stream, { from, now, backfill: !cursor?.watermark });
    let marketo = 0;
    if (choice.sample) {
      // The run spends the same calls to choose (planBackfillExport).
      cost.marketo += choice.sample.calls;
      marketo += choice.sample.calls;
      marketoCalls.backfillEstimates += choice.sample.calls;
      keep(choice.sample);
    }
    if (choice.path === 'export') {
      const spanMs = now.getTime() - from.getTime();
      const windows: PlannedWindow[] = choice.windows.map((w) => ({
        from: w.from,
        until: w.until,
        activities: Math.round((choice.estimate * (Date.parse(w.until) - Date.parse(w.from))) / spanMs),
        exact: false,
        path: 'export',
      }));
      const planned: PlannedStream = {
        ...base,
        status: 'planned',
        path: 'export',
        pathReason: 'aboveThreshold',
        backfillEstimate: choice.estimate,
        windows,
        activities: windows.reduce((n, w) => n + w.activities, 0),
        calls: { marketo, salesforce: 0 },
      };
      const rows = choice.sample.activities;
      exportPlans.push({
        stream: planned,
        rowBytes: rows.length ? rows.reduce((n, a) => n + exportRowBytes(a), 0) / rows.length : 0,
      });
      streams.push(planned);
      continue;
    }
    const typeIds = stream.types.map((t) => t.id);
    const windows: PlannedWindow[] = [];
    for (const w of splitWindows(from, now, shares[i] ?? 1)) {
      const sample = await sampleWindow(deps, typeIds, batchSize, w);
      keep(sample);
      cost.marketo += sample.calls;
      const activities = estimateWindowActivities(sample, now);
      windows.push({
        from: w.from,
        until: w.until ?? now.toISOString(),
        activities,
        exact: sample.complete,
        path: 'rest',
      });
      const paging = windowMarketoCalls(activities, batchSize);
      marketo += paging;
      marketoCalls.paging += paging;
    }
    const activities = windows.reduce((n, w) => n + w.activities, 0);
    streams.push({
      ...base,
      status: 'planned',
      path: 'rest',
      pathReason: choice.reason,
      ...(choice.estimate !== undefined ? { backfillEstimate: choice.estimate } : {}),
      windows,
      activities,
      calls: { marketo, salesforce: 0 },
    });
  }

  // Export jobs in order, against the daily allowance: the job whose file passes it still completes;
  // the next create is refused (1029), and that window and every later one is read by REST paging.
  let exportBytes = 0;
  let allowanceSpent = false;
  let ranges = 0;
  let exportActivities = 0;
  for (const { stream, rowBytes } of exportPlans) {
    for (const w of stream.windows) {
      const job = exportJobCalls({ activities: w.activities, rowBytes, chunkBytes: backfill.chunkBytes });
      if (exportBytes >= allowance) {
        allowanceSpent = true;
        // The refused create, then the window's paging.
        w.path = 'restAfterAllowance';
        const paging = windowMarketoCalls(w.activities, batchSize);
        stream.calls.marketo += 1 + paging;
        marketoCalls.exportJobs += 1;
        marketoCalls.paging += paging;
        continue;
      }
      exportBytes += job.bytes;
      w.exportBytes = job.bytes;
      w.ranges = job.ranges;
      ranges += job.ranges;
      exportActivities += w.activities;
      stream.calls.marketo += job.calls;
      marketoCalls.exportJobs += job.calls;
    }
  }

  const activities = streams.reduce((n, s) => n + s.activities, 0);
  const restWindows = streams.flatMap((s) => s.windows).filter((w) => w.path !== 'export');
  const restActivities = restWindows.reduce((n, w) => n + w.activities, 0);
  const restPages = restWindows.reduce((n, w) => n + windowPages(w.activities, batchSize), 0);

  // The lead cache, read for the sampled people only (one getMany): those it holds linked need no
  // look-up; an unlinked entry is kept for its own run only, so the next run looks it up again.
  const sampledPeople = [...new Set([...sampled.values()].map((a) => a.leadId))];
  const cached = sampledPeople.length ? await deps.leadCache.getMany(sampledPeople) : new Map();
  const cachedPeople = [...cached.values()].filter((l) => resolveWhoId(l).ok).length;
  const uncachedShare = sampledPeople.length ? 1 - cachedPeople / sampledPeople.length : 1;
  const population = peoplePopulation(sampledPeople.length, sampled.size);
  const cacheOn = settings.activities.leadCacheTtlSeconds > 0;
  const model = { population, uncachedShare, cacheWithinCycle: cacheOn };
  // Export ranges resolve their people before the write step (which then finds them cached); the
  // streams' jobs run side by side, each stream's ranges one after another. Without the cache the
  // write step looks them up as it does a REST page's.
  const exportStreams = exportPlans.filter((p) => p.stream.windows.some((w) => w.path === 'export')).length;
  const exportLookups = cacheOn
    ? leadLookupCalls({ ...model, activities: exportActivities, groups: ranges, concurrency: exportStreams })
    : 0;
  const writeLookupActivities = restActivities + (cacheOn ? 0 : exportActivities);
  const writePages = restPages + (cacheOn ? 0 : Math.ceil(exportActivities / batchSize));
  const restLookups = leadLookupCalls({
    ...model,
    activities: writeLookupActivities,
    groups: restLookupGroups(writePages, writeConsumer.batchMessages, writeConsumer.concurrency),
    concurrency: writeConsumer.concurrency,
  });
  // The schedule step looks up every waiting person again, 300 a call (revisit-pending.ts).
  const waitingPeople = (await deps.pending.waiting()).size;
  marketoCalls.revisit = Math.ceil(waitingPeople / MARKETO_MAX_BATCH);
  marketoCalls.leadLookups = restLookups + exportLookups;

  const write = writeCalls({
    activities,
    pages: restPages + Math.ceil(exportActivities / batchSize),
    upsertMode: settings.salesforce.upsertMode,
    bulkThreshold: settings.salesforce.bulkThreshold,
  });
  const marketo = Object.values(marketoCalls).reduce((a, b) => a + b, 0);
  const calls = { marketo, salesforce: write.salesforce };
  let salesforce: CyclePlan['quota']['salesforce'];
  if (salesforceLimits) {
    const limits = await salesforceLimits();
    cost.salesforce += 1;
    salesforce = { ...limits, sharePercent: quotaShare(calls.salesforce, limits.limit) };
  }
  return {
    streams,
    typesMissing: plan.typesMissing,
    activities,
    calls,
    marketoCalls,
    leads: {
      sampledActivities: sampled.size,
      sampledPeople: sampledPeople.length,
      cachedPeople,
      people: Math.min(activities, Math.round(peopleMet(population, activities))),
      restLookups,
      exportLookups,
      waitingPeople,
    },
    exportAbove: backfill.exportAbove,
    ...(exportPlans.length
      ? {
          exportAllowance: {
            bytes: exportBytes,
            limit: allowance,
            exceeded: allowanceSpent || exportBytes > allowance,
          },
        }
      : {}),
    quota: {
      marketo: {
        daily: settings.marketo.dailyQuota,
        sharePercent: quotaShare(marketo, settings.marketo.dailyQuota),
      },
      ...(salesforce ? { salesforce } : {}),
    },
    estimateCost: cost,
    method: PLAN_METHOD,
  };
}

/** Reads the first page of a window (its paging token and one page), as the fetch step would. */
export async function sampleWindow(
  deps: Pick<ActivityDeps, 'marketo'>,
  activityTypeIds: number[],
  batchSize: number,
  w: { from: string; until?: string },
): Promise<SampledWindow> {
  const token = await deps.marketo.getPagingToken(new Date(w.from));
  let page = await deps.marketo.getActivities({ nextPageToken: token, activityTypeIds, batchSize });
  let calls = 2;
  // An empty page with more to come (Marketo pages may be short or empty: shared/API-NOTES.md
  // "Activities") says nothing of the window's rate: the next ones are read, as the fetch step would.
  for (let extra = 0; page.items.length === 0 && page.moreResult && extra < SAMPLE_EMPTY_PAGES; extra++) {
    page = await deps.marketo.getActivities({
      nextPageToken: page.nextPageToken,
      activityTypeIds,
      batchSize,
    });
    calls += 1;
  }
  const fromMs = Date.parse(w.from);
  const untilMs = w.until ? Date.parse(w.until) : Number.POSITIVE_INFINITY;
  const inWindow: Activity[] = [];
  let passedEnd = false;
  for (const a of page.items) {
    const at = Date.parse(a.activityDate);
    if (at >= untilMs) passedEnd = true;
    else if (at >= fromMs) inWindow.push(a);
  }
  const lastAt = inWindow.at(-1)?.activityDate;
  return {
    from: w.from,
    ...(w.until ? { until: w.until } : {}),
    inWindow: inWindow.length,
    complete: passedEnd || !page.moreResult,
    ...(lastAt ? { lastAt } : {}),
    activities: inWindow,
    calls,
  };
}
