import { allocateWindows, planStreams, splitWindows } from '../domain/activity-streams.js';
import {
  estimateWindowActivities,
  quotaShare,
  type WindowSample,
  windowMarketoCalls,
  windowPages,
  writeCalls,
} from '../domain/cycle-estimate.js';
import type { SalesforceLimitInfo } from '../ports/salesforce-api.js';
import type { ActivityDeps } from './activity-deps.js';

export interface PlannedWindow {
  from: string;
  until: string;
  /** Activities estimated in the window, and whether the sample read all of them. */
  activities: number;
  exact: boolean;
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
  windows: PlannedWindow[];
  activities: number;
  calls: { marketo: number; salesforce: number };
}

export interface CyclePlan {
  streams: PlannedStream[];
  typesMissing: string[];
  activities: number;
  calls: { marketo: number; salesforce: number };
  quota: {
    marketo: { daily: number; sharePercent: number };
    salesforce?: { used: number; limit: number; sharePercent: number };
  };
  /** What the plan itself spent to estimate (types, one page per window, /limits). */
  estimateCost: { marketo: number; salesforce: number };
  method: string;
}

export const PLAN_METHOD =
  'first page of each window read and extrapolated by its time span; windows and pages as the cycle splits them; write calls per batch (Marketo lead look-ups per batchSize activities, Salesforce a converted-Lead query per page and collections of 200, a Bulk job above twice bulkThreshold)';

/**
 * Dry run of the next activity cycle: the same stream plan, cursors and windows as
 * startActivityCycle, one page read per window to estimate its activities, and the calls the cycle
 * would spend. Reads only (Marketo, the cursors, Salesforce /limits); writes nothing.
 */
export async function planActivityCycle(
  deps: Pick<ActivityDeps, 'settings' | 'marketo' | 'cursors' | 'now'>,
  salesforceLimits?: () => Promise<SalesforceLimitInfo>,
): Promise<CyclePlan> {
  const now = deps.now?.() ?? new Date();
  const { settings } = deps;
  const { overlapMinutes, lookbackDays, backfillWindows } = settings.activities;
  const { batchSize } = settings.marketo;
  const plan = planStreams(settings, await deps.marketo.getActivityTypes());
  const cost = { marketo: 1, salesforce: 0 };
  const shares = allocateWindows(plan.streams, backfillWindows);
  const streams: PlannedStream[] = [];
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
        windows: [],
        activities: 0,
        calls: { marketo: 0, salesforce: 0 },
      });
      continue;
    }
    const typeIds = stream.types.map((t) => t.id);
    const windows: PlannedWindow[] = [];
    let marketo = 0;
    for (const w of splitWindows(from, now, shares[i] ?? 1)) {
      const sample = await sampleWindow(deps, typeIds, batchSize, w);
      cost.marketo += 2;
      const activities = estimateWindowActivities(sample, now);
      windows.push({ from: w.from, until: w.until ?? now.toISOString(), activities, exact: sample.complete });
      marketo += windowMarketoCalls(activities, batchSize);
    }
    const activities = windows.reduce((n, w) => n + w.activities, 0);
    streams.push({ ...base, status: 'planned', windows, activities, calls: { marketo, salesforce: 0 } });
  }
  const activities = streams.reduce((n, s) => n + s.activities, 0);
  const pages = streams
    .flatMap((s) => s.windows)
    .reduce((n, w) => n + windowPages(w.activities, batchSize), 0);
  const write = writeCalls({
    activities,
    pages,
    batchSize,
    upsertMode: settings.salesforce.upsertMode,
    bulkThreshold: settings.salesforce.bulkThreshold,
  });
  const marketo = 1 + streams.reduce((n, s) => n + s.calls.marketo, 0) + write.marketo;
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
): Promise<WindowSample> {
  const token = await deps.marketo.getPagingToken(new Date(w.from));
  const page = await deps.marketo.getActivities({ nextPageToken: token, activityTypeIds, batchSize });
  const fromMs = Date.parse(w.from);
  const untilMs = w.until ? Date.parse(w.until) : Number.POSITIVE_INFINITY;
  let inWindow = 0;
  let passedEnd = false;
  let lastAt: string | undefined;
  for (const a of page.items) {
    const at = Date.parse(a.activityDate);
    if (at >= untilMs) passedEnd = true;
    else if (at >= fromMs) {
      inWindow += 1;
      lastAt = a.activityDate;
    }
  }
  return {
    from: w.from,
    ...(w.until ? { until: w.until } : {}),
    inWindow,
    complete: passedEnd || !page.moreResult,
    ...(lastAt ? { lastAt } : {}),
  };
}
