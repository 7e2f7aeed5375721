import type { GeneratorContext } from './activity-generators.js';
import { iso, salesforceId } from './formats.js';
import { COMPANY_SUFFIX, COMPANY_WORDS, DOMAINS, FIRST_NAMES, LAST_NAMES } from './sample-data.js';
import type { SalesforceSeed, SfdcType, WorldLead } from './types.js';

/**
 * The world's people: one Marketo lead each and, for most, a Salesforce Lead or Contact (with
 * accounts shared by runs of Contacts). Lead ids start at `firstLeadId`; every draw goes through `g`.
 */
const DAY = 86_400_000;

export function generatePeople(
  count: number,
  g: Pick<GeneratorContext, 'rand' | 'pick'>,
  now: number,
  firstLeadId: number,
): { leads: WorldLead[]; salesforce: SalesforceSeed } {
  const leads: WorldLead[] = [];
  const salesforce: SalesforceSeed = { leads: [], contacts: [] };
  let nextLeadId = firstLeadId;
  let leadN = 1;
  let contactN = 1;
  let accountN = 1;
  let currentAccount: string | null = null;
  let accountCompany = '';
  for (let i = 0; i < count; i++) {
    const firstName = g.pick(FIRST_NAMES);
    const lastName = g.pick(LAST_NAMES);
    const company = `${g.pick(COMPANY_WORDS)} ${g.pick(COMPANY_SUFFIX)}`;
    const local = `${firstName}.${lastName}`
      .normalize('NFD')
      .replace(/[^A-Za-z.]/g, '')
      .toLowerCase();
    let email = `${local}${i}@${g.pick(DOMAINS)}`;
    const r = g.rand();
    // ~3% share their email with the previous person (duplicate records for one human).
    const previous = leads[leads.length - 1];
    if (r < 0.03 && previous) email = previous.email.trim();
    const styled = g.rand();
    if (styled < 0.05) email = email.replace(/^./, (c) => c.toUpperCase()).replace(/@e/, '@E');
    else if (styled < 0.07) email = `  ${email} `;
    const createdMs = now - (30 + g.rand() * 700) * DAY;
    const unsubscribed = g.rand() < 0.03;
    const kind = g.rand();
    const sfdcType: SfdcType | null = kind < 0.7 ? 'Lead' : kind < 0.9 ? 'Contact' : null;
    let sfdcLeadId: string | null = null;
    let sfdcContactId: string | null = null;
    let sfdcAccountId: string | null = null;
    // Salesforce's opt-out agrees with Marketo's except for ~1% (work for the nightly sync).
    const sfOptOut = g.rand() < 0.01 ? !unsubscribed : unsubscribed;
    const sfCreated = iso(createdMs + g.rand() * 2 * DAY);
    const sfEmail = g.rand() < 0.1 ? email.trim().toLowerCase() : email.trim();
    if (sfdcType === 'Lead') {
      sfdcLeadId = salesforceId('00Q', leadN++);
      salesforce.leads.push({
        Id: sfdcLeadId,
        Email: sfEmail,
        FirstName: firstName,
        LastName: lastName,
        Company: company,
        CreatedDate: sfCreated,
        HasOptedOutOfEmail: sfOptOut,
      });
    } else if (sfdcType === 'Contact') {
      if (!currentAccount || g.rand() < 0.35) {
        currentAccount = salesforceId('001', accountN++);
        accountCompany = company;
      }
      sfdcContactId = salesforceId('003', contactN++);
      sfdcAccountId = currentAccount;
      salesforce.contacts.push({
        Id: sfdcContactId,
        Email: sfEmail,
        FirstName: firstName,
        LastName: lastName,
        AccountId: currentAccount,
        CreatedDate: sfCreated,
        HasOptedOutOfEmail: sfOptOut,
      });
    }
    const lead: WorldLead = {
      id: nextLeadId++,
      email,
      firstName,
      lastName,
      company: sfdcType === 'Contact' ? accountCompany : company,
      createdAt: iso(createdMs),
      updatedAt: iso(createdMs),
      unsubscribed,
      unsubscribedReason: unsubscribed ? g.pick(['Unsubscribed via email link', 'Requested by phone']) : null,
      emailInvalid: g.rand() < 0.01,
      sfdcType,
      sfdcLeadId,
      sfdcContactId,
      sfdcAccountId,
    };
    leads.push(lead);
  }
  return { leads, salesforce };
}

/** Leads matching a filter as Marketo does it (email: case-insensitive, trimmed). */
export function findLeads(
  leads: readonly WorldLead[],
  byId: ReadonlyMap<number, WorldLead>,
  filterType: string,
  value: string,
): WorldLead[] {
  const v = value.trim();
  switch (filterType) {
    case 'id': {
      const l = byId.get(Number(v));
      return l ? [l] : [];
    }
    case 'email':
      return leads.filter((l) => l.email.trim().toLowerCase() === v.toLowerCase());
    case 'sfdcLeadId':
      return leads.filter((l) => l.sfdcLeadId === v);
    case 'sfdcContactId':
      return leads.filter((l) => l.sfdcContactId === v);
    case 'sfdcAccountId':
      return leads.filter((l) => l.sfdcAccountId === v);
    default:
      return [];
  }
}
