import type { RunReportStore } from '../ports/run-report-store.js';

/** Counters for the run reports of several runs, added in one update per run. */
export class RunTally {
  private readonly byRun = new Map<string, Record<string, number>>();

  add(runId: string, counter: string, n = 1): void {
    const counts = this.byRun.get(runId) ?? {};
    counts[counter] = (counts[counter] ?? 0) + n;
    this.byRun.set(runId, counts);
  }

  get(runId: string, counter: string): number {
    return this.byRun.get(runId)?.[counter] ?? 0;
  }

  async flush(runs: Pick<RunReportStore, 'add'>): Promise<void> {
    const entries = [...this.byRun];
    this.byRun.clear();
    await Promise.all(entries.map(([runId, counts]) => runs.add('activities', runId, counts)));
  }
}
