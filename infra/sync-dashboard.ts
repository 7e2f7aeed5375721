import { Duration, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  type IMetric,
  Metric,
  Stats,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { QueueKey } from '../shared/adapters/sqs/queue-definitions.js';
import {
  DEFAULT_DIMENSION,
  type Job,
  METRICS,
  type MetricDefinition,
} from '../shared/observability/metrics.js';
import { AppFunction } from './app-function.js';
import type { QueueWithDeadLetter } from './queue-with-dead-letter.js';

export interface SyncDashboardProps {
  /** The namespace and `service` dimension the functions emit under (POWERTOOLS_*). */
  readonly namespace: string;
  readonly service: string;
  readonly queues: Readonly<Record<QueueKey, QueueWithDeadLetter>>;
  /** Scheduler's dead-letter queue (failed scheduled invocations). */
  readonly scheduleDeadLetterQueue: IQueue;
  /** @default 5 minutes */
  readonly period?: Duration;
}

const WIDTH = 12;
const HEIGHT = 6;

/**
 * One CloudWatch dashboard: the code's metrics (shared/observability/metrics.ts METRICS, the only
 * names plotted from our namespace), every queue's and dead-letter queue's depth and oldest
 * message, errors and durations of every function of the stack, and the state of every alarm.
 * Functions and alarms are found in the construct tree: create it after them (last in the stack).
 */
export class SyncDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: SyncDashboardProps) {
    super(scope, id);
    const period = props.period ?? Duration.minutes(5);
    const ours = (def: MetricDefinition, statistic: string = Stats.SUM, label?: string): Metric =>
      new Metric({
        namespace: props.namespace,
        metricName: def.name,
        dimensionsMap: { [DEFAULT_DIMENSION]: props.service },
        statistic,
        period,
        label: label ?? def.name,
      });
    const graph = (title: string, left: IMetric[], right: IMetric[] = []) =>
      new GraphWidget({ title, left, right, width: WIDTH, height: HEIGHT });

    const stack = Stack.of(this);
    const functions = stack.node.findAll().filter((c): c is AppFunction => c instanceof AppFunction);
    const alarms = stack.node.findAll().filter((c): c is Alarm => c instanceof Alarm);
    const queues: [string, IQueue][] = [
      ...Object.entries(props.queues).flatMap(([key, pair]): [string, IQueue][] => [
        [key, pair.queue],
        [`${key} DLQ`, pair.deadLetterQueue],
      ]),
      ['schedule DLQ', props.scheduleDeadLetterQueue],
    ];
    const jobs: Job[] = ['activities', 'optouts'];

    this.dashboard = new Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.days(1),
    });
    this.dashboard.addWidgets(
      new AlarmStatusWidget({ title: 'Alarms', alarms, width: 2 * WIDTH, height: HEIGHT }),
    );
    this.dashboard.addWidgets(
      graph(
        'Activities',
        [
          ours(METRICS.activitiesRead),
          ours(METRICS.activitiesWritten),
          ours(METRICS.activitiesStaged),
          ours(METRICS.activitiesFailed),
        ],
        [ours(METRICS.bulkJobs)],
      ),
      graph(
        'Activities skipped, by reason',
        Object.values(METRICS.activitiesSkipped).map((def) => ours(def)),
      ),
    );
    this.dashboard.addWidgets(
      graph(
        'Vendor API calls (left) and Marketo 606/607/615 (right)',
        Object.values(METRICS.vendorCalls).map((def) => ours(def)),
        Object.values(METRICS.marketoErrors).map((def) => ours(def)),
      ),
      graph(
        'Nightly jobs completed',
        jobs.map(
          (job) =>
            new Metric({
              namespace: props.namespace,
              metricName: METRICS.jobCompleted.name,
              dimensionsMap: { [DEFAULT_DIMENSION]: props.service, [METRICS.jobCompleted.dimension]: job },
              statistic: Stats.SUM,
              period: Duration.hours(1),
              label: `${job} completed`,
            }),
        ),
      ),
    );
    this.dashboard.addWidgets(
      graph(
        'Webhook requests by status',
        Object.values(METRICS.webhookRequests).map((def) => ours(def)),
      ),
      graph(
        'Opt-outs applied per side (left); webhook accepted → applied, ms (right)',
        Object.values(METRICS.optOutsApplied).map((def) => ours(def)),
        [Stats.p(50), Stats.p(99), Stats.MAXIMUM].map((s) =>
          ours(METRICS.webhookToAppliedLatency, s, `latency ${s}`),
        ),
      ),
    );
    this.dashboard.addWidgets(
      graph(
        'Queue depth (visible messages)',
        queues.map(([label, q]) =>
          q.metricApproximateNumberOfMessagesVisible({ period, statistic: Stats.MAXIMUM, label }),
        ),
      ),
      graph(
        'Oldest message age (seconds)',
        queues.map(([label, q]) =>
          q.metricApproximateAgeOfOldestMessage({ period, statistic: Stats.MAXIMUM, label }),
        ),
      ),
    );
    this.dashboard.addWidgets(
      graph(
        'Function errors',
        functions.map((f) => f.function.metricErrors({ period, statistic: Stats.SUM, label: f.node.id })),
      ),
      graph(
        'Function duration (p99, ms)',
        functions.map((f) => f.function.metricDuration({ period, statistic: Stats.p(99), label: f.node.id })),
      ),
    );
  }
}
