import type { FlushOutcome } from '../activities/bulk-flush.js';
import type { FetchOutcome } from '../activities/fetch-activity-page.js';
import type { WriteOutcome } from '../activities/write-activity-tasks.js';
import type { SkipReason } from '../domain/task-policy.js';
import {
  MARKETO_COUNTED_ERRORS,
  METRICS,
  type MetricsSink,
  WEBHOOK_STATUSES,
  type WebhookStatusKey,
} from '../observability/metrics.js';
import type { ApplyOutcome } from '../optouts/apply-unsubscribe.js';
import type { UnsubscribeMessage } from '../optouts/messages.js';
import type { OptOutRunReport } from '../optouts/reconcile.js';

/**
 * The metrics of each step, read from what its use case returns: the use cases know nothing of
 * metrics (they import only domain and ports), the runtime that runs them emits. Each emitter adds
 * once per invocation or batch, so one EMF document carries the invocation's totals.
 */

/** A fetched page: the activities it handed to the write step. */
export function emitFetch(sink: MetricsSink, outcomes: readonly FetchOutcome[]): void {
  const read = outcomes.reduce((n, o) => n + (o.status === 'advanced' ? o.read : 0), 0);
  sink.add(METRICS.activitiesRead, read);
}

/** A write batch: the outcomes of its messages that succeeded (a retried message is counted on its retry). */
export function emitWrite(sink: MetricsSink, outcomes: readonly WriteOutcome[]): void {
  const sum = (key: 'written' | 'staged' | 'failed') => outcomes.reduce((n, o) => n + o[key], 0);
  sink.add(METRICS.activitiesWritten, sum('written'));
  sink.add(METRICS.activitiesStaged, sum('staged'));
  sink.add(METRICS.activitiesFailed, sum('failed'));
  for (const reason of Object.keys(METRICS.activitiesSkipped) as SkipReason[]) {
    const n = outcomes.reduce((acc, o) => acc + (o.skipped[reason] ?? 0), 0);
    if (n > 0) sink.add(METRICS.activitiesSkipped[reason], n);
  }
}

/** A flush: the Tasks it wrote or saw refused, and the Bulk job it settled. */
export function emitFlush(sink: MetricsSink, outcome: FlushOutcome | 'notQuiet'): void {
  if (outcome === 'notQuiet') return;
  sink.add(METRICS.activitiesWritten, outcome.written);
  sink.add(METRICS.activitiesFailed, outcome.failed);
  if (outcome.status === 'flushed' && outcome.via === 'bulk') sink.add(METRICS.bulkJobs, 1);
}

/** Vendor clients as the runtime counts them (MarketoClient / SalesforceClient callCounts()). */
export interface CountedClients {
  marketo: { callCounts(): { total: number; errors?: Record<string, number> } };
  salesforce: { callCounts(): { total: number } };
}

/** Runs `work` and emits the vendor calls it made and the Marketo 606/607/615 it saw (succeeded or not). */
export async function withCallsMeasured<T>(
  clients: CountedClients,
  sink: MetricsSink,
  work: () => Promise<T>,
): Promise<T> {
  const before = clients.marketo.callCounts();
  const sf = clients.salesforce.callCounts().total;
  try {
    return await work();
  } finally {
    const after = clients.marketo.callCounts();
    sink.add(METRICS.vendorCalls.marketo, after.total - before.total);
    sink.add(METRICS.vendorCalls.salesforce, clients.salesforce.callCounts().total - sf);
    for (const code of MARKETO_COUNTED_ERRORS) {
      const seen = (after.errors?.[code] ?? 0) - (before.errors?.[code] ?? 0);
      if (seen > 0) sink.add(METRICS.marketoErrors[code], seen);
    }
  }
}

/** Accepted webhook unsubscribes applied: records written per side, and how long each waited since it was accepted. */
export function emitApplied(
  sink: MetricsSink,
  msg: Pick<UnsubscribeMessage, 'receivedAt'>,
  outcome: ApplyOutcome,
  now: Date,
): void {
  if (outcome.status !== 'applied') return;
  sink.add(METRICS.optOutsApplied.salesforce, outcome.bySide.salesforce);
  sink.add(METRICS.optOutsApplied.marketo, outcome.bySide.marketo);
  sink.add(METRICS.webhookToAppliedLatency, Math.max(0, now.getTime() - Date.parse(msg.receivedAt)));
}

/** The nightly reconcile: records fixed per side, and the vendor calls it made. */
export function emitReconcile(sink: MetricsSink, report: OptOutRunReport): void {
  sink.add(METRICS.optOutsApplied.salesforce, report.fixed.salesforce);
  sink.add(METRICS.optOutsApplied.marketo, report.fixed.marketo);
  sink.add(METRICS.vendorCalls.marketo, report.apiCalls.marketo);
  sink.add(METRICS.vendorCalls.salesforce, report.apiCalls.salesforce);
}

/** One webhook request, by the status it was answered with. */
export function emitWebhookStatus(sink: MetricsSink, statusCode: number): void {
  const key = String(statusCode);
  const known = (WEBHOOK_STATUSES as readonly string[]).includes(key);
  sink.add(METRICS.webhookRequests[(known ? key : 'other') as WebhookStatusKey], 1);
}
