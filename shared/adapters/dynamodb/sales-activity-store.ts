import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { SalesActivityLedgerEntry, SalesActivityStore } from '../../ports/sales-activity-store.js';
import { batchGetAll, batchPutAll } from './batch.js';
import { isConditionalCheckFailed } from './conditional-check.js';

/**
 * Job 4a's state in one table (TABLES.salesActivity, partition key `pk`):
 * `WATERMARK` — the SystemModstamp watermark; `REC#<Salesforce id>` — the ledger entry;
 * `LEASE#<name>` — who sets up the custom activity type (conditional put with an expiry);
 * `PENDING#<0..15>` — records waiting for a Marketo lead, a map record Id → keep-until in each of
 * 16 shard items (no Scan or Query needed; about 6,000 records a shard under the 400 KB item limit),
 * written with a version check so concurrent runs never lose an entry.
 */
const ledgerItem = z.object({
  pk: z.string(),
  recordId: z.string(),
  state: z.enum(['sending', 'added', 'rejected']),
  leadId: z.number().int(),
  sentAt: z.string(),
  activityDate: z.string(),
  systemModstamp: z.string(),
  marketoGUID: z.string().optional(),
});

const recKey = (id: string) => `REC#${id}`;
const PENDING_SHARDS = 16;
const pendingShard = (id: string) => {
  let h = 0;
  for (const ch of id) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return `PENDING#${h % PENDING_SHARDS}`;
};
const pendingItem = z.object({
  pk: z.string(),
  version: z.number().int(),
  records: z.record(z.string(), z.string()),
});

export class DynamoDbSalesActivityStore implements SalesActivityStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly clock: () => number = Date.now,
  ) {}

  async getWatermark(): Promise<string | undefined> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: 'WATERMARK' }, ConsistentRead: true }),
    );
    const value = res.Item?.watermark;
    return typeof value === 'string' ? value : undefined;
  }

  async putWatermark(iso: string): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.table, Item: { pk: 'WATERMARK', watermark: iso } }));
  }

  async getLedger(recordIds: readonly string[]): Promise<Map<string, SalesActivityLedgerEntry>> {
    const unique = [...new Set(recordIds)];
    const items = await batchGetAll<unknown>(
      this.doc,
      this.table,
      unique.map((id) => ({ pk: recKey(id) })),
    );
    const out = new Map<string, SalesActivityLedgerEntry>();
    for (const raw of items) {
      const { pk: _pk, ...entry } = ledgerItem.parse(raw);
      out.set(entry.recordId, entry);
    }
    return out;
  }

  async putLedger(entries: readonly SalesActivityLedgerEntry[]): Promise<void> {
    await batchPutAll(
      this.doc,
      this.table,
      entries.map((e) => ({ pk: recKey(e.recordId), ...e })),
    );
  }

  async pendingRecords(): Promise<Map<string, string>> {
    const items = await batchGetAll<unknown>(
      this.doc,
      this.table,
      Array.from({ length: PENDING_SHARDS }, (_, i) => ({ pk: `PENDING#${i}` })),
    );
    const out = new Map<string, string>();
    for (const raw of items)
      for (const [id, until] of Object.entries(pendingItem.parse(raw).records)) out.set(id, until);
    return out;
  }

  async updatePending(
    put: readonly { recordId: string; keepUntil: string }[],
    remove: readonly string[],
  ): Promise<void> {
    const byShard = new Map<string, { put: Map<string, string>; remove: string[] }>();
    const shard = (id: string) => {
      const key = pendingShard(id);
      const s = byShard.get(key) ?? { put: new Map<string, string>(), remove: [] };
      byShard.set(key, s);
      return s;
    };
    for (const p of put) shard(p.recordId).put.set(p.recordId, p.keepUntil);
    for (const id of remove) shard(id).remove.push(id);
    for (const [pk, change] of byShard) {
      for (let attempt = 0; ; attempt++) {
        const res = await this.doc.send(
          new GetCommand({ TableName: this.table, Key: { pk }, ConsistentRead: true }),
        );
        const current = res.Item ? pendingItem.parse(res.Item) : { pk, version: 0, records: {} };
        const records: Record<string, string> = { ...current.records };
        for (const id of change.remove) delete records[id];
        for (const [id, until] of change.put) records[id] = until;
        try {
          await this.doc.send(
            new PutCommand({
              TableName: this.table,
              Item: { pk, version: current.version + 1, records },
              ConditionExpression: 'attribute_not_exists(pk) OR version = :v',
              ExpressionAttributeValues: { ':v': current.version },
            }),
          );
          break;
        } catch (err) {
          // Another run changed the shard between the read and the write: read it again.
          if (!isConditionalCheckFailed(err) || attempt >= 9) throw err;
        }
      }
    }
  }

  async tryLease(name: string, owner: string, ttlMs: number): Promise<boolean> {
    const now = this.clock();
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: `LEASE#${name}`, owner, expiresAtMs: now + ttlMs },
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAtMs < :now OR #owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':now': now, ':owner': owner },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw err;
    }
  }

  /** Expires the lease (UpdateItem, not DeleteItem: the function's role may not delete items). */
  async releaseLease(name: string, owner: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `LEASE#${name}` },
          UpdateExpression: 'SET expiresAtMs = :expired',
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner, ':expired': 0 },
        }),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
    }
  }
}
