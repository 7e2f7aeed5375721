import { type StagedRow, stagedItemKey } from '../domain/staged-row.js';
import type { ActivityDeps } from './activity-deps.js';
import type { FlushMessage } from './messages.js';
import type { TaskItem } from './prepare-tasks.js';

/**
 * Stages Tasks for Bulk API 2.0: one item per first-owner message (a redelivery overwrites its
 * own item), then one delayed "flush" signal (AWS: the flush waits for staging to go quiet).
 * Staged counts as accepted: the flush owns the write from here.
 */
export async function stageTasks(
  deps: ActivityDeps,
  items: TaskItem[],
  staged: (item: TaskItem) => void,
  fail: (ownerIds: Iterable<string>, error: unknown) => void,
): Promise<void> {
  if (items.length === 0) return;
  const groups = new Map<string, TaskItem[]>();
  for (const item of items) groups.set(item.owners[0]!, [...(groups.get(item.owners[0]!) ?? []), item]);
  const done: TaskItem[] = [];
  await Promise.all(
    [...groups.values()].map(async (group) => {
      const rows = group.map((i): StagedRow => ({ ...i.ref, task: i.task, attempts: 0 }));
      const key = stagedItemKey(
        group[0]!.ref.runId,
        rows.map((r) => r.marketoGUID),
      );
      try {
        await deps.staging.stage(key, rows, deps.now?.() ?? new Date());
        done.push(...group);
      } catch (error) {
        fail(
          group.flatMap((i) => i.owners),
          error,
        );
      }
    }),
  );
  if (done.length === 0) return;
  const flushUrl = deps.queueUrls.flush;
  if (flushUrl) {
    try {
      const signal: FlushMessage = { kind: 'flushTasks', runId: done[0]!.ref.runId };
      await deps.sender.send(flushUrl, [signal], {
        delaySeconds: deps.settings.salesforce.bulkFlushQuietSeconds,
      });
    } catch (error) {
      // Without a signal nothing may wake the flush: retry the messages (their items are simply restaged).
      fail(
        done.flatMap((i) => i.owners),
        error,
      );
      return;
    }
  }
  for (const item of done) staged(item);
}
