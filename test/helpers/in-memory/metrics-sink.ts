import type { MetricDefinition, MetricsSink } from '../../../shared/observability/metrics.js';

/** MetricsSink in memory: every value added, in order; `total` sums one metric. */
export class InMemoryMetricsSink implements MetricsSink {
  readonly added: { name: string; unit: string; value: number }[] = [];

  add(metric: MetricDefinition, value: number): void {
    this.added.push({ name: metric.name, unit: metric.unit, value });
  }

  total(name: string): number {
    return this.added.filter((a) => a.name === name).reduce((n, a) => n + a.value, 0);
  }

  names(): Set<string> {
    return new Set(this.added.map((a) => a.name));
  }
}
