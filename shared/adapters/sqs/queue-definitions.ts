/**
 * Every queue, in one place: the CDK stateful stack and the embedded default (fauxqs) create
 * the same queues, each with its dead-letter queue, from this list.
 */
export interface QueueDefinition {
  readonly envVar: string;
  readonly localName: string;
  /** Seconds a received message stays invisible (≥ 6 × the consumer's timeout in AWS). */
  readonly visibilityTimeoutSeconds: number;
  /** Receives before a message moves to the dead-letter queue. */
  readonly maxReceiveCount: number;
}

/**
 * How the unsubscribe consumer takes its messages, deployed (the Lambda event source) and in the
 * local `serve` alike: a burst is applied in batches of up to 1,000 (vendor calls per batch, not
 * per person); SQS allows a batch over 10 only with a batching window, and the window is what
 * lets a burst arriving over a few seconds form one batch instead of several.
 */
export const UNSUBSCRIBE_CONSUMER = {
  batchSize: 1000,
  maxBatchingWindowSeconds: 2,
  maxConcurrency: 2,
} as const;

export const QUEUES = {
  /** One message per activity page to fetch (stream, window, paging token). */
  fetch: {
    envVar: 'FETCH_QUEUE_URL',
    localName: 'sync-fetch',
    visibilityTimeoutSeconds: 360,
    maxReceiveCount: 5,
  },
  /** Activities to write as Tasks, many per message (≤ 256 KB). */
  write: {
    envVar: 'WRITE_QUEUE_URL',
    localName: 'sync-write',
    visibilityTimeoutSeconds: 540,
    maxReceiveCount: 5,
  },
  /**
   * "Tasks were staged": delayed signals that wake the Bulk flush once staging has been quiet
   * (consumer timeout 15 min: a Bulk job is waited for in one invocation).
   */
  flush: {
    envVar: 'FLUSH_QUEUE_URL',
    localName: 'sync-flush',
    visibilityTimeoutSeconds: 5400,
    maxReceiveCount: 5,
  },
  /**
   * Accepted webhook unsubscribes to apply to Salesforce (and Marketo), up to 1,000 per batch
   * (consumer timeout 2 min).
   */
  unsubscribe: {
    envVar: 'UNSUBSCRIBE_QUEUE_URL',
    localName: 'sync-unsubscribe',
    visibilityTimeoutSeconds: 720,
    maxReceiveCount: 8,
  },
} as const satisfies Record<string, QueueDefinition>;

export type QueueKey = keyof typeof QUEUES;

export function dlqName(def: QueueDefinition): string {
  return `${def.localName}-dlq`;
}
