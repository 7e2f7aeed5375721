import type { ActivityDeps } from './activity-deps.js';

/** Salesforce sObject Collections delete: at most 200 ids per call. */
const DELETE_CHUNK = 200;
/** Marketo keeps deleted-lead records about 14 days (API-NOTES); a first read starts that far back. */
const FEED_RETENTION_MS = 14 * 86_400_000;
/** Re-read this far behind the last position: records can be committed late, like other activities. */
const FEED_OVERLAP_MS = 3600_000;

export interface DeletionOutcome {
  leads: number;
  tasksDeleted: number;
  /** Deletes Salesforce refused (left for the next run). */
  failed: number;
}

/**
 * Seed 002's `onLeadDeleted: deleteTask`: reads Marketo's deleted-leads feed since the last run,
 * deletes the Tasks we wrote for those leads (types with deleteTask only; collections, ≤ 200 ids
 * per call) and records each in the ledger (skipped, "leadDeleted"), so a re-read never writes it
 * again. A Task already gone counts as deleted. Does nothing unless some enabled type asks for it.
 */
export async function deleteTasksOfDeletedLeads(
  deps: Pick<ActivityDeps, 'settings' | 'marketo' | 'salesforce' | 'leadTasks' | 'ledger' | 'logger' | 'now'>,
): Promise<DeletionOutcome> {
  const out: DeletionOutcome = { leads: 0, tasksDeleted: 0, failed: 0 };
  if (!deps.settings.activities.types.some((t) => t.enabled && t.onLeadDeleted === 'deleteTask')) return out;
  const now = deps.now?.() ?? new Date();
  const last = await deps.leadTasks.deletionsReadUntil();
  const since = last
    ? new Date(Date.parse(last) - FEED_OVERLAP_MS)
    : new Date(now.getTime() - FEED_RETENTION_MS);
  const leadIds = new Set<number>();
  let token = await deps.marketo.getPagingToken(since);
  for (;;) {
    const page = await deps.marketo.getDeletedLeads({ nextPageToken: token });
    for (const d of page.items) leadIds.add(d.leadId);
    token = page.nextPageToken;
    if (!page.moreResult) break;
  }
  out.leads = leadIds.size;
  const tasks = leadIds.size ? await deps.leadTasks.forLeads([...leadIds]) : [];
  for (let i = 0; i < tasks.length; i += DELETE_CHUNK) {
    const chunk = tasks.slice(i, i + DELETE_CHUNK);
    const results = await deps.salesforce.destroy(
      'Task',
      chunk.map((t) => t.taskId),
    );
    const gone = chunk.filter((_, j) => {
      const r = results[j];
      return r?.success || r?.errors.some((e) => e.statusCode === 'ENTITY_IS_DELETED');
    });
    await Promise.all(
      gone.map((t) =>
        deps.ledger.markTaskDeleted(t.marketoGUID, 'leadDeleted: Task deleted (onLeadDeleted)'),
      ),
    );
    await deps.leadTasks.remove(gone);
    out.tasksDeleted += gone.length;
    out.failed += chunk.length - gone.length;
  }
  if (out.failed > 0)
    deps.logger.warn('Some Tasks of deleted leads could not be deleted; the next run tries again', {
      failed: out.failed,
    });
  else await deps.leadTasks.setDeletionsReadUntil(now.toISOString());
  return out;
}

/** The run's step (schedule function and CLI alike): the deletions, their counts added to the run report. */
export async function deleteTasksOfDeletedLeadsForRun(
  deps: Parameters<typeof deleteTasksOfDeletedLeads>[0] & Pick<ActivityDeps, 'runs'>,
  runId: string,
): Promise<DeletionOutcome> {
  const out = await deleteTasksOfDeletedLeads(deps);
  await deps.runs.add('activities', runId, {
    'deleted.leads': out.leads,
    'deleted.tasks': out.tasksDeleted,
    'deleted.failed': out.failed,
  });
  return out;
}
