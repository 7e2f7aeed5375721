import { SALESFORCE_MAX_COLLECTION_SIZE } from '../ports/vendor-limits.js';
import type { ActivityDeps } from './activity-deps.js';
import type { TaskItem } from './prepare-tasks.js';

/**
 * Which Tasks are written now and which are staged (externalId mode only; ledger mode writes all).
 * Staged: every Task of a run that has read ≥ bulkThreshold activities (Bulk API 2.0 will write
 * them), and the last `n mod 200` of the rest — so every collection call written here carries
 * exactly 200 records, and the remainders of all batches are written together, in full chunks,
 * by the flush at the end of the cycle. Over a cycle that makes ceil(N / 200) calls for N Tasks.
 */
export async function routeTasks(
  deps: ActivityDeps,
  items: TaskItem[],
): Promise<{ direct: TaskItem[]; staged: TaskItem[] }> {
  const { upsertMode, bulkThreshold } = deps.settings.salesforce;
  if (upsertMode !== 'externalId' || items.length === 0) return { direct: items, staged: [] };
  const bulkRuns = new Set<string>();
  if (deps.salesforce.bulkUpsert) {
    for (const runId of new Set(items.map((i) => i.ref.runId))) {
      const read = (await deps.runs.get('activities', runId))?.counts.read ?? 0;
      if (read >= bulkThreshold) bulkRuns.add(runId);
    }
  }
  const staged = items.filter((i) => bulkRuns.has(i.ref.runId));
  const rest = items.filter((i) => !bulkRuns.has(i.ref.runId));
  const full = rest.length - (rest.length % SALESFORCE_MAX_COLLECTION_SIZE);
  return { direct: rest.slice(0, full), staged: [...staged, ...rest.slice(full)] };
}
