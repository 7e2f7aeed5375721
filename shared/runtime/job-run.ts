import { DynamoDbRunReportStore } from '../adapters/dynamodb/run-report-store.js';
import type { RunKind } from '../domain/run-report.js';
import { recordJobCompleted } from '../observability/metrics.js';
import type { Platform } from './activity-runtime.js';
import { type GrantedCredentials, loadCredentials } from './credentials.js';
import type { Runtime } from './function-builder.js';
import { once } from './once.js';

/**
 * One run of a single-invocation job (job 4's tasks and campaigns), recorded in the runs table:
 * started, its counters added, finished `completed` or `failed` with the error's name and message,
 * rethrown. The JobCompleted metric the "did not complete" alarm watches is emitted when the job
 * caught up (`complete`), not by a run its time budget stopped: the run that finishes a back-fill
 * (continued by the continuation ticks, job-continuation.ts) emits it once.
 */
export async function recordedRun<R>(
  platform: Pick<Platform, 'doc' | 'tables'>,
  kind: RunKind & ('tasks' | 'campaigns'),
  runId: string,
  work: () => Promise<{ report: R; counts: Record<string, number>; complete: boolean }>,
): Promise<R> {
  const runs = new DynamoDbRunReportStore(platform.doc, platform.tables.runs);
  await runs.start(kind, runId);
  try {
    const { report, counts, complete } = await work();
    await runs.add(kind, runId, counts);
    await runs.finish(kind, runId, 'completed', { report });
    if (complete) recordJobCompleted(kind);
    return report;
  } catch (err) {
    await runs
      .finish(kind, runId, 'failed', {
        error: err instanceof Error ? `${err.name}: ${err.message}` : 'unknown',
      })
      .catch(() => undefined);
    throw err;
  }
}

/** `{ a: { x: 1 } }` → `{ 'a.x': 1 }`: a report's nested counts as run-report counters. */
export function flatCounts(prefix: string, counts: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [`${prefix}.${k}`, v]));
}

/** What the scheduled function holds between invocations: the platform and its granted secrets (read once). */
export interface JobHost {
  platform: Platform;
  credentials: () => Promise<GrantedCredentials>;
}

/**
 * The composition of a scheduled job-4 function: its tables (the cursors table holds its
 * continuation) checked at cold start (a missing variable fails it, named), the secrets read on
 * first use and kept.
 */
export function jobHostRuntime(table: 'salesActivity' | 'campaigns'): Runtime<JobHost> {
  return {
    compose: (platform, env) => {
      for (const key of [table, 'runs', 'governor', 'cursors'] as const) void platform.tables[key];
      const credentials = once(() => loadCredentials(env));
      return async () => ({ platform, credentials });
    },
  };
}
