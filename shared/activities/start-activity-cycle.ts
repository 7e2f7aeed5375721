import { chainId } from '../domain/activity-chain.js';
import {
  allocateWindows,
  planStreams,
  splitWindows,
  type TypeResolution,
} from '../domain/activity-streams.js';
import { onlyTypes } from '../domain/replay-types.js';
import { newRunId } from '../domain/run-report.js';
import type { ActivityDeps } from './activity-deps.js';
import { requireQueueUrl } from './activity-deps.js';
import type { ExportMessage, FetchMessage } from './messages.js';
import { planBackfillExport } from './plan-backfill-export.js';
import { type PendingRevisit, revisitPendingActivities } from './revisit-pending.js';

export interface StartedStream {
  streamKey: string;
  from: string;
  until: string;
  windows: number;
  /** busy: an earlier run still owns the stream and is not stale; it continues instead. */
  status: 'started' | 'busy';
}

export interface StartedCycle {
  runId: string;
  streams: StartedStream[];
  /** Enabled optional types the instance lacks (skipped; in the run report as `typesMissing`). */
  typesMissing: string[];
  /** How each enabled type was matched to the instance's catalogue. */
  resolutions: TypeResolution[];
  /** Activities waiting for their person to reach Salesforce (revisited at the start of this run). */
  pending: PendingRevisit;
}

/** An earlier run older than this is presumed stalled and is taken over. */
export const DEFAULT_TAKEOVER_AFTER_MS = 12 * 3600_000;

/**
 * Schedule step: plan the streams (enabled types, ≤ 10 ids each), claim each stream's cursor for
 * this run, split the span since the watermark (or the look-back) into windows — the
 * `backfillWindows` shared among the streams — and enqueue the first page of each.
 */
export async function startActivityCycle(
  deps: Omit<ActivityDeps, 'ledger' | 'leadCache'>,
  options: {
    runId?: string;
    takeOverAfterMs?: number;
    /** Replay (`sync activities --since`): every stream reads from here, whatever its watermark. */
    since?: Date;
    /** Replay: only these types' streams (names as in the settings). */
    types?: readonly string[];
  } = {},
): Promise<StartedCycle> {
  const now = deps.now?.() ?? new Date();
  const runId = options.runId ?? newRunId(now);
  const takeOverAfterMs = options.takeOverAfterMs ?? DEFAULT_TAKEOVER_AFTER_MS;
  const planned = options.types ? onlyTypes(deps.settings, options.types) : deps.settings;
  const plan = planStreams(planned, await deps.marketo.getActivityTypes());
  if (plan.typesMissing.length) {
    deps.logger.warn('Optional activity types are not on this instance; skipped', {
      types: plan.typesMissing,
    });
  }
  for (const warning of plan.warnings) deps.logger.warn(`Activity type name differs: ${warning}`);
  await deps.runs.start('activities', runId, {
    streams: plan.streams.map((s) => s.key),
    typesMissing: plan.typesMissing,
    typeResolutions: plan.resolutions,
  });
  const { overlapMinutes, lookbackDays, backfillWindows } = deps.settings.activities;
  const started: StartedStream[] = [];
  const windowShares = allocateWindows(plan.streams, backfillWindows);
  for (const [streamIndex, stream] of plan.streams.entries()) {
    const cursor = await deps.cursors.getStream(stream.key);
    const claimedAt = cursor?.claimedAt ? Date.parse(cursor.claimedAt) : 0;
    if (cursor?.activeRunId && now.getTime() - claimedAt < takeOverAfterMs) {
      deps.logger.info('Stream still owned by an earlier run; it continues', {
        stream: stream.key,
        owner: cursor.activeRunId,
      });
      started.push({
        streamKey: stream.key,
        from: '',
        until: cursor.runUntil ?? '',
        windows: 0,
        status: 'busy',
      });
      continue;
    }
    const from =
      options.since ??
      (cursor?.watermark
        ? new Date(Date.parse(cursor.watermark) - overlapMinutes * 60_000)
        : new Date(now.getTime() - lookbackDays * 86_400_000));
    const exportPlan = await planBackfillExport(deps, stream, {
      from,
      now,
      backfill: options.since !== undefined || !cursor?.watermark,
    });
    const windows = exportPlan?.windows ?? splitWindows(from, now, windowShares[streamIndex] ?? 1);
    const claimed = await deps.cursors.claimStream({
      streamKey: stream.key,
      runId,
      runUntil: now.toISOString(),
      windowCount: windows.length,
      expectedVersion: cursor?.version,
      ...(cursor?.watermark ? { watermark: cursor.watermark } : {}),
    });
    if (!claimed) {
      started.push({
        streamKey: stream.key,
        from: from.toISOString(),
        until: now.toISOString(),
        windows: 0,
        status: 'busy',
      });
      continue;
    }
    const messages: (FetchMessage | ExportMessage)[] = [];
    if (exportPlan) {
      deps.logger.info('Back-fill read by Marketo bulk export', {
        stream: stream.key,
        estimate: exportPlan.estimate,
        windows: windows.length,
      });
      await deps.runs.add('activities', runId, {
        exportWindows: windows.length,
        exportEstimate: exportPlan.estimate,
      });
    }
    // Export windows run one after another (the first here, each next one when it ends).
    const [firstExport, ...laterExports] = exportPlan?.windows ?? [];
    if (firstExport) {
      messages.push({
        kind: 'exportWindow',
        runId,
        streamKey: stream.key,
        types: stream.types,
        windowIndex: firstExport.index,
        from: firstExport.from,
        until: firstExport.until,
        later: laterExports.map(({ from, until }) => ({ from, until })),
      });
    }
    for (const w of exportPlan ? [] : windows) {
      await deps.cursors.createChain({
        id: chainId(runId, stream.key, w.index),
        runId,
        streamKey: stream.key,
        windowIndex: w.index,
        resumeFrom: w.from,
      });
      messages.push({
        kind: 'fetchPage',
        runId,
        streamKey: stream.key,
        types: stream.types,
        windowIndex: w.index,
        from: w.from,
        ...(w.until ? { until: w.until } : {}),
        page: 0,
      });
    }
    await deps.sender.send(requireQueueUrl(deps, 'fetch'), messages);
    started.push({
      streamKey: stream.key,
      from: from.toISOString(),
      until: now.toISOString(),
      windows: windows.length,
      status: 'started',
    });
  }
  const pending = await revisitPendingActivities(deps, runId);
  await deps.runs.add('activities', runId, {
    streamsStarted: started.filter((s) => s.status === 'started').length,
    windowsStarted: started.reduce((n, s) => n + s.windows, 0),
    'pending.people': pending.people,
    'pending.activities': pending.activities,
    'pending.requeued': pending.requeued,
  });
  return { runId, streams: started, typesMissing: plan.typesMissing, resolutions: plan.resolutions, pending };
}
