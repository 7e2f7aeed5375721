import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type {
  PendingActivity,
  PendingActivityStore,
  PendingKey,
} from '../../ports/pending-activity-store.js';
import { batchDeleteAll, batchGetAll, batchPutAll } from './batch.js';

/** Partitions the pending items are spread over (one Query each lists every pending lead). */
const SHARDS = 16;

interface PendingItem {
  pk: string;
  sk: string;
  leadId: number;
  activity?: PendingActivity;
  /** Epoch seconds: DynamoDB TTL deletes it in AWS; reads ignore expired items everywhere. */
  expiresAt: number;
}

const keyOf = (k: PendingKey) => ({ pk: `P#${k.leadId % SHARDS}`, sk: `${k.leadId}#${k.marketoGUID}` });

/** PendingActivityStore on one DynamoDB table (pk P#<leadId mod 16>, sk <leadId>#<marketoGUID>). */
export class DynamoDbPendingActivityStore implements PendingActivityStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly now: () => number = Date.now,
  ) {}

  async put(items: { activity: PendingActivity; keepUntil: Date }[]): Promise<void> {
    const unique = new Map<string, PendingItem>();
    for (const { activity, keepUntil } of items) {
      const key = keyOf(activity);
      unique.set(key.sk, {
        ...key,
        leadId: activity.leadId,
        activity,
        expiresAt: Math.floor(keepUntil.getTime() / 1000),
      });
    }
    await batchPutAll(this.doc, this.table, [...unique.values()] as unknown as Record<string, unknown>[]);
  }

  async waiting(): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    for (let shard = 0; shard < SHARDS; shard++) {
      for await (const item of this.query(`P#${shard}`, undefined, 'leadId, expiresAt'))
        out.set(item.leadId, (out.get(item.leadId) ?? 0) + 1);
    }
    return out;
  }

  async forLeads(leadIds: number[]): Promise<PendingActivity[]> {
    const out: PendingActivity[] = [];
    for (const leadId of new Set(leadIds)) {
      for await (const item of this.query(`P#${leadId % SHARDS}`, `${leadId}#`))
        if (item.activity) out.push(item.activity);
    }
    return out;
  }

  async pendingOf(keys: PendingKey[]): Promise<Set<string>> {
    const unique = new Map(keys.map((k) => [keyOf(k).sk, keyOf(k)]));
    const items = await batchGetAll<PendingItem>(this.doc, this.table, [...unique.values()]);
    const nowSec = Math.floor(this.now() / 1000);
    return new Set(items.filter((i) => i.expiresAt > nowSec).map((i) => i.sk.slice(i.sk.indexOf('#') + 1)));
  }

  async remove(keys: PendingKey[]): Promise<void> {
    const unique = new Map(keys.map((k) => [keyOf(k).sk, keyOf(k)]));
    await batchDeleteAll(this.doc, this.table, [...unique.values()]);
  }

  private async *query(pk: string, skPrefix?: string, projection?: string): AsyncGenerator<PendingItem> {
    const nowSec = Math.floor(this.now() / 1000);
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const res = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: skPrefix ? 'pk = :pk AND begins_with(sk, :sk)' : 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pk, ...(skPrefix ? { ':sk': skPrefix } : {}) },
          ...(projection ? { ProjectionExpression: projection } : {}),
          ExclusiveStartKey,
        }),
      );
      for (const item of (res.Items ?? []) as PendingItem[]) if (item.expiresAt > nowSec) yield item;
      ExclusiveStartKey = res.LastEvaluatedKey;
    } while (ExclusiveStartKey);
  }
}
