import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  FAILURE_TTL_SECONDS,
  type FailureInput,
  type FailureRecord,
  type FailureStore,
  type RedriveState,
} from '../../ports/failure-store.js';
import { batchGetAll } from './batch.js';

/** Why each message failed, keyed by (queue, SQS MessageId), which SQS keeps when it moves a message to the DLQ. */
export class DynamoDbFailureStore implements FailureStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Adds one failure: the latest error wins, the first failure time and the count accumulate. */
  async record(input: FailureInput): Promise<void> {
    const nowMs = this.now();
    const at = new Date(nowMs).toISOString();
    const { queue, messageId, ...rest } = input;
    const set: Record<string, unknown> = {
      ...rest,
      lastFailedAt: at,
      expiresAt: Math.floor(nowMs / 1000) + FAILURE_TTL_SECONDS,
    };
    const names: Record<string, string> = { '#first': 'firstFailedAt', '#failures': 'failures' };
    const values: Record<string, unknown> = { ':at': at, ':one': 1 };
    const parts = ['#first = if_not_exists(#first, :at)'];
    Object.entries(set).forEach(([k, v], i) => {
      if (v === undefined) return;
      names[`#f${i}`] = k;
      values[`:v${i}`] = v;
      parts.push(`#f${i} = :v${i}`);
    });
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { queue, messageId },
        UpdateExpression: `SET ${parts.join(', ')} ADD #failures :one`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  async get(queue: string, messageId: string): Promise<FailureRecord | undefined> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { queue, messageId }, ConsistentRead: true }),
    );
    return res.Item as FailureRecord | undefined;
  }

  async getMany(keys: { queue: string; messageId: string }[]): Promise<Map<string, FailureRecord>> {
    const unique = [...new Map(keys.map((k) => [`${k.queue}#${k.messageId}`, k])).values()];
    const items = await batchGetAll<FailureRecord>(
      this.doc,
      this.table,
      unique.map(({ queue, messageId }) => ({ queue, messageId })),
    );
    return new Map(items.map((i) => [`${i.queue}#${i.messageId}`, i]));
  }

  /**
   * Notes that a redrive of this message is about to send its copy. A later redrive that finds
   * `sending` without a `newMessageId` does not know whether the copy went out, and sends again
   * (harmless: every consumer is idempotent); one that finds `sent` only deletes the DLQ copy.
   */
  async redriveStarted(queue: string, messageId: string): Promise<void> {
    const nowMs = this.now();
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { queue, messageId },
        UpdateExpression: 'SET #r = :r, expiresAt = if_not_exists(expiresAt, :exp)',
        ConditionExpression: 'attribute_not_exists(#r.newMessageId)',
        ExpressionAttributeNames: { '#r': 'redrive' },
        ExpressionAttributeValues: {
          ':r': { state: 'sending', startedAt: new Date(nowMs).toISOString() } satisfies RedriveState,
          ':exp': Math.floor(nowMs / 1000) + FAILURE_TTL_SECONDS,
        },
      }),
    );
  }

  /** The copy is on the source queue under `newMessageId`. */
  async redriveSent(queue: string, messageId: string, newMessageId: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { queue, messageId },
        UpdateExpression: 'SET #r.#s = :sent, #r.newMessageId = :id, #r.sentAt = :at',
        ExpressionAttributeNames: { '#r': 'redrive', '#s': 'state' },
        ExpressionAttributeValues: {
          ':sent': 'sent',
          ':id': newMessageId,
          ':at': new Date(this.now()).toISOString(),
        },
      }),
    );
  }
}
