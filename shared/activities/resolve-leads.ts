import type { CachedLead } from '../domain/lead-link.js';
import { resolveWhoId } from '../domain/task-policy.js';
import type { Lead } from '../ports/marketo-api.js';
import { MARKETO_MAX_BATCH } from '../ports/vendor-limits.js';
import type { ActivityDeps } from './activity-deps.js';

/** Marketo lead fields needed to find the Salesforce record. */
export const LEAD_LINK_FIELDS = ['id', 'sfdcType', 'sfdcLeadId', 'sfdcContactId'];

/**
 * Cache first; the rest from Marketo in ≤ 300-id calls. A negative answer (no link yet, or no such
 * lead) is cached for `runId` only and ignored by any other run, so a person who reaches
 * Salesforce is seen by the next run's look-up.
 */
export async function resolveLeads(
  deps: Pick<ActivityDeps, 'leadCache' | 'marketo' | 'settings'>,
  leadIds: number[],
  runId: string,
): Promise<Map<number, CachedLead>> {
  const known = new Map(
    [...(await deps.leadCache.getMany(leadIds))].filter(
      ([, lead]) => resolveWhoId(lead).ok || lead.forRun === runId,
    ),
  );
  const missing = leadIds.filter((id) => !known.has(id));
  const fetched: CachedLead[] = [];
  for (let i = 0; i < missing.length; i += MARKETO_MAX_BATCH) {
    const ids = missing.slice(i, i + MARKETO_MAX_BATCH);
    const leads = await deps.marketo.getLeads({
      filterType: 'id',
      filterValues: ids,
      fields:
        deps.settings.activities.unlinkedLeads === 'matchByEmail'
          ? [...LEAD_LINK_FIELDS, 'email']
          : LEAD_LINK_FIELDS,
    });
    const byId = new Map(leads.map((l) => [l.id, l]));
    for (const id of ids) {
      const l = byId.get(id);
      fetched.push(l ? salesforceLinkOf(l) : { leadId: id, exists: false });
    }
  }
  // Without the email (read for matchByEmail; no personal data kept); negatives for this run only
  // (with matchByEmail not at all: matching needs the email each time).
  const matching = deps.settings.activities.unlinkedLeads === 'matchByEmail';
  await deps.leadCache.putMany(
    fetched.flatMap(({ email: _email, ...l }) =>
      resolveWhoId(l).ok ? [l] : matching ? [] : [{ ...l, forRun: runId }],
    ),
  );
  for (const l of fetched) known.set(l.leadId, l);
  return known;
}

/** What the write path keeps of a Marketo lead: its Salesforce link (and email, for matchByEmail). */
export function salesforceLinkOf(l: Lead): CachedLead {
  return {
    leadId: l.id,
    exists: true,
    sfdcType: l.sfdcType ?? null,
    sfdcLeadId: l.sfdcLeadId ?? null,
    sfdcContactId: l.sfdcContactId ?? null,
    ...(l.email ? { email: l.email } : {}),
  };
}
