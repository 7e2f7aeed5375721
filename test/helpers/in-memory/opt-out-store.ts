import {
  emptyOptOutState,
  type HistoryEntry,
  historySortKey,
  type OptOutState,
} from '../../../shared/domain/opt-out-state.js';
import {
  WEBHOOK_EVENT_STATUS_ORDER,
  type WebhookEventRecord,
  type WebhookEventStatus,
} from '../../../shared/domain/webhook-event.js';
import type { OptOutStore, StateUpdate, UpdateResult } from '../../../shared/ports/opt-out-store.js';

/** Stored values are plain data: JSON drops `undefined`, as the DynamoDB adapter does. */
const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/**
 * OptOutStore in memory. One process and no awaits inside a write, so every update is atomic and
 * needs no retry (the DynamoDB adapter retries on a lost conditional write).
 */
export class InMemoryOptOutStore implements OptOutStore {
  private readonly states = new Map<string, { state: OptOutState; version: number }>();
  private readonly histories = new Map<string, Map<string, HistoryEntry>>();
  private readonly events = new Map<string, WebhookEventRecord>();

  constructor(private readonly options: { now?: () => Date } = {}) {}

  private now(): string {
    return (this.options.now?.() ?? new Date()).toISOString();
  }

  async get(key: string): Promise<{ state: OptOutState; version: number } | undefined> {
    const item = this.states.get(key);
    return item ? plain(item) : undefined;
  }

  async getMany(keys: readonly string[]): Promise<Map<string, { state: OptOutState; version: number }>> {
    const out = new Map<string, { state: OptOutState; version: number }>();
    for (const key of keys) {
      const item = this.states.get(key);
      if (item) out.set(key, plain(item));
    }
    return out;
  }

  async update(
    key: string,
    change: (current: OptOutState, version: number) => StateUpdate | undefined,
  ): Promise<UpdateResult> {
    const item = this.states.get(key);
    const version = item?.version ?? 0;
    const current = item ? plain(item.state) : emptyOptOutState(key, this.now());
    const next = change(current, version);
    if (!next) return { state: current, version, history: [], changed: false, attempts: 1 };
    const state: OptOutState = plain({ ...next.state, email: key, updatedAt: this.now() });
    this.states.set(key, { state, version: version + 1 });
    this.put(key, next.history);
    return { state: plain(state), version: version + 1, history: next.history, changed: true, attempts: 1 };
  }

  async appendHistory(key: string, entries: HistoryEntry[]): Promise<void> {
    this.put(key, entries);
  }

  async history(key: string): Promise<HistoryEntry[]> {
    const entries = this.histories.get(key) ?? new Map<string, HistoryEntry>();
    return [...entries.keys()].sort().flatMap((sk) => {
      const entry = entries.get(sk);
      return entry ? [plain(entry)] : [];
    });
  }

  async claimEvent(
    key: string,
    event: Omit<WebhookEventRecord, 'status' | 'updatedAt'>,
  ): Promise<{ claimed: true; event: WebhookEventRecord } | { claimed: false; event: WebhookEventRecord }> {
    const existing = this.events.get(`${key}#${event.eventId}`);
    if (existing) return { claimed: false, event: plain(existing) };
    const record: WebhookEventRecord = plain({ ...event, status: 'accepted', updatedAt: this.now() });
    this.events.set(`${key}#${event.eventId}`, record);
    return { claimed: true, event: plain(record) };
  }

  async getEvent(key: string, eventId: string): Promise<WebhookEventRecord | undefined> {
    const event = this.events.get(`${key}#${eventId}`);
    return event ? plain(event) : undefined;
  }

  async setEventStatus(
    key: string,
    eventId: string,
    status: WebhookEventStatus,
    extra: Partial<Pick<WebhookEventRecord, 'appliedAt' | 'written'>> = {},
  ): Promise<void> {
    const event = this.events.get(`${key}#${eventId}`);
    if (!event) return;
    const later = WEBHOOK_EVENT_STATUS_ORDER.slice(WEBHOOK_EVENT_STATUS_ORDER.indexOf(status) + 1);
    if (later.includes(event.status)) return;
    const defined = Object.fromEntries(Object.entries(extra).filter(([, v]) => v !== undefined));
    this.events.set(`${key}#${eventId}`, { ...event, ...defined, status, updatedAt: this.now() });
  }

  /** Items the DynamoDB table would hold (states, history entries, events): a test's "wrote nothing" check. */
  itemCount(): number {
    let n = this.states.size + this.events.size;
    for (const h of this.histories.values()) n += h.size;
    return n;
  }

  private put(key: string, entries: HistoryEntry[]): void {
    const history = this.histories.get(key) ?? new Map<string, HistoryEntry>();
    for (const e of entries) history.set(historySortKey(e), plain(e));
    this.histories.set(key, history);
  }
}
