import {
  EMAIL_ACTIVITY_STATUS,
  type EmailEvent,
  type MemberStatus,
  programOf,
} from '../domain/campaign-status.js';
import type {
  CampaignPersonState,
  CampaignStateStore,
  CampaignWriter,
  EmailActivityRow,
  EmailActivitySource,
  LinkedPerson,
} from '../ports/campaign-writer.js';

export type CampaignPerson = { sobject: 'Lead' | 'Contact'; id: string };
export const personKeyOf = (p: CampaignPerson) => `${p.sobject}:${p.id}`;

export interface CampaignEvents {
  /** Person key → the Salesforce person (a converted Lead already replaced by its Contact). */
  people: Map<string, CampaignPerson>;
  /** The email events that count (program known and selected, person linked, not excluded). */
  kept: EmailEvent[];
  /** Each program's earliest Send Email, this read's included. */
  firstSends: Map<string, string>;
  /** The stored state of these people. */
  state: Map<string, CampaignPersonState>;
  /** Person key → the earliest opt-out time known (stored, or seen now): kept in the state. */
  optedOutAt: Map<string, string>;
  /** `personKey\u0000program` pairs left out (opted out before the program's first send). */
  excluded: Set<string>;
  /** Programs whose earliest Send Email this read moved (to store). */
  changedFirst: Map<string, string>;
  counts: {
    read: number;
    noProgram: number;
    filteredOut: number;
    noSalesforcePerson: number;
    optedOutBeforeFirstSend: number;
    convertedReplaced: number;
  };
}

/**
 * Marketo email activity rows → the campaign events job 4b acts on, as the sync and its
 * verification both read them (seed 004's rules): the program part of the email name is the
 * Campaign, a name filter selects programs, the Marketo lead's Salesforce person is the member (a
 * converted Lead replaced by its Contact), and a person who opted out before the program's first
 * send is left out of that program.
 */
export async function campaignEvents(
  deps: {
    source: Pick<EmailActivitySource, 'linkedPeople'>;
    writer: Pick<CampaignWriter, 'convertedContacts' | 'optedOutAt'>;
    store: Pick<CampaignStateStore, 'getFirstSends' | 'getPeople'>;
  },
  settings: { programFilter?: string | undefined },
  rows: readonly EmailActivityRow[],
): Promise<CampaignEvents> {
  const counts = {
    read: rows.length,
    noProgram: 0,
    filteredOut: 0,
    noSalesforcePerson: 0,
    optedOutBeforeFirstSend: 0,
    convertedReplaced: 0,
  };
  const filter = settings.programFilter ? new RegExp(settings.programFilter, 'i') : undefined;
  const usable: { leadId: number; campaign: string; status: MemberStatus; at: string }[] = [];
  for (const r of rows) {
    const status = EMAIL_ACTIVITY_STATUS.get(r.activityTypeId);
    if (!status) continue;
    const campaign = programOf(r.emailName);
    if (!campaign) counts.noProgram += 1;
    else if (filter && !filter.test(campaign)) counts.filteredOut += 1;
    else usable.push({ leadId: r.leadId, campaign, status, at: new Date(r.activityDate).toISOString() });
  }

  // The program's first send, kept across runs (the exclusion compares opt-outs with it).
  const programs = [...new Set(usable.map((u) => u.campaign))];
  const firstSends = await deps.store.getFirstSends(programs);
  const changedFirst = new Map<string, string>();
  for (const u of usable)
    if (u.status === 'Sent' && (!firstSends.has(u.campaign) || u.at < (firstSends.get(u.campaign) ?? ''))) {
      firstSends.set(u.campaign, u.at);
      changedFirst.set(u.campaign, u.at);
    }

  const linked = await deps.source.linkedPeople([...new Set(usable.map((u) => u.leadId))]);
  const converted = await deps.writer.convertedContacts(
    [...linked.values()].filter((p) => p.sobject === 'Lead').map((p) => p.id),
  );
  const personOf = (p: LinkedPerson): CampaignPerson => {
    const contact = p.sobject === 'Lead' ? converted.get(p.id) : undefined;
    return contact ? { sobject: 'Contact', id: contact } : { sobject: p.sobject, id: p.id };
  };
  counts.convertedReplaced = [...linked.values()].filter(
    (p) => p.sobject === 'Lead' && converted.has(p.id),
  ).length;

  const people = new Map<string, CampaignPerson>();
  const events: EmailEvent[] = [];
  for (const u of usable) {
    const l = linked.get(u.leadId);
    if (!l) {
      counts.noSalesforcePerson += 1;
      continue;
    }
    const person = personOf(l);
    people.set(personKeyOf(person), person);
    events.push({ personKey: personKeyOf(person), campaign: u.campaign, status: u.status, at: u.at });
  }
  const state = await deps.store.getPeople([...people.keys()]);
  const optedOut = await deps.writer.optedOutAt([...people.values()]);
  for (const [key, s] of state)
    if (s.optedOutAt && (!optedOut.has(key) || s.optedOutAt < (optedOut.get(key) ?? '')))
      optedOut.set(key, s.optedOutAt);
  const excluded = new Set<string>();
  const kept = events.filter((e) => {
    const out = optedOut.get(e.personKey);
    const first = firstSends.get(e.campaign);
    if (out && (!first || out < first)) {
      excluded.add(`${e.personKey}\u0000${e.campaign}`);
      return false;
    }
    return true;
  });
  counts.optedOutBeforeFirstSend = excluded.size;
  return { people, kept, state, optedOutAt: optedOut, excluded, firstSends, changedFirst, counts };
}
