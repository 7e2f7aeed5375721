/**
 * A deterministic, seeded "world" shared by the Marketo and Salesforce sandboxes: people with a
 * Marketo lead each, their Salesforce Lead or Contact (or none), and a stream of Marketo
 * activities including late-committed Send Email records. Same options → same world, byte for byte.
 */

/** mulberry32: a tiny, fast, seedable PRNG (returns floats in [0, 1)). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
}

export interface SalesforceSeedContact {
  Id: string;
  Email: string;
  FirstName: string;
  LastName: string;
  AccountId: string;
  CreatedDate: string;
  HasOptedOutOfEmail: boolean;
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

export const ACTIVITY_TYPE_IDS = {
  visitWebpage: 1,
  fillOutForm: 2,
  clickLink: 3,
  sendEmail: 6,
  emailDelivered: 7,
  emailBounced: 8,
  unsubscribeEmail: 9,
  openEmail: 10,
  clickEmail: 11,
  newLead: 12,
  changeDataValue: 13,
  changeScore: 22,
  addToList: 24,
  removeFromList: 25,
  deleteLead: 37,
  sendSalesEmail: 39,
  openSalesEmail: 40,
  clickSalesEmail: 41,
  receivedSalesEmail: 45,
  interestingMoment: 46,
  attendedWebinar: 100001,
} as const;

/** Lead field ids used in Data Value Change (13) records. */
export const LEAD_FIELD_IDS: Record<string, number> = {
  unsubscribed: 47,
  unsubscribedReason: 48,
  email: 51,
  firstName: 31,
  lastName: 32,
  emailInvalid: 49,
};

const str = (name: string): WorldActivityTypeAttribute => ({ name, dataType: 'string' });
const int = (name: string): WorldActivityTypeAttribute => ({ name, dataType: 'integer' });
const emailAttrs = [int('Campaign Run ID'), int('Step ID'), int('Choice Number')];

export const DEFAULT_ACTIVITY_TYPES: WorldActivityType[] = [
  {
    id: 1,
    name: 'Visit Webpage',
    description: 'User visits a web page',
    primaryAttribute: int('Webpage ID'),
    attributes: [
      str('Client IP Address'),
      str('Query Parameters'),
      str('Referrer URL'),
      str('User Agent'),
      str('Webpage URL'),
    ],
  },
  {
    id: 2,
    name: 'Fill Out Form',
    description: 'User fills out and submits form on web page',
    primaryAttribute: int('Webform ID'),
    attributes: [
      str('Client IP Address'),
      str('Form Fields'),
      str('Query Parameters'),
      str('Referrer URL'),
      str('User Agent'),
      int('Webpage ID'),
    ],
  },
  {
    id: 3,
    name: 'Click Link',
    description: 'User clicks on a link in a web page',
    primaryAttribute: int('Link ID'),
    attributes: [str('Client IP Address'), str('Referrer URL')],
  },
  {
    id: 6,
    name: 'Send Email',
    description: 'Send Marketo Email to a person',
    primaryAttribute: int('Mailing ID'),
    attributes: emailAttrs,
  },
  {
    id: 7,
    name: 'Email Delivered',
    description: 'Marketo Email is delivered to a person',
    primaryAttribute: int('Mailing ID'),
    attributes: emailAttrs,
  },
  {
    id: 8,
    name: 'Email Bounced',
    description: 'Marketo Email bounces',
    primaryAttribute: int('Mailing ID'),
    attributes: [...emailAttrs, str('Category'), str('Details')],
  },
  {
    id: 9,
    name: 'Unsubscribe Email',
    description: 'Person unsubscribes from Marketo Emails',
    primaryAttribute: int('Mailing ID'),
    attributes: [str('Client IP Address'), str('User Agent')],
  },
  {
    id: 10,
    name: 'Open Email',
    description: 'User opens Marketo Email',
    primaryAttribute: int('Mailing ID'),
    attributes: [...emailAttrs, str('Device'), str('Is Mobile Device'), str('Platform'), str('User Agent')],
  },
  {
    id: 11,
    name: 'Click Email',
    description: 'User clicks on a link in a Marketo Email',
    primaryAttribute: int('Mailing ID'),
    attributes: [...emailAttrs, str('Link'), int('Link ID'), str('Device'), str('Platform')],
  },
  {
    id: 12,
    name: 'New Lead',
    description: 'New person/record is added to the lead database',
    primaryAttribute: int('Lead ID'),
    attributes: [str('Source Type'), str('Form Name'), str('Lead Source')],
  },
  {
    id: 13,
    name: 'Change Data Value',
    description: 'Changed attribute value for a person',
    primaryAttribute: int('Attribute Name'),
    attributes: [str('New Value'), str('Old Value'), str('Reason'), str('Source')],
  },
  {
    id: 22,
    name: 'Change Score',
    description: 'Change score value for a person',
    primaryAttribute: int('Score Name'),
    attributes: [str('Change Value'), int('Old Value'), int('New Value'), str('Reason')],
  },
  {
    id: 24,
    name: 'Add to List',
    description: 'Person is added to a list',
    primaryAttribute: int('List ID'),
    attributes: [str('Source')],
  },
  {
    id: 25,
    name: 'Remove from List',
    description: 'Person is removed from a list',
    primaryAttribute: int('List ID'),
    attributes: [str('Source')],
  },
  {
    id: 37,
    name: 'Delete Lead',
    description: 'Delete a person',
    primaryAttribute: int('Lead ID'),
    attributes: [str('Reason'), str('Remove from CRM')],
  },
  {
    id: 39,
    name: 'Send Sales Email',
    description: 'Sales email is sent to a person',
    primaryAttribute: int('Artifact ID'),
    attributes: [str('Source'), str('Subject'), str('Template')],
  },
  {
    id: 40,
    name: 'Open Sales Email',
    description: 'Person opens a sales email',
    primaryAttribute: int('Artifact ID'),
    attributes: [str('Source'), str('Subject'), str('Is Mobile Device')],
  },
  {
    id: 41,
    name: 'Click Sales Email',
    description: 'Person clicks a link in a sales email',
    primaryAttribute: int('Artifact ID'),
    attributes: [str('Source'), str('Subject'), str('Link')],
  },
  {
    id: 45,
    name: 'Received Sales Email',
    description: 'Sales receives an email from a person',
    primaryAttribute: int('Artifact ID'),
    attributes: [str('Source'), str('Subject'), str('From')],
  },
  {
    id: 46,
    name: 'Interesting Moment',
    description: 'Interesting moment',
    primaryAttribute: int('Marketo Asset Name'),
    attributes: [str('Description'), str('Source')],
  },
  {
    id: 100001,
    name: 'Attended Webinar',
    apiName: 'attendedWebinar_c',
    description: 'Person attended a webinar (custom activity)',
    primaryAttribute: str('Webinar Name'),
    attributes: [int('Duration Minutes'), str('Registration Source')],
  },
];

const FIRST_NAMES = [
  'James',
  'Mary',
  'Robert',
  'Patricia',
  'John',
  'Jennifer',
  'Michael',
  'Linda',
  'David',
  'Elizabeth',
  'William',
  'Barbara',
  'Richard',
  'Susan',
  'Joseph',
  'Jessica',
  'Thomas',
  'Sarah',
  'Carlos',
  'Karen',
  'Yuki',
  'Haruto',
  'Aiko',
  'Priya',
  'Arjun',
  'Fatima',
  'Omar',
  'Chen',
  'Mei',
  'Lucas',
  'Sofia',
  'Mateo',
  'Emma',
  'Noah',
  'Olivia',
  'Liam',
  'Zoë',
  'François',
];
const LAST_NAMES = [
  'Smith',
  'Johnson',
  'Williams',
  'Brown',
  'Jones',
  'Garcia',
  'Miller',
  'Davis',
  'Rodriguez',
  'Martinez',
  'Hernandez',
  'Lopez',
  'Wilson',
  'Anderson',
  'Thomas',
  'Taylor',
  'Moore',
  'Tanaka',
  'Suzuki',
  'Sato',
  'Patel',
  'Singh',
  'Kim',
  'Nguyen',
  'Müller',
  'Schmidt',
  "O'Brien",
  'Rossi',
  'Dubois',
  'Silva',
];
const COMPANY_WORDS = [
  'Acme',
  'Globex',
  'Initech',
  'Umbrella',
  'Stark',
  'Wayne',
  'Hooli',
  'Vandelay',
  'Soylent',
];
const COMPANY_SUFFIX = ['Inc.', 'LLC', 'Corp.', 'GmbH', 'K.K.', 'Ltd.', 'Group', 'Labs'];
const DOMAINS = ['example.com', 'example.org', 'example.net'];
const FORMS = [
  { id: 1001, name: 'Contact Us Form' },
  { id: 1002, name: 'Demo Request' },
  { id: 1003, name: 'Whitepaper Download - Cloud Security' },
  { id: 1004, name: 'Webinar Registration' },
  { id: 1005, name: 'Newsletter Signup' },
];
const EMAILS = [
  { id: 5001, name: '2026-10 Newsletter.Newsletter Email' },
  { id: 5002, name: '2026-09 Newsletter.Newsletter Email' },
  { id: 5003, name: 'Q4 Product Launch.Launch Announcement' },
  { id: 5004, name: 'Webinar - Zero Trust.Invitation' },
  { id: 5005, name: 'Webinar - Zero Trust.Reminder' },
  { id: 5006, name: 'Nurture - Onboarding.Welcome Email' },
  { id: 5007, name: 'Nurture - Onboarding.Day 7 Tips' },
];
const LISTS = [
  { id: 301, name: 'Webinar Attendees 2026' },
  { id: 302, name: 'MQL - Enterprise' },
  { id: 303, name: 'Trade Show Leads - SaaStr' },
  { id: 304, name: 'Newsletter Subscribers' },
  { id: 305, name: 'Suppression - Competitors' },
];
const PAGES = [
  { id: 7001, url: 'www.example.com/pricing' },
  { id: 7002, url: 'www.example.com/product/security' },
  { id: 7003, url: 'www.example.com/blog/zero-trust-explained' },
  { id: 7004, url: 'www.example.com/customers' },
];
const SALES_SUBJECTS = [
  'Following up on our call',
  'Quick question about your security roadmap',
  'Proposal for Q4',
  'Re: Demo next week',
];
const WEBINARS = ['Zero Trust in Practice', 'Cloud Security Posture 101', 'Customer Panel: Scaling SecOps'];
const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15',
];

/** Generation weights of the activity mix (Visit Webpage is generated but not enabled by default settings). */
const ACTIVITY_MIX: [number, number][] = [
  [6, 22],
  [7, 20],
  [10, 14],
  [11, 5],
  [1, 10],
  [2, 5],
  [24, 4],
  [25, 2],
  [22, 8],
  [39, 3],
  [40, 2],
  [41, 1],
  [45, 1],
  [100001, 3],
];

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SUFFIX_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

/** A 15-char id made 18-char with Salesforce's case-safe checksum suffix. */
export function salesforceId(prefix: string, n: number): string {
  let body = '';
  let v = n;
  for (let i = 0; i < 7; i++) {
    body = BASE62[v % 62] + body;
    v = Math.floor(v / 62);
  }
  const id15 = `${prefix}5g00${body}`.slice(0, 15).padEnd(15, '0');
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const c = id15.charAt(chunk * 5 + i);
      if (c >= 'A' && c <= 'Z') bits |= 1 << i;
    }
    suffix += SUFFIX_CHARS.charAt(bits);
  }
  return id15 + suffix;
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export const DEFAULT_WORLD_NOW = Date.parse('2026-10-15T12:00:00Z');
const DAY = 86_400_000;
const MINUTE = 60_000;

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

export class World {
  readonly now: number;
  readonly leads: WorldLead[] = [];
  readonly salesforce: SalesforceSeed = { leads: [], contacts: [] };
  readonly activityTypes: WorldActivityType[] = DEFAULT_ACTIVITY_TYPES.map((t) => ({ ...t }));
  /** Every activity (incl. 12/13/37), sorted by (dateMs, seq). */
  readonly activities: WorldActivity[] = [];
  /** Lead ids deleted from the world (gone from leads.json; a Delete Lead activity records it). */
  readonly deletedLeadIds = new Set<number>();

  private readonly rand: () => number;
  private readonly byId = new Map<number, WorldLead>();
  private nextSeq = 1;
  private nextActivityId = 4_200_000;
  private nextLeadId: number;
  private readonly days: number;

  constructor(options: WorldOptions = {}, snapshot?: WorldSnapshot) {
    this.rand = mulberry32((options.seed ?? 20261015) + (snapshot?.nextSeq ?? 0));
    this.now = snapshot?.now ?? options.now ?? DEFAULT_WORLD_NOW;
    this.days = snapshot?.days ?? options.days ?? 90;
    this.nextLeadId = 1_000;
    if (snapshot) {
      this.restore(snapshot);
      return;
    }
    const people = options.people ?? 3000;
    this.generatePeople(people);
    this.generateActivities(options.activities ?? 30_000);
    this.generateLeadChanges();
  }

  // ---- queries -------------------------------------------------------------------------------

  lead(id: number): WorldLead | undefined {
    return this.byId.get(id);
  }

  /** Leads matching a filter as Marketo does it (email: case-insensitive, trimmed). */
  findLeads(filterType: string, value: string): WorldLead[] {
    const v = value.trim();
    switch (filterType) {
      case 'id': {
        const l = this.byId.get(Number(v));
        return l ? [l] : [];
      }
      case 'email':
        return this.leads.filter((l) => l.email.trim().toLowerCase() === v.toLowerCase());
      case 'sfdcLeadId':
        return this.leads.filter((l) => l.sfdcLeadId === v);
      case 'sfdcContactId':
        return this.leads.filter((l) => l.sfdcContactId === v);
      case 'sfdcAccountId':
        return this.leads.filter((l) => l.sfdcAccountId === v);
      default:
        return [];
    }
  }

  /** Activities visible at `atMs` (the "truth" a complete read should return), optionally by type. */
  visibleActivities(atMs: number, typeIds?: readonly number[], sinceMs = 0): WorldActivity[] {
    const types = typeIds ? new Set(typeIds) : undefined;
    return this.activities.filter(
      (a) => a.visibleAtMs <= atMs && a.dateMs >= sinceMs && (!types || types.has(a.activityTypeId)),
    );
  }

  /** Index of the first activity whose (dateMs, seq) is strictly after the given position. */
  indexAfter(dateMs: number, seq: number): number {
    let lo = 0;
    let hi = this.activities.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const a = this.activities[mid]!;
      if (a.dateMs < dateMs || (a.dateMs === dateMs && a.seq <= seq)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  // ---- mutations -----------------------------------------------------------------------------

  /**
   * Appends `count` new activities dated in [from, to] (default: the last hour before `to`,
   * `to` default = world now). Late-committed Send Emails get a later visibleAt, as on load.
   */
  appendActivities(
    count: number,
    opts: { from?: number; to?: number; typeIds?: number[] } = {},
  ): WorldActivity[] {
    const to = opts.to ?? this.now;
    const from = opts.from ?? to - 60 * MINUTE;
    const out: WorldActivity[] = [];
    for (let i = 0; i < count; i++) {
      const typeId = opts.typeIds ? this.pick(opts.typeIds) : this.pickWeighted(ACTIVITY_MIX);
      const lead = this.pickLiveLead();
      out.push(this.insert(this.makeActivity(typeId, lead.id, from + this.rand() * (to - from))));
    }
    return out;
  }

  /** Inserts a fully specified activity (e.g. a custom activity added through the API). */
  addActivity(
    input: Omit<WorldActivity, 'seq' | 'marketoGUID' | 'id' | 'dateMs' | 'visibleAtMs'> & {
      visibleAtMs?: number;
    },
  ): WorldActivity {
    const dateMs = Date.parse(input.activityDate);
    const seq = this.nextSeq++;
    return this.insert({
      ...input,
      activityDate: iso(dateMs),
      id: this.nextActivityId++,
      marketoGUID: this.guid(seq),
      dateMs,
      visibleAtMs: input.visibleAtMs ?? dateMs,
      seq,
    });
  }

  /** Records an unsubscribe (or resubscribe) with its Data Value Change (13) activities. */
  recordLeadChange(
    leadId: number,
    change: { unsubscribed: boolean; reason?: string | null; at?: number; source?: string },
  ): WorldActivity[] {
    const lead = this.byId.get(leadId);
    if (!lead) throw new Error(`World has no lead ${leadId}`);
    const at = change.at ?? this.now;
    const out: WorldActivity[] = [];
    if (lead.unsubscribed !== change.unsubscribed) {
      out.push(
        this.changeActivity(
          lead,
          'unsubscribed',
          String(change.unsubscribed),
          String(lead.unsubscribed),
          at,
          change.source,
        ),
      );
      lead.unsubscribed = change.unsubscribed;
    }
    const reason = change.reason ?? (change.unsubscribed ? lead.unsubscribedReason : null);
    if (reason !== undefined && reason !== lead.unsubscribedReason) {
      out.push(
        this.changeActivity(lead, 'unsubscribedReason', reason, lead.unsubscribedReason, at, change.source),
      );
      lead.unsubscribedReason = reason;
    }
    lead.updatedAt = iso(at);
    return out;
  }

  /** Changes any other lead field, recording a Data Value Change. */
  recordFieldChange(
    leadId: number,
    field: keyof WorldLead,
    value: string,
    at = this.now,
    source?: string,
  ): void {
    const lead = this.byId.get(leadId);
    if (!lead) throw new Error(`World has no lead ${leadId}`);
    const old = lead[field];
    if (String(old) === value) return;
    this.changeActivity(lead, field, value, old === null ? null : String(old), at, source);
    (lead as unknown as Record<string, unknown>)[field] = value;
    lead.updatedAt = iso(at);
  }

  /** Creates a lead (Sync Leads create) with its New Lead (12) activity. */
  createLead(fields: Partial<WorldLead> & { email: string }, at = this.now): WorldLead {
    const lead: WorldLead = {
      id: this.nextLeadId++,
      firstName: '',
      lastName: '',
      company: '',
      unsubscribed: false,
      unsubscribedReason: null,
      emailInvalid: false,
      sfdcType: null,
      sfdcLeadId: null,
      sfdcContactId: null,
      sfdcAccountId: null,
      ...fields,
      createdAt: iso(at),
      updatedAt: iso(at),
    };
    this.leads.push(lead);
    this.byId.set(lead.id, lead);
    this.addActivity({
      leadId: lead.id,
      activityDate: iso(at),
      activityTypeId: ACTIVITY_TYPE_IDS.newLead,
      primaryAttributeValueId: lead.id,
      primaryAttributeValue: `${lead.lastName}, ${lead.firstName}`,
      attributes: [
        { name: 'Source Type', value: 'Web service API' },
        { name: 'Lead Source', value: 'API' },
      ],
    });
    return lead;
  }

  /** Deletes a lead: gone from leads.json; a Delete Lead (37) activity is recorded. */
  deleteLead(leadId: number, at = this.now): WorldActivity {
    const lead = this.byId.get(leadId);
    if (!lead) throw new Error(`World has no lead ${leadId}`);
    this.byId.delete(leadId);
    const idx = this.leads.indexOf(lead);
    if (idx >= 0) this.leads.splice(idx, 1);
    this.deletedLeadIds.add(leadId);
    return this.addActivity({
      leadId,
      activityDate: iso(at),
      activityTypeId: ACTIVITY_TYPE_IDS.deleteLead,
      primaryAttributeValueId: leadId,
      primaryAttributeValue: `${lead.lastName}, ${lead.firstName}`,
      attributes: [{ name: 'Remove from CRM', value: false }],
    });
  }

  // ---- generation ----------------------------------------------------------------------------

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.rand() * items.length)]!;
  }

  private pickWeighted(mix: readonly [number, number][]): number {
    const total = mix.reduce((s, [, w]) => s + w, 0);
    let r = this.rand() * total;
    for (const [v, w] of mix) {
      r -= w;
      if (r < 0) return v;
    }
    return mix[mix.length - 1]![0];
  }

  private pickLiveLead(): WorldLead {
    return this.pick(this.leads);
  }

  private guid(seq: number): string {
    const hex = (n: number) =>
      Math.floor(this.rand() * 16 ** n)
        .toString(16)
        .padStart(n, '0');
    return `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${seq.toString(16).padStart(12, '0')}`;
  }

  private ip(): string {
    return `203.0.113.${1 + Math.floor(this.rand() * 254)}`;
  }

  private generatePeople(count: number): void {
    let leadN = 1;
    let contactN = 1;
    let accountN = 1;
    let currentAccount: string | null = null;
    let accountCompany = '';
    for (let i = 0; i < count; i++) {
      const firstName = this.pick(FIRST_NAMES);
      const lastName = this.pick(LAST_NAMES);
      const company = `${this.pick(COMPANY_WORDS)} ${this.pick(COMPANY_SUFFIX)}`;
      const local = `${firstName}.${lastName}`
        .normalize('NFD')
        .replace(/[^A-Za-z.]/g, '')
        .toLowerCase();
      let email = `${local}${i}@${this.pick(DOMAINS)}`;
      const r = this.rand();
      // ~3% share their email with the previous person (duplicate records for one human).
      const previous = this.leads[this.leads.length - 1];
      if (r < 0.03 && previous) email = previous.email.trim();
      const styled = this.rand();
      if (styled < 0.05) email = email.replace(/^./, (c) => c.toUpperCase()).replace(/@e/, '@E');
      else if (styled < 0.07) email = `  ${email} `;
      const createdMs = this.now - (30 + this.rand() * 700) * DAY;
      const unsubscribed = this.rand() < 0.03;
      const kind = this.rand();
      const sfdcType: SfdcType | null = kind < 0.7 ? 'Lead' : kind < 0.9 ? 'Contact' : null;
      let sfdcLeadId: string | null = null;
      let sfdcContactId: string | null = null;
      let sfdcAccountId: string | null = null;
      // Salesforce's opt-out agrees with Marketo's except for ~1% (work for the nightly sync).
      const sfOptOut = this.rand() < 0.01 ? !unsubscribed : unsubscribed;
      const sfCreated = iso(createdMs + this.rand() * 2 * DAY);
      const sfEmail = this.rand() < 0.1 ? email.trim().toLowerCase() : email.trim();
      if (sfdcType === 'Lead') {
        sfdcLeadId = salesforceId('00Q', leadN++);
        this.salesforce.leads.push({
          Id: sfdcLeadId,
          Email: sfEmail,
          FirstName: firstName,
          LastName: lastName,
          Company: company,
          CreatedDate: sfCreated,
          HasOptedOutOfEmail: sfOptOut,
        });
      } else if (sfdcType === 'Contact') {
        if (!currentAccount || this.rand() < 0.35) {
          currentAccount = salesforceId('001', accountN++);
          accountCompany = company;
        }
        sfdcContactId = salesforceId('003', contactN++);
        sfdcAccountId = currentAccount;
        this.salesforce.contacts.push({
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
        id: this.nextLeadId++,
        email,
        firstName,
        lastName,
        company: sfdcType === 'Contact' ? accountCompany : company,
        createdAt: iso(createdMs),
        updatedAt: iso(createdMs),
        unsubscribed,
        unsubscribedReason: unsubscribed
          ? this.pick(['Unsubscribed via email link', 'Requested by phone'])
          : null,
        emailInvalid: this.rand() < 0.01,
        sfdcType,
        sfdcLeadId,
        sfdcContactId,
        sfdcAccountId,
      };
      this.leads.push(lead);
      this.byId.set(lead.id, lead);
    }
  }

  private generateActivities(count: number): void {
    const start = this.now - this.days * DAY;
    const batch: WorldActivity[] = [];
    for (let i = 0; i < count; i++) {
      const typeId = this.pickWeighted(ACTIVITY_MIX);
      const lead = this.pickLiveLead();
      batch.push(this.makeActivity(typeId, lead.id, start + this.rand() * (this.now - start)));
    }
    this.bulkInsert(batch);
  }

  private generateLeadChanges(): void {
    const start = this.now - this.days * DAY;
    const batch: WorldActivity[] = [];
    for (const lead of this.leads) {
      if (!lead.unsubscribed || this.rand() < 0.5) continue;
      // Half of the unsubscribed leads unsubscribed inside the window: their 13 record is visible.
      const at = Math.floor(start + this.rand() * (this.now - start));
      const seq = this.nextSeq++;
      batch.push({
        id: this.nextActivityId++,
        marketoGUID: this.guid(seq),
        leadId: lead.id,
        activityDate: iso(at),
        activityTypeId: ACTIVITY_TYPE_IDS.changeDataValue,
        primaryAttributeValueId: LEAD_FIELD_IDS.unsubscribed ?? null,
        primaryAttributeValue: 'Unsubscribed',
        attributes: [
          { name: 'Reason', value: lead.unsubscribedReason ?? 'Unsubscribed' },
          { name: 'Source', value: 'Email unsubscribe link' },
        ],
        fields: [
          {
            id: LEAD_FIELD_IDS.unsubscribed ?? 47,
            name: 'unsubscribed',
            newValue: 'true',
            oldValue: 'false',
          },
        ],
        dateMs: at,
        visibleAtMs: at,
        seq,
      });
    }
    this.bulkInsert(batch);
  }

  private changeActivity(
    lead: WorldLead,
    field: string,
    newValue: string | null,
    oldValue: string | null,
    at: number,
    source = 'Web service API',
  ): WorldActivity {
    return this.addActivity({
      leadId: lead.id,
      activityDate: iso(at),
      activityTypeId: ACTIVITY_TYPE_IDS.changeDataValue,
      primaryAttributeValueId: LEAD_FIELD_IDS[field] ?? null,
      primaryAttributeValue: field,
      attributes: [
        { name: 'Reason', value: source === 'Web service API' ? 'Changed by API' : 'Changed' },
        { name: 'Source', value: source },
      ],
      fields: [{ id: LEAD_FIELD_IDS[field] ?? 0, name: field, newValue, oldValue }],
    });
  }

  private makeActivity(typeId: number, leadId: number, dateMsRaw: number): WorldActivity {
    const dateMs = Math.floor(dateMsRaw / 1000) * 1000;
    const seq = this.nextSeq++;
    const r = this.rand();
    // Activity ids are not unique: ~1% reuse an earlier id, ~2% have none (Activity Service).
    let id: number | undefined = this.nextActivityId++;
    if (r < 0.01) id = id - 1 - Math.floor(this.rand() * 50);
    else if (r < 0.03) id = undefined;
    let visibleAtMs = dateMs;
    const base: WorldActivity = {
      ...(id === undefined ? {} : { id }),
      marketoGUID: this.guid(seq),
      leadId,
      activityDate: iso(dateMs),
      activityTypeId: typeId,
      dateMs,
      visibleAtMs,
      seq,
    };
    const emailRun = () => [
      { name: 'Campaign Run ID', value: 10_000 + Math.floor(this.rand() * 500) },
      { name: 'Step ID', value: 1 + Math.floor(this.rand() * 12) },
      { name: 'Choice Number', value: Math.floor(this.rand() * 3) },
    ];
    switch (typeId) {
      case 1: {
        const page = this.pick(PAGES);
        return {
          ...base,
          primaryAttributeValueId: page.id,
          primaryAttributeValue: page.url,
          attributes: [
            { name: 'Client IP Address', value: this.ip() },
            {
              name: 'Query Parameters',
              value: this.rand() < 0.3 ? 'utm_source=linkedin&utm_medium=paid' : '',
            },
            { name: 'Referrer URL', value: 'https://www.google.com/' },
            { name: 'User Agent', value: this.pick(USER_AGENTS) },
            { name: 'Webpage URL', value: `/${page.url.split('/').slice(1).join('/')}` },
          ].filter((a) => a.value !== ''),
        };
      }
      case 2: {
        const form = this.pick(FORMS);
        return {
          ...base,
          primaryAttributeValueId: form.id,
          primaryAttributeValue: form.name,
          attributes: [
            { name: 'Client IP Address', value: this.ip() },
            { name: 'Form Fields', value: '{"Company":"(redacted)","Country":"United States"}' },
            { name: 'Query Parameters', value: 'utm_campaign=q4-launch&utm_source=newsletter' },
            { name: 'Referrer URL', value: 'https://www.example.com/product/security' },
            { name: 'User Agent', value: this.pick(USER_AGENTS) },
            { name: 'Webform ID', value: form.id },
            { name: 'Webpage ID', value: this.pick(PAGES).id },
          ],
        };
      }
      case 6:
      case 7:
      case 10:
      case 11: {
        const email = this.pick(EMAILS);
        const attributes: WorldAttribute[] = emailRun();
        if (typeId === 10 || typeId === 11) {
          const mobile = this.rand() < 0.4;
          attributes.push(
            { name: 'Device', value: mobile ? 'iPhone' : 'Desktop' },
            { name: 'Is Mobile Device', value: mobile },
            { name: 'Platform', value: mobile ? 'iOS' : 'Windows' },
          );
        }
        if (typeId === 11) {
          attributes.push(
            { name: 'Link', value: 'https://www.example.com/webinar/zero-trust?mkt_tok=redacted' },
            { name: 'Link ID', value: 900 + Math.floor(this.rand() * 50) },
          );
        }
        // ~5% of Send Email are committed 5–40 minutes after their activityDate.
        if (typeId === 6 && this.rand() < 0.05) visibleAtMs = dateMs + (5 + this.rand() * 35) * MINUTE;
        return {
          ...base,
          visibleAtMs: Math.floor(visibleAtMs),
          campaignId: 2000 + (email.id % 100),
          primaryAttributeValueId: email.id,
          primaryAttributeValue: email.name,
          attributes,
        };
      }
      case 24:
      case 25: {
        const list = this.pick(LISTS);
        return {
          ...base,
          campaignId: this.rand() < 0.7 ? 3000 + list.id : null,
          primaryAttributeValueId: list.id,
          primaryAttributeValue: list.name,
          ...(this.rand() < 0.5 ? { attributes: [{ name: 'Source', value: 'Smart Campaign' }] } : {}),
        };
      }
      case 22: {
        const change = this.pick([5, 10, 15, -5, 25]);
        const old = Math.floor(this.rand() * 100);
        return {
          ...base,
          campaignId: 4001,
          primaryAttributeValueId: 1,
          primaryAttributeValue: 'Behavior Score',
          attributes: [
            { name: 'Change Value', value: change > 0 ? `+${change}` : String(change) },
            { name: 'Old Value', value: old },
            { name: 'New Value', value: old + change },
            { name: 'Reason', value: 'Web page visit' },
          ],
        };
      }
      case 39:
      case 40:
      case 41:
      case 45: {
        const subject = this.pick(SALES_SUBJECTS);
        const attributes: WorldAttribute[] = [
          { name: 'Source', value: 'Sales Insight' },
          { name: 'Subject', value: subject },
        ];
        if (typeId === 39) attributes.push({ name: 'Template', value: 'Follow-up v2' });
        if (typeId === 41) attributes.push({ name: 'Link', value: 'https://www.example.com/pricing' });
        if (typeId === 45) attributes.push({ name: 'From', value: 'prospect (redacted)' });
        return {
          ...base,
          primaryAttributeValueId: 80_000 + Math.floor(this.rand() * 5_000),
          primaryAttributeValue: subject,
          attributes,
        };
      }
      case 100001: {
        return {
          ...base,
          primaryAttributeValue: this.pick(WEBINARS),
          attributes: [
            { name: 'Duration Minutes', value: 10 + Math.floor(this.rand() * 50) },
            { name: 'Registration Source', value: this.pick(['Email', 'Website', 'Partner']) },
          ],
        };
      }
      default:
        return { ...base, primaryAttributeValue: null };
    }
  }

  /** Everything needed to carry this world into a later process (the embedded default persists it). */
  toSnapshot(): WorldSnapshot {
    return {
      version: 1,
      now: this.now,
      days: this.days,
      leads: this.leads,
      salesforce: this.salesforce,
      activityTypes: this.activityTypes,
      activities: this.activities,
      deletedLeadIds: [...this.deletedLeadIds],
      nextSeq: this.nextSeq,
      nextActivityId: this.nextActivityId,
      nextLeadId: this.nextLeadId,
    };
  }

  static fromSnapshot(snapshot: WorldSnapshot, seed?: number): World {
    if (snapshot.version !== 1)
      throw new Error(`Unsupported world snapshot version ${String(snapshot.version)}`);
    return new World(seed === undefined ? {} : { seed }, snapshot);
  }

  private restore(s: WorldSnapshot): void {
    this.leads.push(...s.leads);
    for (const l of this.leads) this.byId.set(l.id, l);
    this.salesforce.leads.push(...s.salesforce.leads);
    this.salesforce.contacts.push(...s.salesforce.contacts);
    this.activityTypes.splice(0, this.activityTypes.length, ...s.activityTypes);
    // A loop, not push(...): spreading 100k+ elements overflows the call stack.
    for (const a of s.activities) this.activities.push(a);
    for (const id of s.deletedLeadIds) this.deletedLeadIds.add(id);
    this.nextSeq = s.nextSeq;
    this.nextActivityId = s.nextActivityId;
    this.nextLeadId = s.nextLeadId;
  }

  private bulkInsert(batch: WorldActivity[]): void {
    for (const a of batch) this.activities.push(a);
    this.activities.sort((a, b) => a.dateMs - b.dateMs || a.seq - b.seq);
  }

  private insert(activity: WorldActivity): WorldActivity {
    const idx = this.indexAfter(activity.dateMs, activity.seq);
    this.activities.splice(idx, 0, activity);
    return activity;
  }
}

export function createWorld(options: WorldOptions = {}): World {
  return new World(options);
}

/** The record as the API shows it (hidden sandbox fields removed). */
export function publicActivity(a: WorldActivity): Record<string, unknown> {
  const { dateMs: _d, visibleAtMs: _v, seq: _s, ...rest } = a;
  return rest;
}
