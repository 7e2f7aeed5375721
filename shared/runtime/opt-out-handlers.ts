import { OPT_OUT_CONTINUATION_JOB } from '../config/job-schedule.js';
import { noMetrics } from '../observability/metrics.js';
import { applyUnsubscribe, parseUnsubscribeMessage } from '../optouts/apply-unsubscribe.js';
import { nowOf, type OptOutDeps } from '../optouts/opt-out-deps.js';
import {
  continueOptOuts,
  OptOutNightBusyError,
  type OptOutRunReport,
  type ReconcileOptions,
  reconcileOptOuts,
} from '../optouts/reconcile.js';
import { handleUnsubscribeRequest, type WebhookDeps } from '../optouts/webhook-request.js';
import { type FunctionMetrics, httpHandler, type ScheduledRun } from './function-builder.js';
import { emitApplied, emitReconcile } from './metric-emitters.js';
import type { SqsConsumer } from './sqs-batch.js';

/** Unsubscribe queue → each accepted webhook unsubscribe applied to Salesforce (and Marketo). */
export const applyUnsubscribeConsumer: SqsConsumer<OptOutDeps> =
  (deps, _records, metrics) => async (record) => {
    const msg = parseUnsubscribeMessage(record.body);
    const outcome = await applyUnsubscribe(deps, msg);
    emitApplied(metrics, msg, outcome, nowOf(deps));
    return outcome;
  };

/**
 * Nightly: both directions, one consent-drift report, under the run id the schedule names. The
 * continuation schedule (job `optouts-continue`, every 15 minutes) resumes an open night that no
 * running invocation holds, and does nothing otherwise. Metrics are emitted once, when a night
 * completes (a continued night's report is a running total).
 */
export const reconcileOptOutsJob = async (
  deps: OptOutDeps,
  run: Pick<ScheduledRun, 'runId' | 'job'>,
  metrics = noMetrics,
  /** Tests: an invocation's budget in chunks or time (default: the Lambda's 12 minutes). */
  limits: Pick<ReconcileOptions, 'budgetMs' | 'maxChunks'> = {},
): Promise<OptOutRunReport | { status: 'idle' }> => {
  const report =
    run.job === OPT_OUT_CONTINUATION_JOB
      ? await continueOptOuts(deps, limits).catch((err: unknown) => {
          // Another invocation moved the night meanwhile: it has the night; nothing to retry.
          if (err instanceof OptOutNightBusyError) return undefined;
          throw err;
        })
      : await reconcileOptOuts(deps, { ...limits, runId: run.runId });
  if (!report) return { status: 'idle' };
  if (report.status === 'completed') emitReconcile(metrics, report);
  return report;
};

/** The webhook function's handler over given dependencies (tests): the same middleware as the function. */
export const createReceiveUnsubscribeWebhook = (deps: WebhookDeps, metrics?: FunctionMetrics) =>
  httpHandler(async () => deps, deps.logger, handleUnsubscribeRequest, metrics);
