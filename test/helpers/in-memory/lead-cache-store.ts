import type { CachedLead } from '../../../shared/domain/lead-link.js';
import type { LeadCacheStore } from '../../../shared/ports/lead-cache-store.js';

/** LeadCacheStore in memory: entries expire after `ttlSeconds` (0: the cache is off), like the DynamoDB one. */
export class InMemoryLeadCacheStore implements LeadCacheStore {
  private readonly items = new Map<number, { lead: CachedLead; expiresAt: number }>();

  constructor(
    private readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  async getMany(leadIds: number[]): Promise<Map<number, CachedLead>> {
    const out = new Map<number, CachedLead>();
    if (this.ttlSeconds === 0) return out;
    const nowSec = Math.floor(this.now() / 1000);
    for (const id of new Set(leadIds)) {
      const item = this.items.get(id);
      if (item && item.expiresAt > nowSec) out.set(id, structuredClone(item.lead));
    }
    return out;
  }

  async putMany(leads: CachedLead[]): Promise<void> {
    if (this.ttlSeconds === 0) return;
    const expiresAt = Math.floor(this.now() / 1000) + this.ttlSeconds;
    for (const lead of leads) this.items.set(lead.leadId, { lead: structuredClone(lead), expiresAt });
  }
}
