import { OPT_OUT_CONTINUATION_JOB, OPT_OUT_FULL_JOB } from '../config/job-schedule.js';
import { noMetrics } from '../observability/metrics.js';
import { applyUnsubscribe, parseUnsubscribeMessage } from '../optouts/apply-unsubscribe.js';
import {
  alignAllOptOuts,
  continueFullAlignment,
  FullAlignmentBusyError,
  type FullAlignmentReport,
} from '../optouts/full-alignment.js';
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
import { refuseUnknownJob } from './job-continuation.js';
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

/** The jobs the reconcile function runs; anything else is refused (a typo must not start a night). */
const RECONCILE_JOBS = ['optouts', OPT_OUT_CONTINUATION_JOB, OPT_OUT_FULL_JOB] as const;

/** Another invocation moved the run meanwhile: it has the run; nothing to retry. */
const idleWhenBusy = (err: unknown) => {
  if (err instanceof OptOutNightBusyError || err instanceof FullAlignmentBusyError) return undefined;
  throw err;
};

/**
 * Nightly: both directions, one consent-drift report, under the run id the schedule names. The
 * continuation schedule (job `optouts-continue`, every 15 minutes) resumes an open night that no
 * running invocation holds, else an open first-enable alignment, and does nothing otherwise; it
 * never starts either. Job `optouts-full` (invoked by hand) starts the first-enable alignment or
 * continues the open one. Metrics are emitted once, when a night completes (a continued night's
 * report is a running total).
 */
export const reconcileOptOutsJob = async (
  deps: OptOutDeps,
  run: Pick<ScheduledRun, 'runId' | 'job' | 'idGap'>,
  metrics = noMetrics,
  /** Tests: an invocation's budget in chunks or time (default: the Lambda's 12 minutes). */
  limits: Pick<ReconcileOptions, 'budgetMs' | 'maxChunks'> = {},
): Promise<OptOutRunReport | FullAlignmentReport | { status: 'idle' }> => {
  refuseUnknownJob('reconcile-optouts', RECONCILE_JOBS, run.job);
  let report: OptOutRunReport | FullAlignmentReport | undefined;
  if (run.job === OPT_OUT_FULL_JOB) {
    report = await alignAllOptOuts(deps, {
      ...limits,
      ...(run.idGap !== undefined ? { idGap: run.idGap } : {}),
    }).catch(idleWhenBusy);
  } else if (run.job === OPT_OUT_CONTINUATION_JOB) {
    report =
      (await continueOptOuts(deps, limits).catch(idleWhenBusy)) ??
      (await continueFullAlignment(deps, limits).catch(idleWhenBusy));
  } else {
    report = await reconcileOptOuts(deps, { ...limits, runId: run.runId });
  }
  if (!report) return { status: 'idle' };
  if (report.kind !== 'optouts-full' && report.status === 'completed') emitReconcile(metrics, report);
  return report;
};

/** The webhook function's handler over given dependencies (tests): the same middleware as the function. */
export const createReceiveUnsubscribeWebhook = (deps: WebhookDeps, metrics?: FunctionMetrics) =>
  httpHandler(async () => deps, deps.logger, handleUnsubscribeRequest, metrics);
