import type { MemberStatus, MembershipStatus } from '../../../shared/domain/campaign-status.js';
import type {
  CampaignPersonState,
  CampaignRef,
  CampaignStateStore,
  CampaignWriter,
  EmailActivityRow,
  EmailActivitySource,
  LinkedPerson,
  MemberWrite,
} from '../../../shared/ports/campaign-writer.js';

export class InMemoryEmailSource implements EmailActivitySource {
  rows: EmailActivityRow[] = [];
  readonly links = new Map<number, LinkedPerson>();
  async readEmailActivities(since: Date, until: Date) {
    return this.rows.filter(
      (r) => r.activityDate >= since.toISOString() && r.activityDate <= until.toISOString(),
    );
  }
  async *emailActivityPages(since: Date, until: Date) {
    const rows = await this.readEmailActivities(since, until);
    for (let i = 0; i < rows.length; i += this.pageSize) yield rows.slice(i, i + this.pageSize);
  }
  pageSize = 300;
  async firstEmailActivityPage(since: Date) {
    const rows = this.rows.filter((r) => r.activityDate >= since.toISOString());
    return { rows: rows.slice(0, 300), more: rows.length > 300 };
  }
  async linkedPeople(leadIds: readonly number[]) {
    const out = new Map<number, LinkedPerson>();
    for (const id of leadIds) {
      const l = this.links.get(id);
      if (l) out.set(id, l);
    }
    return out;
  }
}

/** A Salesforce org's Campaign side: refuses a member status the Campaign does not define. */
export class InMemoryCampaignOrg implements CampaignWriter {
  readonly campaigns = new Map<string, CampaignRef>();
  /** `${campaignId}|${personId}` → status */
  readonly members = new Map<string, string>();
  readonly converted = new Map<string, string>();
  readonly optOuts = new Map<string, string>();
  readonly lastFive = new Map<string, string>();
  lastFiveWrites = 0;
  private seq = 0;
  async campaignsByName(names: readonly string[]) {
    const out = new Map<string, CampaignRef>();
    for (const c of this.campaigns.values()) if (names.includes(c.name)) out.set(c.name, { ...c });
    return out;
  }
  async campaignsByIds(ids: readonly string[]) {
    const out = new Map<string, CampaignRef>();
    for (const id of ids) {
      const c = this.campaigns.get(id);
      if (c) out.set(id, { ...c });
    }
    return out;
  }
  async createCampaign(name: string, memberStatuses: readonly MemberStatus[]) {
    const c = { id: `701C${++this.seq}`, name, memberStatuses: [...memberStatuses] };
    this.campaigns.set(c.id, c);
    return { ...c };
  }
  async addMemberStatuses(campaignId: string, labels: readonly MemberStatus[]) {
    this.campaigns.get(campaignId)?.memberStatuses.push(...labels);
  }
  async convertedContacts(leadIds: readonly string[]) {
    const out = new Map<string, string>();
    for (const id of leadIds) {
      const c = this.converted.get(id);
      if (c) out.set(id, c);
    }
    return out;
  }
  async optedOutAt(people: readonly { sobject: 'Lead' | 'Contact'; id: string }[]) {
    const out = new Map<string, string>();
    for (const p of people) {
      const at = this.optOuts.get(p.id);
      if (at) out.set(`${p.sobject}:${p.id}`, at);
    }
    return out;
  }
  async upsertMembers(rows: readonly MemberWrite[]) {
    return rows.map((r) => {
      const c = this.campaigns.get(r.campaignId);
      if (!c?.memberStatuses.includes(r.status))
        return { ok: false, error: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST' };
      this.members.set(`${r.campaignId}|${r.person.id}`, r.status);
      return { ok: true };
    });
  }
  async writeLastFive(rows: readonly { id: string; value: string }[]) {
    this.lastFiveWrites += rows.length;
    for (const r of rows) this.lastFive.set(r.id, r.value);
  }
  statusOf(campaignName: string, personId: string): string | undefined {
    const c = [...this.campaigns.values()].find((x) => x.name === campaignName);
    return c ? this.members.get(`${c.id}|${personId}`) : undefined;
  }
}

export class InMemoryCampaignState implements CampaignStateStore {
  watermark: string | undefined;
  readonly people = new Map<string, { memberships: MembershipStatus[]; lastFive?: string }>();
  readonly firstSends = new Map<string, string>();
  async getWatermark() {
    return this.watermark;
  }
  async putWatermark(iso: string) {
    this.watermark = iso;
  }
  async getPeople(keys: readonly string[]) {
    const out = new Map<string, CampaignPersonState>();
    for (const k of keys) {
      const p = this.people.get(k);
      if (p) out.set(k, structuredClone(p));
    }
    return out;
  }
  async putPeople(rows: readonly ({ key: string } & CampaignPersonState)[]) {
    for (const { key, ...rest } of rows) this.people.set(key, structuredClone(rest));
  }
  async getFirstSends(programs: readonly string[]) {
    return new Map([...this.firstSends].filter(([p]) => programs.includes(p)));
  }
  async putFirstSends(values: ReadonlyMap<string, string>) {
    for (const [k, v] of values) this.firstSends.set(k, v);
  }
}
