/** Job 4: 'tasks' (sales activity → Marketo), 'campaigns' (Campaigns and member status). */
export type RunKind = 'activities' | 'optouts' | 'tasks' | 'campaigns';

export interface RunReport {
  kind: RunKind;
  runId: string;
  startedAt: string;
  finishedAt?: string;
  status: 'running' | 'completed' | 'failed';
  /** Additive counters: read, written, created, updated, skipped.<reason>, failed, calls.marketo, calls.salesforce … */
  counts: Record<string, number>;
  /** Free-form details (streams, windows, errors) set once. */
  details?: Record<string, unknown>;
}

/** A time-ordered, unique run id (sorts by start time in the runs table). */
export function newRunId(now = new Date()): string {
  return `${now.toISOString()}#${Math.random().toString(36).slice(2, 8)}`;
}

/** Counter names a run report accepts; others are ignored (they become attribute names). */
export const COUNTER_NAME = /^[A-Za-z0-9_.-]{1,80}$/;

/** The counters of `counts` a run report adds: finite, non-zero, well-named. */
export function countersToAdd(counts: Record<string, number>): [string, number][] {
  return Object.entries(counts).filter(([k, v]) => v !== 0 && Number.isFinite(v) && COUNTER_NAME.test(k));
}
