/** The world's record shapes (Marketo leads and activities, the Salesforce seed). */

export interface WorldOptions {
  seed?: number;
  /** Number of people (default 3000). */
  people?: number;
  /** Number of generated activities (default 30,000). */
  activities?: number;
  /** Spread of the activities, in days before `now` (default 90). */
  days?: number;
  /** The world's "now" in epoch ms (default 2026-10-15T12:00:00Z, so runs reproduce). */
  now?: number;
  /**
   * People who opted out within the last day on each side (default 0): this many unsubscribe in
   * Marketo, and as many others are ticked Email Opt Out in Salesforce, each one side only, so a
   * night has work both ways. Drawn from their own PRNG: the rest of the world is unchanged.
   */
  recentOptOuts?: number;
}

export type SfdcType = 'Lead' | 'Contact';

export interface WorldLead {
  id: number;
  email: string;
  firstName: string;
  lastName: string;
  company: string;
  createdAt: string;
  updatedAt: string;
  unsubscribed: boolean;
  unsubscribedReason: string | null;
  emailInvalid: boolean;
  sfdcType: SfdcType | null;
  sfdcLeadId: string | null;
  sfdcContactId: string | null;
  sfdcAccountId: string | null;
}

export interface SalesforceSeedLead {
  Id: string;
  Email: string;
  FirstName: string;
  LastName: string;
  Company: string;
  CreatedDate: string;
  HasOptedOutOfEmail: boolean;
  /** Set when the record changed after its creation (the sandbox stamps SystemModstamp with it). */
  LastModifiedDate?: string;
}

export interface SalesforceSeedContact {
  Id: string;
  Email: string;
  FirstName: string;
  LastName: string;
  AccountId: string;
  CreatedDate: string;
  HasOptedOutOfEmail: boolean;
  LastModifiedDate?: string;
}

export interface SalesforceSeed {
  leads: SalesforceSeedLead[];
  contacts: SalesforceSeedContact[];
}

export interface WorldAttribute {
  name: string;
  value: string | number | boolean;
}

export interface WorldLeadChangeField {
  id: number;
  name: string;
  newValue: string | null;
  oldValue: string | null;
}

/** One Marketo activity record, plus the sandbox-only `seq` (sort tiebreak) and `visibleAtMs`. */
export interface WorldActivity {
  id?: number;
  marketoGUID: string;
  leadId: number;
  activityDate: string;
  activityTypeId: number;
  campaignId?: number | null;
  primaryAttributeValueId?: number | null;
  primaryAttributeValue?: string | null;
  attributes?: WorldAttribute[];
  fields?: WorldLeadChangeField[];
  /** Hidden: epoch ms of activityDate. */
  dateMs: number;
  /** Hidden: when the activity becomes visible to the API (≥ dateMs; late for some Send Email). */
  visibleAtMs: number;
  /** Hidden: unique, increasing insertion number (orders activities with the same date). */
  seq: number;
}

export interface WorldActivityTypeAttribute {
  name: string;
  dataType: string;
}

export interface WorldActivityType {
  id: number;
  name: string;
  description: string;
  primaryAttribute: WorldActivityTypeAttribute;
  attributes: WorldActivityTypeAttribute[];
  apiName?: string;
}

export interface WorldSnapshot {
  version: 1;
  now: number;
  days: number;
  leads: WorldLead[];
  salesforce: SalesforceSeed;
  activityTypes: WorldActivityType[];
  activities: WorldActivity[];
  deletedLeadIds: number[];
  nextSeq: number;
  nextActivityId: number;
  nextLeadId: number;
}
