import type { ActivityStream } from '../domain/activity-streams.js';
import { estimateWindowActivities } from '../domain/cycle-estimate.js';
import { exportWindows } from '../domain/export-windows.js';
import type { ActivityDeps } from './activity-deps.js';
import { type SampledWindow, sampleWindow } from './plan-activity-cycle.js';

export interface BackfillExportPlan {
  /** ≤ 31-day windows covering [from, now), each read by one export job. */
  windows: { index: number; from: string; until: string }[];
  /** Activities estimated in the span (first page read and extrapolated, as `sync plan` does). */
  estimate: number;
}

/** Which path a stream's span takes, why, and the sample the choice read (when it read one). */
export type BackfillPath =
  | ({ path: 'export'; sample: SampledWindow; exportAbove: number } & BackfillExportPlan)
  | {
      path: 'rest';
      reason: 'incremental' | 'exportOff' | 'noBulkClient' | 'belowThreshold' | 'estimateFailed';
      exportAbove: number;
      estimate?: number;
      sample?: SampledWindow;
    };

/**
 * Whether a stream's span is read by Bulk Activity Extract: only a back-fill (no watermark yet, or a
 * `--since` replay), only when the client offers bulk export, and only when the span holds more than
 * `activities.backfill.exportAbove` activities by the estimate (two REST calls: a paging token and
 * one page, one more per empty page with more to come, up to 3). Incremental runs stay on REST
 * paging and spend nothing here.
 */
export async function planBackfillExport(
  deps: Pick<ActivityDeps, 'settings' | 'marketo' | 'logger'>,
  stream: ActivityStream,
  span: { from: Date; now: Date; backfill: boolean },
): Promise<BackfillExportPlan | undefined> {
  const choice = await backfillPath(deps, stream, span);
  return choice.path === 'export' ? { windows: choice.windows, estimate: choice.estimate } : undefined;
}

/** planBackfillExport's choice with its reason: what the run decides, for the run and for `sync plan`. */
export async function backfillPath(
  deps: Pick<ActivityDeps, 'settings' | 'marketo' | 'logger'>,
  stream: ActivityStream,
  span: { from: Date; now: Date; backfill: boolean },
): Promise<BackfillPath> {
  const { exportAbove } = deps.settings.activities.backfill;
  if (!span.backfill) return { path: 'rest', reason: 'incremental', exportAbove };
  if (exportAbove === 0) return { path: 'rest', reason: 'exportOff', exportAbove };
  if (!deps.marketo.bulkExport) return { path: 'rest', reason: 'noBulkClient', exportAbove };
  let sample: SampledWindow;
  try {
    sample = await sampleWindow(
      deps,
      stream.types.map((t) => t.id),
      deps.settings.marketo.batchSize,
      {
        from: span.from.toISOString(),
      },
    );
  } catch (error) {
    // The estimate is an optimisation: when it cannot be read, the back-fill reads by REST as before.
    deps.logger.warn('Could not estimate the back-fill; reading it by REST paging', {
      stream: stream.key,
      error: error instanceof Error ? { name: error.name, message: error.message } : 'unknown',
    });
    return { path: 'rest', reason: 'estimateFailed', exportAbove };
  }
  const estimate = estimateWindowActivities(sample, span.now);
  if (estimate <= exportAbove)
    return { path: 'rest', reason: 'belowThreshold', exportAbove, estimate, sample };
  return { path: 'export', exportAbove, sample, windows: exportWindows(span.from, span.now), estimate };
}
