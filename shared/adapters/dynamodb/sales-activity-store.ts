import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { SalesActivityLedgerEntry, SalesActivityStore } from '../../ports/sales-activity-store.js';
import { batchGetAll, batchPutAll } from './batch.js';
import { isConditionalCheckFailed } from './conditional-check.js';

/**
 * Job 4a's state in one table (TABLES.salesActivity, partition key `pk`):
 * `WATERMARK` — the SystemModstamp watermark; `REC#<Salesforce id>` — the ledger entry;
 * `LEASE#<name>` — who sets up the custom activity type (conditional put with an expiry).
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
