import { BatchGetCommand, BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const GET_CHUNK = 100;
const WRITE_CHUNK = 25;
const MAX_ROUNDS = 8;

export class UnprocessedItemsError extends Error {
  override readonly name = 'UnprocessedItemsError';
  constructor(operation: string, table: string, count: number) {
    super(
      `${operation} on ${table} left ${count} item(s) unprocessed after ${MAX_ROUNDS} rounds; retry the whole operation later.`,
    );
  }
}

const pause = (round: number) =>
  new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** round * Math.random())));

/** BatchGetItem in chunks of 100, re-asking for `UnprocessedKeys` until none are left. */
export async function batchGetAll<T>(
  doc: DynamoDBDocumentClient,
  table: string,
  keys: Record<string, unknown>[],
  options: { consistentRead?: boolean } = {},
): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < keys.length; i += GET_CHUNK) {
    let pending: Record<string, unknown>[] = keys.slice(i, i + GET_CHUNK);
    for (let round = 0; pending.length > 0; round++) {
      if (round >= MAX_ROUNDS) throw new UnprocessedItemsError('BatchGetItem', table, pending.length);
      if (round > 0) await pause(round);
      const res = await doc.send(
        new BatchGetCommand({
          RequestItems: {
            [table]: { Keys: pending, ...(options.consistentRead ? { ConsistentRead: true } : {}) },
          },
        }),
      );
      out.push(...((res.Responses?.[table] ?? []) as T[]));
      pending = (res.UnprocessedKeys?.[table]?.Keys ?? []) as Record<string, unknown>[];
    }
  }
  return out;
}

/** BatchWriteItem (puts) in chunks of 25, resending `UnprocessedItems` until none are left. */
export async function batchPutAll(
  doc: DynamoDBDocumentClient,
  table: string,
  items: Record<string, unknown>[],
): Promise<void> {
  for (let i = 0; i < items.length; i += WRITE_CHUNK) {
    let pending = items.slice(i, i + WRITE_CHUNK).map((Item) => ({ PutRequest: { Item } }));
    for (let round = 0; pending.length > 0; round++) {
      if (round >= MAX_ROUNDS) throw new UnprocessedItemsError('BatchWriteItem', table, pending.length);
      if (round > 0) await pause(round);
      const res = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
      pending = (res.UnprocessedItems?.[table] ?? []) as typeof pending;
    }
  }
}

/** BatchWriteItem (deletes) in chunks of 25, resending `UnprocessedItems` until none are left. */
export async function batchDeleteAll(
  doc: DynamoDBDocumentClient,
  table: string,
  keys: Record<string, unknown>[],
): Promise<void> {
  for (let i = 0; i < keys.length; i += WRITE_CHUNK) {
    let pending = keys.slice(i, i + WRITE_CHUNK).map((Key) => ({ DeleteRequest: { Key } }));
    for (let round = 0; pending.length > 0; round++) {
      if (round >= MAX_ROUNDS) throw new UnprocessedItemsError('BatchWriteItem', table, pending.length);
      if (round > 0) await pause(round);
      const res = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
      pending = (res.UnprocessedItems?.[table] ?? []) as typeof pending;
    }
  }
}
