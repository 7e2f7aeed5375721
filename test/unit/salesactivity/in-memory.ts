import type {
  CustomActivityItem,
  CustomActivityTypeDefinition,
  SalesActivityRecord,
} from '../../../shared/domain/sales-activity.js';
import type {
  AddedActivityResult,
  CustomActivityApi,
  CustomActivityTypeState,
  MarketoLeadRef,
  ReadBackActivity,
} from '../../../shared/ports/custom-activity-api.js';
import type { SalesActivitySource, SalesPerson } from '../../../shared/ports/sales-activity-source.js';
import type {
  SalesActivityLedgerEntry,
  SalesActivityStore,
} from '../../../shared/ports/sales-activity-store.js';

/** In-memory ports for job 4a's use-case tests. */
export class InMemorySource implements SalesActivitySource {
  records: SalesActivityRecord[] = [];
  readonly persons = new Map<string, SalesPerson>();
  async readEligible(params: { since: Date; until: Date; kinds: readonly string[] }) {
    return this.records.filter(
      (r) =>
        params.kinds.includes(r.kind) &&
        r.systemModstamp > params.since.toISOString() &&
        r.systemModstamp <= params.until.toISOString(),
    );
  }
  async readByIds(params: { ids: readonly string[]; until: Date; kinds: readonly string[] }) {
    return this.records.filter((r) => params.ids.includes(r.id) && params.kinds.includes(r.kind));
  }
  async people(ids: readonly string[]) {
    const out = new Map<string, SalesPerson>();
    for (const id of ids) {
      const p = this.persons.get(id);
      if (p) out.set(id, p);
    }
    return out;
  }
  instanceUrl() {
    return 'https://example.my.salesforce.com';
  }
}

export class InMemoryMarketo implements CustomActivityApi {
  readonly types = new Map<string, CustomActivityTypeState & { definition: CustomActivityTypeDefinition }>();
  readonly activities: (CustomActivityItem & { marketoGUID: string; addedAt: number })[] = [];
  leads: MarketoLeadRef[] = [];
  readonly calls: Record<string, number> = {};
  private seq = 0;
  /** Lets a test interleave two runs inside type set-up. */
  yieldEvery = async () => {};

  private count(name: string) {
    this.calls[name] = (this.calls[name] ?? 0) + 1;
  }
  async describeType(apiName: string) {
    this.count('describe');
    await this.yieldEvery();
    const t = this.types.get(apiName);
    return t ? { ...t, attributeApiNames: [...t.attributeApiNames] } : undefined;
  }
  async createType(definition: CustomActivityTypeDefinition) {
    this.count('create');
    await this.yieldEvery();
    if (this.types.has(definition.apiName)) return undefined;
    const state = {
      id: 100_001 + this.types.size,
      apiName: definition.apiName,
      status: 'draft',
      primaryAttributeApiName: definition.primaryAttribute.apiName,
      attributeApiNames: [],
      definition,
    };
    this.types.set(definition.apiName, state);
    return { ...state, attributeApiNames: [] };
  }
  async createAttributes(apiName: string, attributes: readonly { apiName: string }[]) {
    this.count('attributes');
    const t = this.types.get(apiName);
    if (!t) throw new Error('no type');
    t.attributeApiNames.push(...attributes.map((a) => a.apiName));
  }
  async approveType(apiName: string) {
    this.count('approve');
    const t = this.types.get(apiName);
    if (!t) throw new Error('no type');
    t.status = 'approved';
    return { ...t };
  }
  async addActivities(items: readonly CustomActivityItem[]): Promise<AddedActivityResult[]> {
    this.count('add');
    if (items.length > 300) throw new Error('more than 300 items');
    return items.map((item) => {
      if (!this.leads.some((l) => l.id === item.leadId))
        return { status: 'skipped', errors: [{ code: '1004', message: 'Lead not found' }] };
      const marketoGUID = `guid-${++this.seq}`;
      this.activities.push({ ...item, marketoGUID, addedAt: Date.now() });
      return { status: 'added', marketoGUID };
    });
  }
  async readActivities(activityTypeId: number, since: Date): Promise<ReadBackActivity[]> {
    this.count('read');
    return (
      this.activities
        // As Marketo: paged by activityDate (Get Paging Token sinceDatetime), not by when it was added.
        .filter((a) => a.activityTypeId === activityTypeId && Date.parse(a.activityDate) >= since.getTime())
        .map((a) => ({
          leadId: a.leadId,
          marketoGUID: a.marketoGUID,
          primaryAttributeValue: a.primaryAttributeValue,
        }))
    );
  }
  async findLeads(filterType: 'sfdcLeadId' | 'sfdcContactId' | 'email', values: readonly string[]) {
    if (values.length === 0) return [];
    this.count(`leads:${filterType}`);
    const wanted = new Set(values.map((v) => v.toLowerCase()));
    return this.leads.filter((l) => {
      const v = l[filterType];
      return typeof v === 'string' && wanted.has(v.toLowerCase());
    });
  }
}

export class InMemoryStore implements SalesActivityStore {
  watermark: string | undefined;
  readonly ledger = new Map<string, SalesActivityLedgerEntry>();
  readonly leases = new Map<string, { owner: string; until: number }>();
  /** Throws on the n-th putLedger call (1-based), to simulate a crash. */
  failOnPut: number | undefined;
  private puts = 0;
  async getWatermark() {
    return this.watermark;
  }
  async putWatermark(iso: string) {
    this.watermark = iso;
  }
  async getLedger(ids: readonly string[]) {
    const out = new Map<string, SalesActivityLedgerEntry>();
    for (const id of ids) {
      const e = this.ledger.get(id);
      if (e) out.set(id, { ...e });
    }
    return out;
  }
  async putLedger(entries: readonly SalesActivityLedgerEntry[]) {
    this.puts += 1;
    if (this.failOnPut === this.puts) throw new Error('simulated crash');
    for (const e of entries) this.ledger.set(e.recordId, { ...e });
  }
  readonly pending = new Map<string, string>();
  async pendingRecords() {
    return new Map(this.pending);
  }
  async updatePending(put: readonly { recordId: string; keepUntil: string }[], remove: readonly string[]) {
    for (const id of remove) this.pending.delete(id);
    for (const p of put) this.pending.set(p.recordId, p.keepUntil);
  }
  async tryLease(name: string, owner: string, ttlMs: number) {
    const held = this.leases.get(name);
    if (held && held.owner !== owner && held.until > Date.now()) return false;
    this.leases.set(name, { owner, until: Date.now() + ttlMs });
    return true;
  }
  async releaseLease(name: string, owner: string) {
    if (this.leases.get(name)?.owner === owner) this.leases.delete(name);
  }
}
