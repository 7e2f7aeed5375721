import { normaliseEmail } from '../domain/email.js';
import { type CandidateRecord, chooseRecord } from '../domain/record-choice.js';
import { soql } from '../domain/soql.js';
import type { ActivityDeps } from './activity-deps.js';

/** Emails per SOQL `IN` list. */
const EMAILS_PER_QUERY = 100;

export interface EmailMatch {
  whoId: string;
  /** Why this record: the rule and the candidates it chose among (recorded per activity). */
  how: string;
}

/**
 * `activities.unlinkedLeads: matchByEmail`: Marketo leads without a Salesforce link are matched by
 * normalised email to Leads (not converted) and Contacts; `multipleRecordsRule` picks among them.
 * Two queries per 100 emails; nothing is cached (the next run asks again).
 */
export async function matchLeadsByEmail(
  deps: Pick<ActivityDeps, 'salesforce' | 'settings'>,
  leads: readonly { leadId: number; email?: string | null }[],
): Promise<Map<number, EmailMatch>> {
  const byEmail = new Map<string, number[]>();
  for (const l of leads) {
    if (!l.email) continue;
    const key = normaliseEmail(l.email);
    byEmail.set(key, [...(byEmail.get(key) ?? []), l.leadId]);
  }
  const candidates = new Map<string, CandidateRecord[]>();
  const emails = [...byEmail.keys()];
  type Row = { Id: string; Email: string | null; CreatedDate: string };
  for (let i = 0; i < emails.length; i += EMAILS_PER_QUERY) {
    const chunk = emails.slice(i, i + EMAILS_PER_QUERY);
    const [leadRows, contactRows] = await Promise.all([
      deps.salesforce.query<Row>(
        soql`SELECT Id, Email, CreatedDate FROM Lead WHERE IsConverted = false AND Email IN ${chunk}`,
      ),
      deps.salesforce.query<Row>(soql`SELECT Id, Email, CreatedDate FROM Contact WHERE Email IN ${chunk}`),
    ]);
    const add = (rows: Row[], sobject: CandidateRecord['sobject']) => {
      for (const r of rows) {
        if (!r.Email) continue;
        const key = normaliseEmail(r.Email);
        candidates.set(key, [
          ...(candidates.get(key) ?? []),
          { id: String(r.Id), sobject, createdDate: String(r.CreatedDate) },
        ]);
      }
    };
    add(leadRows, 'Lead');
    add(contactRows, 'Contact');
  }
  const rule = deps.settings.activities.multipleRecordsRule;
  const out = new Map<number, EmailMatch>();
  for (const [email, leadIds] of byEmail) {
    const found = candidates.get(email) ?? [];
    const chosen = chooseRecord(found, rule);
    if (!chosen) continue;
    const how = `matchByEmail, ${rule}: ${chosen.sobject} ${chosen.id} (created ${chosen.createdDate}) of ${found.length} record(s) with the lead's email`;
    for (const id of leadIds) out.set(id, { whoId: chosen.id, how });
  }
  return out;
}
