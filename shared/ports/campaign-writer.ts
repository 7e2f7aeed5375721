import type { MemberStatus, MembershipStatus } from '../domain/campaign-status.js';

/** A Marketo email activity (Send / Delivered / Open / Click / Bounced / Unsubscribe Email). */
export interface EmailActivityRow {
  marketoGUID: string;
  leadId: number;
  activityTypeId: number;
  activityDate: string;
  /** The email asset name, `Program.Email`. */
  emailName: string;
}

/** The Salesforce person a Marketo lead is linked to (job 1's rule: sfdcType decides). */
export interface LinkedPerson {
  leadId: number;
  sobject: 'Lead' | 'Contact';
  id: string;
}

/** Where job 4b reads email activity and the people it concerns (Marketo). */
export interface EmailActivitySource {
  readEmailActivities(since: Date, until: Date): Promise<EmailActivityRow[]>;
  /** The same rows page by page (oldest first), for a run that checkpoints as it goes. */
  emailActivityPages(since: Date, until: Date): AsyncIterable<EmailActivityRow[]>;
  /** The first page from `since` (a plan's sample): its rows and whether more follow. */
  firstEmailActivityPage(since: Date): Promise<{ rows: EmailActivityRow[]; more: boolean }>;
  /** Marketo lead id → linked Salesforce person (leads with none are absent). */
  linkedPeople(leadIds: readonly number[]): Promise<Map<number, LinkedPerson>>;
}

export interface CampaignRef {
  id: string;
  name: string;
  /** CampaignMemberStatus labels the Campaign defines. */
  memberStatuses: string[];
}

export interface MemberWrite {
  campaignId: string;
  person: { sobject: 'Lead' | 'Contact'; id: string };
  status: MemberStatus;
}

/** What job 4b needs from Salesforce. */
export interface CampaignWriter {
  campaignsByName(names: readonly string[]): Promise<Map<string, CampaignRef>>;
  /** Campaigns by Id (absent ids are missing from the map; keys as given). */
  campaignsByIds(ids: readonly string[]): Promise<Map<string, CampaignRef>>;
  /** Creates the Campaign with the given member statuses (Salesforce refuses a status a Campaign does not define). */
  createCampaign(name: string, memberStatuses: readonly MemberStatus[]): Promise<CampaignRef>;
  addMemberStatuses(campaignId: string, labels: readonly MemberStatus[]): Promise<void>;
  /** Converted Leads among these ids → their ConvertedContactId. */
  convertedContacts(leadIds: readonly string[]): Promise<Map<string, string>>;
  /** When each person opted out (HasOptedOutOfEmail or the configured field), for those who have. */
  optedOutAt(people: readonly { sobject: 'Lead' | 'Contact'; id: string }[]): Promise<Map<string, string>>;
  /** Creates or updates one CampaignMember per (Campaign, person), in collections. */
  upsertMembers(rows: readonly MemberWrite[]): Promise<{ ok: boolean; error?: string }[]>;
  /** Writes the last-five field (only called for values that changed). */
  writeLastFive(rows: readonly { sobject: 'Lead' | 'Contact'; id: string; value: string }[]): Promise<void>;
}

/** What job 4b's verification reads back from Salesforce. */
export interface CampaignReadBack {
  /** Members of these Campaigns (`personKey` is `Lead:<id>` / `Contact:<id>`). */
  members(
    campaignIds: readonly string[],
  ): Promise<{ campaignId: string; personKey: string; status: string }[]>;
  /** The last-five field of these people by person key (empty when unset). */
  lastFive(people: readonly { sobject: 'Lead' | 'Contact'; id: string }[]): Promise<Map<string, string>>;
}

/**
 * A person's job-4b state: memberships, the last-five text written, and the earliest opt-out time
 * seen (Salesforce keeps no opt-out date and our own last-five write moves LastModifiedDate, so
 * the first observation is kept and the exclusion does not change once made).
 */
export interface CampaignPersonState {
  memberships: MembershipStatus[];
  lastFive?: string;
  optedOutAt?: string;
}

/** Job 4b's durable state: the watermark, each person's memberships and the last-five text written. */
export interface CampaignStateStore {
  getWatermark(): Promise<string | undefined>;
  putWatermark(iso: string): Promise<void>;
  /** Person key (`Lead:<id>` / `Contact:<id>`) → memberships and the last-five text last written. */
  getPeople(keys: readonly string[]): Promise<Map<string, CampaignPersonState>>;
  putPeople(rows: readonly ({ key: string } & CampaignPersonState)[]): Promise<void>;
  /** The earliest Send Email seen per program (kept across runs). */
  getFirstSends(programs: readonly string[]): Promise<Map<string, string>>;
  putFirstSends(values: ReadonlyMap<string, string>): Promise<void>;
}
