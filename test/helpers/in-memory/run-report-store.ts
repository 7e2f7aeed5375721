import { countersToAdd, type RunKind, type RunReport } from '../../../shared/domain/run-report.js';
import type { RunReportStore } from '../../../shared/ports/run-report-store.js';

/** RunReportStore in memory: reports are created once, counters added, finished; like the DynamoDB one. */
export class InMemoryRunReportStore implements RunReportStore {
  private readonly reports = new Map<string, RunReport>();

  async start(kind: RunKind, runId: string, details: Record<string, unknown> = {}): Promise<void> {
    const key = `${kind}#${runId}`;
    if (this.reports.has(key)) throw new Error(`Run ${kind} ${runId} was already started.`);
    this.reports.set(
      key,
      structuredClone({
        kind,
        runId,
        startedAt: new Date().toISOString(),
        status: 'running',
        counts: {},
        details,
      }),
    );
  }

  async add(kind: RunKind, runId: string, counts: Record<string, number>): Promise<void> {
    const entries = countersToAdd(counts);
    if (entries.length === 0) return;
    const report = this.existing(kind, runId);
    for (const [k, v] of entries) report.counts[k] = (report.counts[k] ?? 0) + v;
  }

  async finish(
    kind: RunKind,
    runId: string,
    status: 'completed' | 'failed',
    details?: Record<string, unknown>,
  ): Promise<void> {
    const report = this.existing(kind, runId);
    report.status = status;
    report.finishedAt = new Date().toISOString();
    if (details) report.details = structuredClone(details);
  }

  async get(kind: RunKind, runId: string): Promise<RunReport | undefined> {
    const report = this.reports.get(`${kind}#${runId}`);
    return report ? structuredClone(report) : undefined;
  }

  async recent(kind: RunKind, limit = 5): Promise<RunReport[]> {
    return [...this.reports.values()]
      .filter((r) => r.kind === kind)
      .sort((a, b) => (a.runId < b.runId ? 1 : a.runId > b.runId ? -1 : 0))
      .slice(0, limit)
      .map((r) => structuredClone(r));
  }

  private existing(kind: RunKind, runId: string): RunReport {
    const report = this.reports.get(`${kind}#${runId}`);
    if (!report) throw new Error(`Run ${kind} ${runId} was never started.`);
    return report;
  }
}
