import { resolveWhoId } from '../domain/task-policy.js';
import type { ActivityDeps } from './activity-deps.js';
import { requireQueueUrl } from './activity-deps.js';
import type { WriteActivity, WriteMessage } from './messages.js';
import { LEAD_LINK_FIELDS, salesforceLinkOf } from './write-activity-tasks.js';

const MARKETO_FILTER_MAX = 300;
/** Activities per write message (well under SQS's 256 KB even with large attribute lists). */
const ACTIVITIES_PER_MESSAGE = 25;

export interface PendingRevisit {
  /** People still without a Salesforce record, with activities waiting inside their look-back. */
  people: number;
  /** Their activities, still waiting after this run's revisit. */
  activities: number;
  /** Activities of people now linked, sent to the write queue by this run. */
  requeued: number;
}

/**
 * Schedule step: people whose activities wait for a Salesforce record are looked up again (≤ 300
 * per Marketo call); the activities of those now linked go to the write queue under this run and
 * leave the pending store (the write step puts any back whose lead is unlinked again). Entries past
 * their type's look-back have expired and are not read.
 */
export async function revisitPendingActivities(
  deps: Pick<ActivityDeps, 'pending' | 'marketo' | 'sender' | 'queueUrls' | 'logger'>,
  runId: string,
): Promise<PendingRevisit> {
  const waiting = await deps.pending.waiting();
  const leadIds = [...waiting.keys()];
  const linked: number[] = [];
  for (let i = 0; i < leadIds.length; i += MARKETO_FILTER_MAX) {
    const leads = await deps.marketo.getLeads({
      filterType: 'id',
      filterValues: leadIds.slice(i, i + MARKETO_FILTER_MAX),
      fields: LEAD_LINK_FIELDS,
    });
    for (const l of leads) if (resolveWhoId(salesforceLinkOf(l)).ok) linked.push(l.id);
  }
  const due: WriteActivity[] = linked.length ? await deps.pending.forLeads(linked) : [];
  if (due.length > 0) {
    const messages: WriteMessage[] = [];
    for (let i = 0; i < due.length; i += ACTIVITIES_PER_MESSAGE)
      messages.push({ kind: 'writeTasks', runId, activities: due.slice(i, i + ACTIVITIES_PER_MESSAGE) });
    await deps.sender.send(requireQueueUrl(deps, 'write'), messages);
    await deps.pending.remove(due);
    deps.logger.info('People now in Salesforce: their waiting activities are written', {
      people: linked.length,
      activities: due.length,
    });
  }
  const total = [...waiting.values()].reduce((a, b) => a + b, 0);
  return { people: leadIds.length - linked.length, activities: total - due.length, requeued: due.length };
}
