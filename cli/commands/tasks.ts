import type { CallGovernor } from '../../shared/adapters/marketo/call-governor.js';
import { newRunId } from '../../shared/domain/run-report.js';
import { runSalesActivityJob } from '../../shared/runtime/sales-activity-runtime.js';
import type {
  SalesActivityDeps,
  SalesActivityReport,
} from '../../shared/salesactivity/sync-sales-activity.js';
import type { LocalEnvironment } from '../embedded/local-environment.js';

export interface TasksSummary extends Omit<SalesActivityReport, 'failed'> {
  command: 'tasks';
  /** Marketo activities added (SPEC: counts read / written / skipped by reason / failed). */
  written: number;
  failed: number;
  failedByCode: Record<string, number>;
  runId: string;
  calls: { marketo: number; salesforce: number };
  durationMs: number;
}

/** `tasks`: one job-4a cycle (Salesforce Tasks/Events → Marketo custom activities), recorded like the scheduled run, then exit. */
export async function runTasksCommand(
  local: LocalEnvironment,
  options: { governor?: CallGovernor; wrapDeps?: (deps: SalesActivityDeps) => SalesActivityDeps } = {},
): Promise<TasksSummary> {
  const started = Date.now();
  const runId = newRunId();
  const { report, calls } = await runSalesActivityJob(local.platform, local.credentials, runId, options);
  const { failed, ...rest } = report;
  return {
    command: 'tasks',
    runId,
    ...rest,
    written: report.added,
    failed: Object.values(failed).reduce((a, b) => a + b, 0),
    failedByCode: failed,
    calls,
    durationMs: Date.now() - started,
  };
}
