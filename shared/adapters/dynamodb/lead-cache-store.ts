import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetAll, batchPutAll } from './batch.js';

/** What the write path needs to know about a Marketo lead. */
export interface CachedLead {
  leadId: number;
  /** false when Marketo has no such lead (deleted or never existed). */
  exists: boolean;
  sfdcType?: string | null;
  sfdcLeadId?: string | null;
  sfdcContactId?: string | null;
  /** Only read with activities.unlinkedLeads = matchByEmail (unlinked leads are never cached). */
  email?: string | null;
  /** A negative answer (no link, no lead) is cached for the run that asked only: its id. */
  forRun?: string;
  /** The Contact Salesforce converted `sfdcLeadId` into (Marketo may still say sfdcType Lead). */
  convertedContactId?: string | null;
}

interface LeadCacheItem extends Omit<CachedLead, 'leadId'> {
  leadId: string;
  /** Epoch seconds; DynamoDB TTL deletes it in AWS, and reads ignore expired items everywhere. */
  expiresAt: number;
}

/** Lead → Salesforce link cache, so each lead costs at most one Marketo call per TTL. */
export class LeadCacheStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  async getMany(leadIds: number[]): Promise<Map<number, CachedLead>> {
    if (this.ttlSeconds === 0) return new Map();
    const unique = [...new Set(leadIds)];
    const items = await batchGetAll<LeadCacheItem>(
      this.doc,
      this.table,
      unique.map((id) => ({ leadId: String(id) })),
    );
    const nowSec = Math.floor(this.now() / 1000);
    const out = new Map<number, CachedLead>();
    for (const { expiresAt, leadId, ...rest } of items) {
      if (expiresAt > nowSec) out.set(Number(leadId), { leadId: Number(leadId), ...rest });
    }
    return out;
  }

  async putMany(leads: CachedLead[]): Promise<void> {
    if (this.ttlSeconds === 0 || leads.length === 0) return;
    const expiresAt = Math.floor(this.now() / 1000) + this.ttlSeconds;
    await batchPutAll(
      this.doc,
      this.table,
      leads.map((l) => ({ ...l, leadId: String(l.leadId), expiresAt })),
    );
  }
}
