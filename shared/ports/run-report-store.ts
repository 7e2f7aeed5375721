import type { RunKind, RunReport } from '../domain/run-report.js';

/** One run report per cycle; counters are added atomically by every handler that contributes. */
export interface RunReportStore {
  /** Creates the report; throws if it exists. */
  start(kind: RunKind, runId: string, details?: Record<string, unknown>): Promise<void>;
  /** Atomically adds to counters (zero and unknown-shaped names are ignored); throws if the run was never started. */
  add(kind: RunKind, runId: string, counts: Record<string, number>): Promise<void>;
  /** Throws if the run was never started. */
  finish(
    kind: RunKind,
    runId: string,
    status: 'completed' | 'failed',
    details?: Record<string, unknown>,
  ): Promise<void>;
  get(kind: RunKind, runId: string): Promise<RunReport | undefined>;
  /** The latest runs of a kind, newest first. */
  recent(kind: RunKind, limit?: number): Promise<RunReport[]>;
}
