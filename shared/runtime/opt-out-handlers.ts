import { noMetrics } from '../observability/metrics.js';
import { applyUnsubscribe, parseUnsubscribeMessage } from '../optouts/apply-unsubscribe.js';
import { nowOf, type OptOutDeps } from '../optouts/opt-out-deps.js';
import { type OptOutRunReport, reconcileOptOuts } from '../optouts/reconcile.js';
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

/** Nightly: both directions, one consent-drift report, under the run id the schedule names. */
export const reconcileOptOutsJob = async (
  deps: OptOutDeps,
  run: Pick<ScheduledRun, 'runId'>,
  metrics = noMetrics,
): Promise<OptOutRunReport> => {
  const report = await reconcileOptOuts(deps, { runId: run.runId });
  emitReconcile(metrics, report);
  return report;
};

/** The webhook function's handler over given dependencies (tests): the same middleware as the function. */
export const createReceiveUnsubscribeWebhook = (deps: WebhookDeps, metrics?: FunctionMetrics) =>
  httpHandler(async () => deps, deps.logger, handleUnsubscribeRequest, metrics);
