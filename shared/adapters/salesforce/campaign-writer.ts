import * as z from 'zod';
import type { MemberStatus } from '../../domain/campaign-status.js';
import { type SoqlQuery, soql, soqlIdentifier } from '../../domain/soql.js';
import type {
  CampaignReadBack,
  CampaignRef,
  CampaignWriter,
  MemberWrite,
} from '../../ports/campaign-writer.js';
import type { SalesforceApi } from '../../ports/salesforce-api.js';

/**
 * Job 4b's Salesforce side over SalesforceApi (collections, ≤ 200 per call; the client chunks).
 * Object Reference: Campaign (Name, Type, Status, IsActive); CampaignMemberStatus (CampaignId,
 * Label, HasResponded, SortOrder) — a member's Status must be one of its Campaign's labels;
 * CampaignMember (CampaignId, LeadId or ContactId, Status).
 */
const IN_CHUNK = 200;
const RESPONDED: ReadonlySet<MemberStatus> = new Set(['Opened', 'Clicked']);

const chunks = <T>(xs: readonly T[]): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += IN_CHUNK) out.push(xs.slice(i, i + IN_CHUNK));
  return out;
};

export class SalesforceCampaignWriter implements CampaignWriter, CampaignReadBack {
  constructor(
    private readonly salesforce: SalesforceApi,
    private readonly options: { optOutField: string; lastFiveField: string | undefined },
  ) {}

  async campaignsByName(names: readonly string[]): Promise<Map<string, CampaignRef>> {
    return this.campaigns(
      names,
      (part) => soql`SELECT Id, Name FROM Campaign WHERE Name IN ${part}`,
      (r, out) =>
        // Several Campaigns with one name: the oldest id wins, the same on every run.
        !out.has(r.Name) || r.Id < (out.get(r.Name)?.id ?? '') ? r.Name : undefined,
    );
  }

  async campaignsByIds(ids: readonly string[]): Promise<Map<string, CampaignRef>> {
    return this.campaigns(
      ids,
      (part) => soql`SELECT Id, Name FROM Campaign WHERE Id IN ${part}`,
      (r) =>
        // Salesforce answers 18-character Ids; the 15-character prefix is the Id (the suffix is a checksum).
        ids.find((id) => r.Id.slice(0, 15) === id.slice(0, 15)),
    );
  }

  /** Campaigns found by `query` per chunk of keys, keyed by `keyOf` (undefined: skip), with their status labels. */
  private async campaigns(
    keys: readonly string[],
    query: (part: string[]) => SoqlQuery,
    keyOf: (row: { Id: string; Name: string }, out: Map<string, CampaignRef>) => string | undefined,
  ): Promise<Map<string, CampaignRef>> {
    const out = new Map<string, CampaignRef>();
    for (const part of chunks(keys)) {
      for (const raw of await this.salesforce.query(query(part))) {
        const r = z.object({ Id: z.string(), Name: z.string() }).parse(raw);
        const key = keyOf(r, out);
        if (key !== undefined) out.set(key, { id: r.Id, name: r.Name, memberStatuses: [] });
      }
    }
    const labels = await this.statuses([...out.values()].map((c) => c.id));
    for (const c of out.values()) c.memberStatuses = labels.get(c.id) ?? [];
    return out;
  }

  async createCampaign(name: string, memberStatuses: readonly MemberStatus[]): Promise<CampaignRef> {
    const [saved] = await this.salesforce.create('Campaign', [
      { Name: name, Type: 'Email', Status: 'In Progress', IsActive: true },
    ]);
    if (!saved?.success || !saved.id)
      throw new Error(
        `Creating the Salesforce Campaign failed (${saved?.errors.map((e) => e.statusCode).join(', ') ?? 'no result'}); check the integration user's Create permission on Campaign.`,
      );
    await this.addMemberStatuses(saved.id, memberStatuses);
    return { id: saved.id, name, memberStatuses: [...memberStatuses] };
  }

  async addMemberStatuses(campaignId: string, labels: readonly MemberStatus[]): Promise<void> {
    const have = (await this.statuses([campaignId])).get(campaignId) ?? [];
    const missing = labels.filter((l) => !have.includes(l));
    if (missing.length === 0) return;
    const results = await this.salesforce.create(
      'CampaignMemberStatus',
      missing.map((Label, i) => ({
        CampaignId: campaignId,
        Label,
        HasResponded: RESPONDED.has(Label),
        SortOrder: have.length + i + 1,
      })),
    );
    const failed = results.filter((r) => !r.success);
    if (failed.length > 0)
      throw new Error(
        `Adding member statuses to Campaign ${campaignId} failed (${failed.flatMap((r) => r.errors.map((e) => e.statusCode)).join(', ')}); members cannot be written with a status the Campaign does not define.`,
      );
  }

  async convertedContacts(leadIds: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const part of chunks(leadIds)) {
      const rows = await this.salesforce.query(
        soql`SELECT Id, ConvertedContactId FROM Lead WHERE Id IN ${part} AND IsConverted = true`,
      );
      for (const raw of rows) {
        const r = z.object({ Id: z.string(), ConvertedContactId: z.string().nullish() }).parse(raw);
        if (r.ConvertedContactId) out.set(r.Id, r.ConvertedContactId);
      }
    }
    return out;
  }

  /**
   * Salesforce keeps no opt-out date: a person whose opt-out field is set is taken as opted out at
   * the record's LastModifiedDate, the latest the flag can have been set. So "opted out before the
   * first send" is only claimed when certain; otherwise the person stays a member.
   */
  async optedOutAt(
    people: readonly { sobject: 'Lead' | 'Contact'; id: string }[],
  ): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const field = soqlIdentifier(this.options.optOutField);
    for (const sobject of ['Lead', 'Contact'] as const) {
      const ids = people.filter((p) => p.sobject === sobject).map((p) => p.id);
      for (const part of chunks(ids)) {
        const rows = await this.salesforce.query(
          soql`SELECT Id, LastModifiedDate FROM ${soqlIdentifier(sobject)} WHERE Id IN ${part} AND ${field} = true`,
        );
        for (const raw of rows) {
          const r = z.object({ Id: z.string(), LastModifiedDate: z.string() }).parse(raw);
          out.set(`${sobject}:${r.Id}`, new Date(r.LastModifiedDate).toISOString());
        }
      }
    }
    return out;
  }

  async upsertMembers(rows: readonly MemberWrite[]): Promise<{ ok: boolean; error?: string }[]> {
    const existing = new Map<string, string>();
    const campaignIds = [...new Set(rows.map((r) => r.campaignId))];
    const personIds = [...new Set(rows.map((r) => r.person.id))];
    for (const c of chunks(campaignIds))
      for (const p of chunks(personIds)) {
        const found = await this.salesforce.query(
          soql`SELECT Id, CampaignId, LeadId, ContactId FROM CampaignMember WHERE CampaignId IN ${c} AND (LeadId IN ${p} OR ContactId IN ${p})`,
        );
        for (const raw of found) {
          const m = z
            .object({
              Id: z.string(),
              CampaignId: z.string(),
              LeadId: z.string().nullish(),
              ContactId: z.string().nullish(),
            })
            .parse(raw);
          existing.set(`${m.CampaignId}|${m.ContactId ?? m.LeadId}`, m.Id);
        }
      }
    const updates: { i: number; record: Record<string, unknown> }[] = [];
    const creates: { i: number; record: Record<string, unknown> }[] = [];
    rows.forEach((r, i) => {
      const id = existing.get(`${r.campaignId}|${r.person.id}`);
      if (id) updates.push({ i, record: { Id: id, Status: r.status } });
      else
        creates.push({
          i,
          record: {
            CampaignId: r.campaignId,
            [r.person.sobject === 'Lead' ? 'LeadId' : 'ContactId']: r.person.id,
            Status: r.status,
          },
        });
    });
    const out: { ok: boolean; error?: string }[] = rows.map(() => ({ ok: false, error: 'not sent' }));
    const apply = (batch: typeof updates, results: Awaited<ReturnType<SalesforceApi['create']>>) =>
      batch.forEach((b, k) => {
        const r = results[k];
        out[b.i] = r?.success ? { ok: true } : { ok: false, error: r?.errors[0]?.statusCode ?? 'no result' };
      });
    if (updates.length > 0)
      apply(
        updates,
        await this.salesforce.update(
          'CampaignMember',
          updates.map((u) => u.record),
        ),
      );
    if (creates.length > 0)
      apply(
        creates,
        await this.salesforce.create(
          'CampaignMember',
          creates.map((c) => c.record),
        ),
      );
    return out;
  }

  async writeLastFive(
    rows: readonly { sobject: 'Lead' | 'Contact'; id: string; value: string }[],
  ): Promise<void> {
    const field = this.options.lastFiveField;
    if (!field) return;
    for (const sobject of ['Lead', 'Contact'] as const) {
      const mine = rows.filter((r) => r.sobject === sobject);
      if (mine.length === 0) continue;
      const results = await this.salesforce.update(
        sobject,
        mine.map((r) => ({ Id: r.id, [field]: r.value })),
      );
      const failed = results.filter((r) => !r.success).length;
      if (failed > 0)
        throw new Error(
          `Writing ${field} failed on ${failed} ${sobject}(s); deploy the field (salesforce/ metadata) and grant the integration user edit access.`,
        );
    }
  }

  async members(
    campaignIds: readonly string[],
  ): Promise<{ campaignId: string; personKey: string; status: string }[]> {
    const out: { campaignId: string; personKey: string; status: string }[] = [];
    for (const part of chunks(campaignIds)) {
      const rows = await this.salesforce.query(
        soql`SELECT CampaignId, LeadId, ContactId, Status FROM CampaignMember WHERE CampaignId IN ${part}`,
      );
      for (const raw of rows) {
        const m = z
          .object({
            CampaignId: z.string(),
            LeadId: z.string().nullish(),
            ContactId: z.string().nullish(),
            Status: z.string().nullish(),
          })
          .parse(raw);
        // A member that is a converted Lead carries both ids; the Contact is the person (job 1's rule).
        const personKey = m.ContactId ? `Contact:${m.ContactId}` : `Lead:${m.LeadId ?? ''}`;
        out.push({ campaignId: m.CampaignId, personKey, status: m.Status ?? '' });
      }
    }
    return out;
  }

  async lastFive(
    people: readonly { sobject: 'Lead' | 'Contact'; id: string }[],
  ): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (!this.options.lastFiveField) return out;
    const field = soqlIdentifier(this.options.lastFiveField);
    for (const sobject of ['Lead', 'Contact'] as const) {
      const ids = people.filter((p) => p.sobject === sobject).map((p) => p.id);
      for (const part of chunks(ids)) {
        const rows = await this.salesforce.query<Record<string, unknown>>(
          soql`SELECT Id, ${field} FROM ${soqlIdentifier(sobject)} WHERE Id IN ${part}`,
        );
        for (const raw of rows) {
          const value = raw[this.options.lastFiveField];
          out.set(`${sobject}:${String(raw.Id)}`, typeof value === 'string' ? value : '');
        }
      }
    }
    return out;
  }

  private async statuses(campaignIds: readonly string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const part of chunks(campaignIds)) {
      const rows = await this.salesforce.query(
        soql`SELECT CampaignId, Label FROM CampaignMemberStatus WHERE CampaignId IN ${part}`,
      );
      for (const raw of rows) {
        const r = z.object({ CampaignId: z.string(), Label: z.string() }).parse(raw);
        out.set(r.CampaignId, [...(out.get(r.CampaignId) ?? []), r.Label]);
      }
    }
    return out;
  }
}
