import {
  FAILURE_TTL_SECONDS,
  type FailureInput,
  type FailureRecord,
  type FailureStore,
} from '../../../shared/ports/failure-store.js';

const keyOf = (queue: string, messageId: string) => `${queue}#${messageId}`;

/** FailureStore in memory, accumulating like the DynamoDB one. */
export class InMemoryFailureStore implements FailureStore {
  private readonly items = new Map<string, FailureRecord>();

  constructor(private readonly now: () => number = Date.now) {}

  async record(input: FailureInput): Promise<void> {
    const nowMs = this.now();
    const at = new Date(nowMs).toISOString();
    const key = keyOf(input.queue, input.messageId);
    const old = this.items.get(key);
    const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
    this.items.set(
      key,
      structuredClone({
        ...old,
        ...defined,
        queue: input.queue,
        messageId: input.messageId,
        firstFailedAt: old?.firstFailedAt ?? at,
        lastFailedAt: at,
        expiresAt: Math.floor(nowMs / 1000) + FAILURE_TTL_SECONDS,
        failures: (old?.failures ?? 0) + 1,
      }),
    );
  }

  async get(queue: string, messageId: string): Promise<FailureRecord | undefined> {
    const item = this.items.get(keyOf(queue, messageId));
    return item ? structuredClone(item) : undefined;
  }

  async getMany(keys: { queue: string; messageId: string }[]): Promise<Map<string, FailureRecord>> {
    const out = new Map<string, FailureRecord>();
    for (const { queue, messageId } of keys) {
      const item = this.items.get(keyOf(queue, messageId));
      if (item) out.set(keyOf(queue, messageId), structuredClone(item));
    }
    return out;
  }

  async redriveStarted(queue: string, messageId: string): Promise<void> {
    const nowMs = this.now();
    const old = this.items.get(keyOf(queue, messageId));
    if (old?.redrive?.newMessageId !== undefined) {
      throw new Error(`Message ${messageId} was already redriven; delete its dead-letter copy only.`);
    }
    this.items.set(keyOf(queue, messageId), {
      ...(old ?? { queue, messageId }),
      expiresAt: old?.expiresAt ?? Math.floor(nowMs / 1000) + FAILURE_TTL_SECONDS,
      redrive: { state: 'sending', startedAt: new Date(nowMs).toISOString() },
    });
  }

  async redriveSent(queue: string, messageId: string, newMessageId: string): Promise<void> {
    const redrive = this.items.get(keyOf(queue, messageId))?.redrive;
    if (!redrive) throw new Error(`Message ${messageId} has no redrive in progress; start one first.`);
    Object.assign(redrive, { state: 'sent', newMessageId, sentAt: new Date(this.now()).toISOString() });
  }
}
