import type { CachedLead } from '../domain/lead-link.js';

/** Lead → Salesforce link cache, so each lead costs at most one Marketo call per TTL (TTL 0: off). */
export interface LeadCacheStore {
  /** The unexpired entries for these leads. */
  getMany(leadIds: number[]): Promise<Map<number, CachedLead>>;
  putMany(leads: CachedLead[]): Promise<void>;
}
