import { SalesforceApiLimitError, SalesforceAuthError } from '../ports/salesforce-errors.js';
import { SALESFORCE_MAX_COLLECTION_SIZE } from '../ports/vendor-limits.js';
import type { ActivityDeps } from './activity-deps.js';
import type { TaskItem } from './prepare-tasks.js';
import { redirectConvertedLeads } from './redirect-converted-leads.js';
import { type Settlement, settleTaskResult } from './settle-task-result.js';
import { upsertTasksByExternalId } from './upsert-tasks.js';
import { writeThroughLedger } from './write-through-ledger.js';

/**
 * Writes Tasks in chunks of exactly 200 (one collection call each), settling every result in
 * the ledger. A chunk whose call fails fails only its messages; an exhausted API budget or a
 * refused login stops the rest (their messages fail with it and are deferred, not retried).
 */
export async function writeTaskChunks(
  deps: ActivityDeps,
  items: TaskItem[],
  settle: (item: TaskItem, s: Settlement) => void,
  fail: (ownerIds: Iterable<string>, error: unknown) => void,
): Promise<void> {
  let stop: unknown;
  for (let i = 0; i < items.length; i += SALESFORCE_MAX_COLLECTION_SIZE) {
    const chunk = items.slice(i, i + SALESFORCE_MAX_COLLECTION_SIZE);
    const owners = chunk.flatMap((item) => item.owners);
    if (stop !== undefined) {
      fail(owners, stop);
      continue;
    }
    try {
      const writeItems = (its: TaskItem[]) =>
        deps.settings.salesforce.upsertMode === 'externalId'
          ? upsertTasksByExternalId(
              deps,
              its.map((item) => item.task),
            )
          : writeThroughLedger(deps, its);
      const results = await redirectConvertedLeads(deps, chunk, await writeItems(chunk), writeItems);
      const settled = await Promise.all(chunk.map((item, j) => settleTaskResult(deps, item.ref, results[j])));
      for (const [j, item] of chunk.entries()) settle(item, settled[j]!);
    } catch (error) {
      fail(owners, error);
      if (error instanceof SalesforceApiLimitError || error instanceof SalesforceAuthError) stop = error;
    }
  }
}
