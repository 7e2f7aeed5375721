import type { TaskRecord } from '../domain/salesforce-records.js';
import { soql } from '../domain/soql.js';
import type { ActivityDeps } from './activity-deps.js';

/** Ids per SOQL `IN` list. */
const IDS_PER_QUERY = 200;
/** Key prefix of Group (a Lead owned by a queue): a Task cannot be owned by a queue. */
const QUEUE_PREFIX = '00G';

/**
 * `activities.taskOwner: recordOwner`: each Task is owned by the owner of its Lead or Contact (one
 * query per 200 Leads and per 200 Contacts of the batch). A record owned by a queue, or not found,
 * leaves the Task to the integration user (the default owner of what the API creates).
 */
export async function assignRecordOwners(
  deps: Pick<ActivityDeps, 'settings' | 'salesforce'>,
  tasks: readonly TaskRecord[],
): Promise<void> {
  if (deps.settings.activities.taskOwner !== 'recordOwner' || tasks.length === 0) return;
  const whoIds = [...new Set(tasks.map((t) => String(t.WhoId)))];
  const ownerOf = new Map<string, string>();
  for (const sobject of ['Lead', 'Contact'] as const) {
    for (let i = 0; i < whoIds.length; i += IDS_PER_QUERY) {
      const ids = whoIds.slice(i, i + IDS_PER_QUERY);
      const rows = await deps.salesforce.query<{ Id: string; OwnerId: string | null }>(
        sobject === 'Lead'
          ? soql`SELECT Id, OwnerId FROM Lead WHERE Id IN ${ids}`
          : soql`SELECT Id, OwnerId FROM Contact WHERE Id IN ${ids}`,
      );
      for (const r of rows)
        if (r.OwnerId && !r.OwnerId.startsWith(QUEUE_PREFIX)) ownerOf.set(String(r.Id), String(r.OwnerId));
    }
  }
  for (const task of tasks) {
    const owner = ownerOf.get(String(task.WhoId));
    if (owner) task.OwnerId = owner;
  }
}
