/**
 * A deterministic, seeded "world" shared by the Marketo and Salesforce sandboxes: people with a
 * Marketo lead each, their Salesforce Lead or Contact (or none), and a stream of Marketo
 * activities including late-committed Send Email records. Same options → same world, byte for byte.
 */

import {
  dataValueChange,
  type GeneratorContext,
  generateActivity,
  seededUnsubscribe,
} from './world/activity-generators.js';
import { ACTIVITY_TYPE_IDS, DEFAULT_ACTIVITY_TYPES } from './world/activity-types.js';
import { iso } from './world/formats.js';
import { findLeads, generatePeople } from './world/people.js';
import { mulberry32, pickWeighted } from './world/prng.js';
import { ACTIVITY_MIX } from './world/sample-data.js';
import type {
  SalesforceSeed,
  WorldActivity,
  WorldActivityType,
  WorldLead,
  WorldOptions,
  WorldSnapshot,
} from './world/types.js';

export { ACTIVITY_TYPE_IDS, DEFAULT_ACTIVITY_TYPES, LEAD_FIELD_IDS } from './world/activity-types.js';
export { salesforceId } from './world/formats.js';
export { mulberry32 } from './world/prng.js';
export type * from './world/types.js';

export const DEFAULT_WORLD_NOW = Date.parse('2026-10-15T12:00:00Z');
const DAY = 86_400_000;
const MINUTE = 60_000;

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
  /**
   * Leads by trimmed, lower-cased email (a look-up by email is then one map read, not a scan of
   * every lead): rebuilt when leads were added since, or when an email changed (recordFieldChange).
   */
  private emailIndex: { count: number; byEmail: Map<string, WorldLead[]> } | undefined;
  private nextSeq = 1;
  private nextActivityId = 4_200_000;
  private nextLeadId: number;
  private readonly days: number;
  private readonly generatorContext: GeneratorContext = {
    rand: () => this.rand(),
    pick: (items) => this.pick(items),
    ip: () => this.ip(),
  };

  constructor(options: WorldOptions = {}, snapshot?: WorldSnapshot) {
    this.rand = mulberry32((options.seed ?? 20261015) + (snapshot?.nextSeq ?? 0));
    this.now = snapshot?.now ?? options.now ?? DEFAULT_WORLD_NOW;
    this.days = snapshot?.days ?? options.days ?? 90;
    this.nextLeadId = 1_000;
    if (snapshot) {
      this.restore(snapshot);
      return;
    }
    const people = generatePeople(options.people ?? 3000, this.generatorContext, this.now, this.nextLeadId);
    for (const lead of people.leads) {
      this.leads.push(lead);
      this.byId.set(lead.id, lead);
    }
    this.nextLeadId += people.leads.length;
    for (const l of people.salesforce.leads) this.salesforce.leads.push(l);
    for (const c of people.salesforce.contacts) this.salesforce.contacts.push(c);
    this.generateActivities(options.activities ?? 30_000);
    this.generateLeadChanges();
    if (options.recentOptOuts) this.generateRecentOptOuts(options.recentOptOuts, options.seed ?? 20261015);
  }

  lead(id: number): WorldLead | undefined {
    return this.byId.get(id);
  }

  /** Leads matching a filter as Marketo does it (email: case-insensitive, trimmed). */
  findLeads(filterType: string, value: string): WorldLead[] {
    if (filterType !== 'email') return findLeads(this.leads, this.byId, filterType, value);
    if (this.emailIndex?.count !== this.leads.length) {
      const byEmail = new Map<string, WorldLead[]>();
      for (const l of this.leads) {
        const key = l.email.trim().toLowerCase();
        byEmail.set(key, [...(byEmail.get(key) ?? []), l]);
      }
      this.emailIndex = { count: this.leads.length, byEmail };
    }
    return [...(this.emailIndex.byEmail.get(value.trim().toLowerCase()) ?? [])];
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
      const typeId = opts.typeIds ? this.pick(opts.typeIds) : pickWeighted(this.rand, ACTIVITY_MIX);
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
    if (field === 'email') this.emailIndex = undefined;
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
    this.emailIndex = undefined;
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

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.rand() * items.length)]!;
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

  private generateActivities(count: number): void {
    const start = this.now - this.days * DAY;
    const batch: WorldActivity[] = [];
    for (let i = 0; i < count; i++) {
      const typeId = pickWeighted(this.rand, ACTIVITY_MIX);
      const lead = this.pickLiveLead();
      batch.push(this.makeActivity(typeId, lead.id, start + this.rand() * (this.now - start)));
    }
    this.bulkInsert(batch);
  }

  /** The Data Value Change (13) of a lead seeded as unsubscribed at `at`. */
  private seededUnsubscribeActivity(lead: WorldLead, at: number): WorldActivity {
    const seq = this.nextSeq++;
    return {
      id: this.nextActivityId++,
      marketoGUID: this.guid(seq),
      leadId: lead.id,
      activityDate: iso(at),
      ...seededUnsubscribe(lead),
      dateMs: at,
      visibleAtMs: at,
      seq,
    };
  }

  private generateLeadChanges(): void {
    const start = this.now - this.days * DAY;
    const batch: WorldActivity[] = [];
    for (const lead of this.leads) {
      if (!lead.unsubscribed || this.rand() < 0.5) continue;
      // Half of the unsubscribed leads unsubscribed inside the window: their 13 record is visible.
      const at = Math.floor(start + this.rand() * (this.now - start));
      batch.push(this.seededUnsubscribeActivity(lead, at));
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
      ...dataValueChange(field, newValue, oldValue, source),
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
    const base: WorldActivity = {
      ...(id === undefined ? {} : { id }),
      marketoGUID: this.guid(seq),
      leadId,
      activityDate: iso(dateMs),
      activityTypeId: typeId,
      dateMs,
      visibleAtMs: dateMs,
      seq,
    };
    return generateActivity(base, typeId, this.generatorContext);
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

  /**
   * `n` people unsubscribe in Marketo within the last day (a Data Value Change on `unsubscribed`,
   * as an email unsubscribe link records it) and `n` others are ticked Email Opt Out in Salesforce
   * (LastModifiedDate in the last day), each on one side only. People whose both sides agree and
   * who have a Salesforce record are picked, so each change has a record to carry it to.
   */
  private generateRecentOptOuts(n: number, seed: number): void {
    const rand = mulberry32(seed ^ 0x0b7007);
    const sfById = new Map<string, { HasOptedOutOfEmail: boolean; LastModifiedDate?: string }>();
    for (const r of [...this.salesforce.leads, ...this.salesforce.contacts]) sfById.set(r.Id, r);
    const candidates = this.leads.filter((l) => {
      const sfId = l.sfdcLeadId ?? l.sfdcContactId;
      const rec = sfId ? sfById.get(sfId) : undefined;
      return rec && !l.unsubscribed && !rec.HasOptedOutOfEmail && l.email.trim() !== '';
    });
    const picked = new Set<number>();
    const pickOne = () => {
      for (let tries = 0; tries < 100; tries++) {
        const l = candidates[Math.floor(rand() * candidates.length)];
        if (l && !picked.has(l.id)) {
          picked.add(l.id);
          return l;
        }
      }
      return undefined;
    };
    const batch: WorldActivity[] = [];
    const recent = () => Math.floor(this.now - (1 + rand() * 20) * 3_600_000);
    for (let i = 0; i < n; i++) {
      const lead = pickOne();
      if (!lead) break;
      lead.unsubscribed = true;
      lead.unsubscribedReason = 'Unsubscribed via email link';
      const at = recent();
      lead.updatedAt = iso(at);
      batch.push(this.seededUnsubscribeActivity(lead, at));
    }
    for (let i = 0; i < n; i++) {
      const lead = pickOne();
      const rec = lead ? sfById.get((lead.sfdcLeadId ?? lead.sfdcContactId) as string) : undefined;
      if (!rec) break;
      rec.HasOptedOutOfEmail = true;
      rec.LastModifiedDate = iso(recent());
    }
    this.bulkInsert(batch);
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
