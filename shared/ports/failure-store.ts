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
export interface FailureStore {
  /** Adds one failure: the latest error wins, the first failure time and the count accumulate. */
  record(input: FailureInput): Promise<void>;
  get(queue: string, messageId: string): Promise<FailureRecord | undefined>;
  /** Keyed by `<queue>#<messageId>`. */
  getMany(keys: { queue: string; messageId: string }[]): Promise<Map<string, FailureRecord>>;
  /**
   * Notes that a redrive of this message is about to send its copy. Throws when a copy was already
   * sent (a recorded `newMessageId`). A later redrive that finds `sending` without a `newMessageId`
   * does not know whether the copy went out, and sends again (harmless: every consumer is
   * idempotent); one that finds `sent` only deletes the DLQ copy.
   */
  redriveStarted(queue: string, messageId: string): Promise<void>;
  /** The copy is on the source queue under `newMessageId`. */
  redriveSent(queue: string, messageId: string, newMessageId: string): Promise<void>;
}
