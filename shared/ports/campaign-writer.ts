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

/** Job 4b's durable state: the watermark, each person's memberships and the last-five text written. */
export interface CampaignStateStore {
  getWatermark(): Promise<string | undefined>;
  putWatermark(iso: string): Promise<void>;
  /** Person key (`Lead:<id>` / `Contact:<id>`) → memberships and the last-five text last written. */
  getPeople(
    keys: readonly string[],
  ): Promise<Map<string, { memberships: MembershipStatus[]; lastFive?: string }>>;
  putPeople(
    rows: readonly { key: string; memberships: MembershipStatus[]; lastFive?: string }[],
  ): Promise<void>;
  /** The earliest Send Email seen per program (kept across runs). */
  getFirstSends(programs: readonly string[]): Promise<Map<string, string>>;
  putFirstSends(values: ReadonlyMap<string, string>): Promise<void>;
}
