import { type DynamoDBDocumentClient, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { LedgerEntry } from '../../domain/ledger-entry.js';
import type { LedgerStore } from '../../ports/ledger-store.js';
import { batchGetAll } from './batch.js';
import { isConditionalCheckFailed } from './conditional-check.js';

/** marketoGUID → Task Id. A retry consults it first, so no activity is ever written twice. */
export class DynamoDbLedgerStore implements LedgerStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async getMany(guids: string[]): Promise<Map<string, LedgerEntry>> {
    const unique = [...new Set(guids)];
    const items = await batchGetAll<LedgerEntry>(
      this.doc,
      this.table,
      unique.map((marketoGUID) => ({ marketoGUID })),
    );
    return new Map(items.map((i) => [i.marketoGUID, i]));
  }

  /**
   * Claims an activity before creating its Task (ledger mode). The claim is a lease: while another
   * attempt holds a live one (a redelivered copy of the same message still running), the claim
   * fails. `hadAttempt` says an earlier attempt got this far, so its Task may exist: look it up
   * before creating.
   */
  async claim(
    entry: Omit<LedgerEntry, 'status' | 'updatedAt'>,
    owner: string,
    leaseMs: number,
    now = Date.now(),
  ): Promise<{ claimed: boolean; hadAttempt: boolean }> {
    try {
      const res = await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...entry,
            status: 'pending',
            owner,
            leaseUntil: now + leaseMs,
            updatedAt: new Date(now).toISOString(),
          },
          ConditionExpression:
            'attribute_not_exists(marketoGUID) OR (#s = :pending AND (leaseUntil < :now OR #o = :owner))',
          ExpressionAttributeNames: { '#s': 'status', '#o': 'owner' },
          ExpressionAttributeValues: { ':pending': 'pending', ':now': now, ':owner': owner },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return { claimed: true, hadAttempt: res.Attributes !== undefined };
    } catch (err) {
      if (isConditionalCheckFailed(err)) return { claimed: false, hadAttempt: true };
      throw err;
    }
  }

  /** Ends this attempt's lease on an entry it did not settle, so the next attempt need not wait. */
  async release(marketoGUID: string, owner: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { marketoGUID },
          UpdateExpression: 'SET leaseUntil = :zero',
          ConditionExpression: '#s = :pending AND #o = :owner',
          ExpressionAttributeNames: { '#s': 'status', '#o': 'owner' },
          ExpressionAttributeValues: { ':zero': 0, ':pending': 'pending', ':owner': owner },
        }),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
    }
  }

  /** Records the Task; true only for the write that moved the entry to done (counts stay exact). */
  async markDone(entry: Omit<LedgerEntry, 'status' | 'updatedAt'> & { taskId: string }): Promise<boolean> {
    return this.conditionalPut(
      { ...entry, status: 'done' },
      'attribute_not_exists(marketoGUID) OR #s <> :done',
    );
  }

  /** Records a permanent refusal; never overwrites a done entry. */
  async markFailed(entry: Omit<LedgerEntry, 'status' | 'updatedAt'> & { reason: string }): Promise<boolean> {
    return this.conditionalPut(
      { ...entry, status: 'failed' },
      'attribute_not_exists(marketoGUID) OR #s <> :done',
    );
  }

  /** Records that no Task is due; true only the first time (so skip counts stay exact under redelivery). */
  async markSkipped(entry: Omit<LedgerEntry, 'status' | 'updatedAt'> & { reason: string }): Promise<boolean> {
    return this.conditionalPut({ ...entry, status: 'skipped' }, 'attribute_not_exists(marketoGUID)');
  }

  /**
   * Our Task was deleted (its Marketo lead was deleted and onLeadDeleted is deleteTask): the entry
   * becomes skipped with the reason, so a re-read of the activity never writes it again.
   */
  async markTaskDeleted(marketoGUID: string, reason: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { marketoGUID },
        UpdateExpression: 'SET #s = :skipped, reason = :reason, updatedAt = :now',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: {
          ':skipped': 'skipped',
          ':reason': reason,
          ':now': new Date().toISOString(),
        },
      }),
    );
  }

  /** Every entry (for verify); pages through the whole table. */
  async *scanAll(): AsyncGenerator<LedgerEntry> {
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const res = await this.doc.send(new ScanCommand({ TableName: this.table, ExclusiveStartKey }));
      for (const item of res.Items ?? []) yield item as LedgerEntry;
      ExclusiveStartKey = res.LastEvaluatedKey;
    } while (ExclusiveStartKey);
  }

  private async conditionalPut(item: Omit<LedgerEntry, 'updatedAt'>, condition: string): Promise<boolean> {
    const values: Record<string, string> = {};
    if (condition.includes(':pending')) values[':pending'] = 'pending';
    if (condition.includes(':done')) values[':done'] = 'done';
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...item, updatedAt: new Date().toISOString() },
          ConditionExpression: condition,
          ...(condition.includes('#s') ? { ExpressionAttributeNames: { '#s': 'status' } } : {}),
          ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw err;
    }
  }
}
