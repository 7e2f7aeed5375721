import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SkipReason } from '../domain/task-policy.js';

/**
 * CloudWatch metrics (Powertools, embedded metric format on stdout), emitted only where the stack
 * configured a namespace (POWERTOOLS_METRICS_NAMESPACE, set on every function by infra): the CLI
 * and tests without it print nothing. Every metric is named here, once: the emitters
 * (shared/runtime/metric-emitters.ts) and the dashboard and alarms (infra/) read this catalogue,
 * so the dashboard plots exactly what the code emits.
 *
 * Cardinality stays bounded: a family (skip reasons, Marketo error codes, webhook statuses) is one
 * metric per known member, not a dimension with free values; every metric carries only the
 * `service` dimension (one value per stack), except JobCompleted (`job`: two values).
 */

export type MetricUnitName = (typeof MetricUnit)[keyof typeof MetricUnit];

export interface MetricDefinition {
  readonly name: string;
  readonly unit: MetricUnitName;
}

const count = (name: string): MetricDefinition => ({ name, unit: MetricUnit.Count });

/** Marketo error codes counted as metrics (the clients count every code; these three matter operationally). */
export const MARKETO_COUNTED_ERRORS = ['606', '607', '615'] as const;
export type MarketoCountedError = (typeof MARKETO_COUNTED_ERRORS)[number];

/** The statuses the webhook answers (shared/optouts/webhook-request.ts, and 500 for a throw); anything else is `other`. */
export const WEBHOOK_STATUSES = ['202', '400', '401', '403', '413', '415', '429', '500', '503'] as const;
export type WebhookStatusKey = (typeof WEBHOOK_STATUSES)[number] | 'other';

export const METRICS = {
  /** One per finished nightly job, dimension `job`; its absence for a day is an alarm. */
  jobCompleted: { name: 'JobCompleted', unit: MetricUnit.Count, dimension: 'job' },
  /** Activities of a fetched page inside the window (handed to the write step). */
  activitiesRead: count('ActivitiesRead'),
  /** Tasks written (created or updated): by collections in the write step, by the flush. */
  activitiesWritten: count('ActivitiesWritten'),
  /** Tasks handed to the Bulk staging table by the write step (written later by the flush). */
  activitiesStaged: count('ActivitiesStaged'),
  /** Tasks Salesforce refused for good. */
  activitiesFailed: count('ActivitiesFailed'),
  /** Activities that needed no Task, one metric per reason. */
  activitiesSkipped: {
    typeDisabled: count('ActivitiesSkipped_typeDisabled'),
    leadNotFound: count('ActivitiesSkipped_leadNotFound'),
    noSalesforceRecord: count('ActivitiesSkipped_noSalesforceRecord'),
    alreadyWritten: count('ActivitiesSkipped_alreadyWritten'),
    alreadySkipped: count('ActivitiesSkipped_alreadySkipped'),
    previouslyFailed: count('ActivitiesSkipped_previouslyFailed'),
  } satisfies Record<SkipReason, MetricDefinition>,
  /** Bulk API 2.0 jobs whose rows a flush settled. */
  bulkJobs: count('BulkJobs'),
  /** Vendor API calls that count against the vendor's quota (Marketo identity calls excluded). */
  vendorCalls: {
    marketo: count('MarketoCalls'),
    salesforce: count('SalesforceCalls'),
  },
  /** Marketo errors seen: 606 rate limit, 607 daily quota, 615 concurrency. */
  marketoErrors: {
    '606': count('MarketoErrors_606'),
    '607': count('MarketoErrors_607'),
    '615': count('MarketoErrors_615'),
  } satisfies Record<MarketoCountedError, MetricDefinition>,
  /** Records whose opt-out was written, per side (webhook apply and nightly reconcile). */
  optOutsApplied: {
    salesforce: count('OptOutsApplied_salesforce'),
    marketo: count('OptOutsApplied_marketo'),
  },
  /** Webhook requests, one metric per answered status. */
  webhookRequests: {
    '202': count('WebhookRequests_202'),
    '400': count('WebhookRequests_400'),
    '401': count('WebhookRequests_401'),
    '403': count('WebhookRequests_403'),
    '413': count('WebhookRequests_413'),
    '415': count('WebhookRequests_415'),
    /** Over optOuts.webhookPerSourceLimit. */
    '429': count('WebhookRequests_429'),
    '500': count('WebhookRequests_500'),
    '503': count('WebhookRequests_503'),
    other: count('WebhookRequests_other'),
  } satisfies Record<WebhookStatusKey, MetricDefinition>,
  /** From the webhook accepting an unsubscribe to its opt-out applied (Salesforce then Marketo). */
  webhookToAppliedLatency: { name: 'WebhookToAppliedLatency', unit: MetricUnit.Milliseconds },
} as const;

/** Every metric name of the catalogue (what the code may emit; what the dashboard may plot). */
export function metricNames(): string[] {
  const names: string[] = [];
  const walk = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    if ('name' in node && 'unit' in node && typeof node.name === 'string') {
      names.push(node.name);
      return;
    }
    for (const child of Object.values(node)) walk(child);
  };
  walk(METRICS);
  return names;
}

export type Job = 'activities' | 'optouts' | 'tasks' | 'campaigns';

/** The dimensions Powertools adds to every metric: `service` (POWERTOOLS_SERVICE_NAME). */
export const DEFAULT_DIMENSION = 'service';

/** Where an invocation's metrics go: Powertools (EMF, flushed once per invocation), memory (tests), nowhere (CLI). */
export interface MetricsSink {
  add(metric: MetricDefinition, value: number): void;
}

/** The sink of anything that is not a deployed function: the CLI and tests print no metrics. */
export const noMetrics: MetricsSink = { add: () => undefined };

/** Powertools metrics of one function when its environment names a namespace; undefined otherwise. */
export function powertoolsMetricsFromEnv(env: NodeJS.ProcessEnv = process.env): Metrics | undefined {
  const namespace = env.POWERTOOLS_METRICS_NAMESPACE;
  if (!namespace) return undefined;
  return new Metrics({
    namespace,
    ...(env.POWERTOOLS_SERVICE_NAME && { serviceName: env.POWERTOOLS_SERVICE_NAME }),
  });
}

/** A sink over Powertools metrics: stored until the function builder's middleware flushes them. */
export function powertoolsSink(metrics: Metrics): MetricsSink {
  return { add: (metric, value) => metrics.addMetric(metric.name, metric.unit, value) };
}

/** Records that one run of `job` completed (an activity cycle caught up on every stream; a reconcile finished). */
export function recordJobCompleted(job: Job, env: NodeJS.ProcessEnv = process.env): void {
  const metrics = powertoolsMetricsFromEnv(env);
  if (!metrics) return;
  // Its own EMF document: the `job` dimension must not apply to the invocation's other metrics.
  metrics.addDimension(METRICS.jobCompleted.dimension, job);
  metrics.addMetric(METRICS.jobCompleted.name, METRICS.jobCompleted.unit, 1);
  metrics.publishStoredMetrics();
}
