/** Message attributes as plain values: strings are sent as `String`, numbers as `Number`. */
export type MessageAttributes = Readonly<Record<string, string | number>>;

export interface SendOptions {
  /** Seconds before the messages become visible (0–900). */
  delaySeconds?: number;
  /** Attributes attached to every message of this call. */
  messageAttributes?: MessageAttributes;
}

/**
 * Sends JSON messages to a queue. The SQS implementation (sqs-message-sender.ts) batches with
 * SendMessageBatch, retries entries listed in `Failed`, and throws if any entry still failed:
 * a message we accepted is never silently dropped.
 */
export interface MessageSender {
  /** Sends every body (each serialised to JSON, each ≤ 256 KB) or throws. */
  send(queueUrl: string, bodies: unknown[], options?: SendOptions): Promise<void>;
}
