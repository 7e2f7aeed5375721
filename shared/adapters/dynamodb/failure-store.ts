import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { batchGetAll } from './batch.js';

/** What is known about a failed message's body without personal data (counts, ids, kinds). */
export type BodySummary = Record<string, string | number | boolean | Record<string, number>>;

/** One failure of one SQS message, as the consumer saw it. Never carries an email or a secret. */
export interface FailureInput {
  /** Queue key (`fetch` | `write` | `unsubscribe`), not the deployed name. */
  queue: string;
  messageId: string;
  /** SQS ApproximateReceiveCount when it failed. */
  attempts: number;
  error: { name: string; message: string };
  /** Marketo error code (e.g. `1003`) or Salesforce errorCode (e.g. `INVALID_FIELD`). */
  vendorCode?: string;
  /** Marketo requestId, or the Salesforce Bulk API job id. */
  requestId?: string;
  /** True when the failure is expected to clear by itself (throttling, locks, timeouts). */
  retryable?: boolean;
  body: BodySummary;
  /** When the message was first sent (SQS SentTimestamp), ISO. */
  sentAt?: string;
  /** Message id this one was redriven from (a message that dead-lettered before). */
  redrivenFrom?: string;
  /** The queue ARN the message came from (its redrive target). */
  sourceArn?: string;
}

export interface RedriveState {
  state: 'sending' | 'sent';
  startedAt: string;
  /** The copy's MessageId on the source queue, once SendMessage returned. */
  newMessageId?: string;
  sentAt?: string;
}

/**
 * A stored record. The failure fields are absent when no failure was recorded (the consumer died
 * or timed out first) and a redrive created the record to note its progress.
 */
export interface FailureRecord extends Partial<Omit<FailureInput, 'queue' | 'messageId'>> {
  queue: string;
  messageId: string;
  /** Failures recorded for this message (one per failed receive that reached the handler). */
  failures?: number;
  firstFailedAt?: string;
  lastFailedAt?: string;
  /** Epoch seconds: DynamoDB TTL removes the record after the dead-letter retention (14 days) has passed. */
  expiresAt: number;
  redrive?: RedriveState;
}

/** Records outlive the dead-letter queue's 14-day retention by a day. */
export const FAILURE_TTL_SECONDS = 15 * 86_400;

/** Why each message failed, keyed by (queue, SQS MessageId), which SQS keeps when it moves a message to the DLQ. */
export class FailureStore {
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
