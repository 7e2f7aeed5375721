import { enabledSettingFor } from '../domain/activity-streams.js';
import type { TaskRecord } from '../domain/salesforce-records.js';
import { mapActivityToTask } from '../domain/task-mapping.js';
import { resolveWhoId, type SkipReason } from '../domain/task-policy.js';
import type { ActivityDeps } from './activity-deps.js';
import { type EmailMatch, matchLeadsByEmail } from './match-by-email.js';
import type { WriteActivity, WriteMessage } from './messages.js';
import { resolveLeads } from './resolve-leads.js';
import type { TaskRef } from './settle-task-result.js';
import { assignRecordOwners } from './task-owner.js';
import { taskTimeZone } from './task-time-zone.js';

/** One Task to write, and the messages waiting for it (the first one counts it). */
export interface TaskItem {
  ref: TaskRef;
  task: TaskRecord;
  owners: string[];
}

export interface ParsedWriteMessage {
  id: string;
  msg: WriteMessage;
}

/**
 * Skip what needs no Task (type disabled, already settled in the ledger, no Salesforce record),
 * resolve WhoIds for the whole unit at once, and map the rest to Tasks, one per marketoGUID.
 */
export async function prepareTasks(
  deps: ActivityDeps,
  unit: ParsedWriteMessage[],
  skip: (id: string, reason: SkipReason) => void,
): Promise<TaskItem[]> {
  const eligible: { id: string; runId: string; ledgerFrom: number; activity: WriteActivity }[] = [];
  // externalId mode: activities before the next cycle's read keep no done entry (WriteMessage.ledgerFrom).
  const byExternalId = deps.settings.salesforce.upsertMode === 'externalId';
  for (const { id, msg } of unit) {
    const ledgerFrom = byExternalId && msg.ledgerFrom ? Date.parse(msg.ledgerFrom) : Number.NEGATIVE_INFINITY;
    for (const activity of dedupe(msg.activities)) {
      if (enabledSettingFor(deps.settings, activity.activityTypeName))
        eligible.push({ id, runId: msg.runId, ledgerFrom, activity });
      else skip(id, 'typeDisabled');
    }
  }
  const ledger = await deps.ledger.getMany(eligible.map((e) => e.activity.marketoGUID));
  const fresh = eligible.filter(({ id, activity }) => {
    const entry = ledger.get(activity.marketoGUID);
    if (entry?.status === 'done') skip(id, 'alreadyWritten');
    else if (entry?.status === 'failed') skip(id, 'previouslyFailed');
    // "No Salesforce record" is never final (an entry an earlier version recorded is revisited too).
    else if (entry?.status === 'skipped' && entry.reason !== 'noSalesforceRecord') skip(id, 'alreadySkipped');
    else return true;
    return false;
  });
  const leads = await resolveLeads(
    deps,
    [...new Set(fresh.map((e) => e.activity.leadId))],
    fresh[0]?.runId ?? '',
  );
  const matches =
    deps.settings.activities.unlinkedLeads === 'matchByEmail'
      ? await matchLeadsByEmail(
          deps,
          [...leads.values()].filter((l) => !resolveWhoId(l).ok),
        )
      : new Map<number, EmailMatch>();
  const now = deps.now?.() ?? new Date();
  const timeZone = fresh.length ? await taskTimeZone(deps) : 'UTC';
  const waiting: { activity: WriteActivity; keepUntil: Date }[] = [];
  const items = new Map<string, TaskItem>();
  for (const { id, runId, ledgerFrom, activity } of fresh) {
    const known = items.get(activity.marketoGUID);
    if (known) {
      known.owners.push(id);
      continue;
    }
    const linked = resolveWhoId(leads.get(activity.leadId));
    const match = matches.get(activity.leadId);
    const who = !linked.ok && match ? { ok: true as const, ...match } : linked;
    if (!who.ok && who.reason === 'noSalesforceRecord') {
      // The person may reach Salesforce later: kept and revisited each run inside the type's look-back.
      const keepUntil = waitsUntil(deps.settings, activity);
      if (keepUntil > now) {
        waiting.push({ activity, keepUntil });
        skip(id, 'noSalesforceRecord');
        continue;
      }
    }
    if (!who.ok) {
      const first = await deps.ledger.markSkipped({
        marketoGUID: activity.marketoGUID,
        leadId: activity.leadId,
        activityTypeName: activity.activityTypeName,
        activityDate: activity.activityDate,
        runId,
        reason: who.reason,
      });
      skip(id, first ? who.reason : 'alreadySkipped');
      continue;
    }
    const setting = enabledSettingFor(deps.settings, activity.activityTypeName)!;
    items.set(activity.marketoGUID, {
      ref: {
        marketoGUID: activity.marketoGUID,
        runId,
        whoId: who.whoId,
        how: who.how,
        leadId: activity.leadId,
        activityTypeName: activity.activityTypeName,
        activityDate: activity.activityDate,
        // Only a Task on the lead's own link: a match or a conversion keeps its reason for `explain`.
        ...(who === linked && linked.direct && Date.parse(activity.activityDate) < ledgerFrom
          ? { recordDone: false }
          : {}),
      },
      task: mapActivityToTask({
        activity,
        activityTypeName: activity.activityTypeName,
        setting,
        whoId: who.whoId,
        externalIdField: deps.settings.salesforce.taskExternalIdField,
        timeZone,
      }),
      owners: [id],
    });
  }
  await deps.pending.put(waiting);
  await assignRecordOwners(
    deps,
    [...items.values()].map((i) => i.task),
  );
  return [...items.values()];
}

/** When an activity stops waiting for its person to reach Salesforce: its date plus its type's look-back. */
export function waitsUntil(settings: ActivityDeps['settings'], activity: WriteActivity): Date {
  const days =
    enabledSettingFor(settings, activity.activityTypeName)?.lookbackDays ?? settings.activities.lookbackDays;
  return new Date(Date.parse(activity.activityDate) + days * 86_400_000);
}

function dedupe(activities: WriteActivity[]): WriteActivity[] {
  const seen = new Map<string, WriteActivity>();
  for (const a of activities) if (!seen.has(a.marketoGUID)) seen.set(a.marketoGUID, a);
  return [...seen.values()];
}
