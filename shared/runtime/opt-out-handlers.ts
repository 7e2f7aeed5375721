import { applyUnsubscribe, parseUnsubscribeMessage } from '../optouts/apply-unsubscribe.js';
import type { OptOutDeps } from '../optouts/opt-out-deps.js';
import { type OptOutRunReport, reconcileOptOuts } from '../optouts/reconcile.js';
import { handleUnsubscribeRequest, type WebhookDeps } from '../optouts/webhook-request.js';
import { httpHandler, type ScheduledRun } from './function-builder.js';
import type { SqsConsumer } from './sqs-batch.js';

/** Unsubscribe queue → each accepted webhook unsubscribe applied to Salesforce (and Marketo). */
export const applyUnsubscribeConsumer: SqsConsumer<OptOutDeps> = (deps) => (record) =>
  applyUnsubscribe(deps, parseUnsubscribeMessage(record.body));

/** Nightly: both directions, one consent-drift report, under the run id the schedule names. */
export const reconcileOptOutsJob = (
  deps: OptOutDeps,
  run: Pick<ScheduledRun, 'runId'>,
): Promise<OptOutRunReport> => reconcileOptOuts(deps, { runId: run.runId });

/** The webhook function's handler over given dependencies (tests): the same middleware as the function. */
export const createReceiveUnsubscribeWebhook = (deps: WebhookDeps) =>
  httpHandler(async () => deps, deps.logger, handleUnsubscribeRequest);
