import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/**
 * CloudWatch metrics (Powertools, embedded metric format on stdout), emitted only where the stack
 * configured a namespace (POWERTOOLS_METRICS_NAMESPACE, set on every function by infra): the CLI
 * and tests without it print nothing. Every metric and its dimensions are named here, so infra
 * alarms on exactly what the code emits.
 */
export const METRICS = {
  /** One per finished nightly job, dimension `job`; its absence for a day is an alarm. */
  jobCompleted: { name: 'JobCompleted', dimension: 'job' },
} as const;

export type Job = 'activities' | 'optouts' | 'tasks' | 'campaigns';

/** The dimensions Powertools adds to every metric: `service` (POWERTOOLS_SERVICE_NAME). */
export const DEFAULT_DIMENSION = 'service';

/** Records that one run of `job` completed (an activity cycle caught up on every stream; a reconcile finished). */
export function recordJobCompleted(job: Job, env: NodeJS.ProcessEnv = process.env): void {
  const namespace = env.POWERTOOLS_METRICS_NAMESPACE;
  if (!namespace) return;
  const metrics = new Metrics({
    namespace,
    ...(env.POWERTOOLS_SERVICE_NAME && { serviceName: env.POWERTOOLS_SERVICE_NAME }),
  });
  metrics.addDimension(METRICS.jobCompleted.dimension, job);
  metrics.addMetric(METRICS.jobCompleted.name, MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
}
