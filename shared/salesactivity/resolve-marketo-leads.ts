import { normaliseEmail } from '../domain/email.js';
import { type SalesActivityRecord, whoObject } from '../domain/sales-activity.js';
import type { MarketoLeadRef } from '../ports/custom-activity-api.js';
import type { SalesActivityDeps } from './sync-sales-activity.js';

/**
 * WhoId → Marketo lead id: Lead by sfdcLeadId, Contact by sfdcContactId (a converted Lead by its
 * ConvertedContactId), else by normalised email. Several Marketo leads: the newest (highest id).
 * A WhoId with no Marketo lead maps to null.
 */
export async function resolveMarketoLeads(
  deps: Pick<SalesActivityDeps, 'source' | 'marketo'>,
  records: readonly SalesActivityRecord[],
): Promise<Map<string, number | null>> {
  const whoIds = [...new Set(records.map((r) => r.whoId).filter((w): w is string => !!w && !!whoObject(w)))];
  const out = new Map<string, number | null>();
  if (whoIds.length === 0) return out;
  const people = await deps.source.people(whoIds);
  const leadIds: string[] = [];
  const contactIds: string[] = [];
  for (const p of people.values()) {
    if (p.sobject === 'Lead' && p.convertedContactId) contactIds.push(p.convertedContactId);
    else if (p.sobject === 'Lead') leadIds.push(p.id);
    else contactIds.push(p.id);
  }
  const newest = (a: MarketoLeadRef | undefined, b: MarketoLeadRef) => (!a || b.id > a.id ? b : a);
  const bySfdc = new Map<string, MarketoLeadRef>();
  for (const l of await deps.marketo.findLeads('sfdcLeadId', leadIds))
    if (l.sfdcLeadId) bySfdc.set(l.sfdcLeadId, newest(bySfdc.get(l.sfdcLeadId), l));
  for (const l of await deps.marketo.findLeads('sfdcContactId', contactIds))
    if (l.sfdcContactId) bySfdc.set(l.sfdcContactId, newest(bySfdc.get(l.sfdcContactId), l));
  const unlinked: { whoId: string; email: string }[] = [];
  for (const whoId of whoIds) {
    const p = people.get(whoId);
    if (!p) {
      out.set(whoId, null);
      continue;
    }
    const key = p.sobject === 'Lead' && p.convertedContactId ? p.convertedContactId : p.id;
    const linked = bySfdc.get(key);
    if (linked) out.set(whoId, linked.id);
    else if (p.email) unlinked.push({ whoId, email: normaliseEmail(p.email) });
    else out.set(whoId, null);
  }
  const byEmail = new Map<string, MarketoLeadRef>();
  const emails = [...new Set(unlinked.map((u) => u.email))];
  for (const l of await deps.marketo.findLeads('email', emails))
    if (l.email) byEmail.set(normaliseEmail(l.email), newest(byEmail.get(normaliseEmail(l.email)), l));
  for (const u of unlinked) out.set(u.whoId, byEmail.get(u.email)?.id ?? null);
  return out;
}
