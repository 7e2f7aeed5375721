import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  emptyOptOutState,
  type HistoryEntry,
  historySortKey,
  type OptOutState,
} from '../../domain/opt-out-state.js';
import {
  WEBHOOK_EVENT_STATUS_ORDER,
  type WebhookEventRecord,
  type WebhookEventStatus,
} from '../../domain/webhook-event.js';
import {
  OptOutConflictError,
  type OptOutStore,
  type StateUpdate,
  type UpdateResult,
} from '../../ports/opt-out-store.js';
import { batchGetAll, batchPutAll } from './batch.js';
import { isConditionalCheckFailed } from './conditional-check.js';

/**
 * The `optOuts` table, one partition per normalised email:
 *   STATE              the current OptOutState + `version` (every write is conditional on it)
 *   H#<at>#<id>        append-only history: every observation, every write we made, every failure
 *   E#<eventId>        one per accepted webhook event: a replayed event is applied once
 *
 * DynamoDB Local/dynalite have no transactions, so the state and its history entries are made
 * atomic with an outbox: the entries are written inside the STATE item by the same conditional
 * put, then copied to their own items (idempotent: deterministic keys), then removed from the
 * outbox. A crash in between leaves them in the outbox; the next writer copies them first.
 */

const STATE_SK = 'STATE';
const eventSk = (eventId: string) => `E#${eventId}`;

/** DynamoDB refuses `undefined`; JSON drops it (the values here are plain data). */
const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

interface StateItem extends OptOutState {
  sk: string;
  version: number;
  outbox?: HistoryEntry[];
}

export class DynamoDbOptOutStore implements OptOutStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly options: { maxAttempts?: number; now?: () => Date } = {},
  ) {}

  private now(): string {
    return (this.options.now?.() ?? new Date()).toISOString();
  }

  async get(key: string): Promise<{ state: OptOutState; version: number } | undefined> {
    const item = await this.getItem(key);
    if (!item) return undefined;
    return { state: toState(item), version: item.version };
  }

  async getMany(keys: readonly string[]): Promise<Map<string, { state: OptOutState; version: number }>> {
    const unique = [...new Set(keys)];
    const items = await batchGetAll<StateItem>(
      this.doc,
      this.table,
      unique.map((email) => ({ email, sk: STATE_SK })),
      { consistentRead: true },
    );
    return new Map(items.map((item) => [item.email, { state: toState(item), version: item.version }]));
  }

  private async getItem(key: string): Promise<StateItem | undefined> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { email: key, sk: STATE_SK }, ConsistentRead: true }),
    );
    return res.Item as StateItem | undefined;
  }

  /**
   * Optimistic read-modify-write of one person's state. `change` gets the current state (an empty
   * one for a new person) and returns the next state with the history entries that explain it, or
   * undefined when nothing changes. On a concurrent write it is called again with the new state,
   * so it must be a pure function of its input.
   */
  async update(
    key: string,
    change: (current: OptOutState, version: number) => StateUpdate | undefined,
  ): Promise<UpdateResult> {
    const maxAttempts = this.options.maxAttempts ?? 30;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const item = await this.getItem(key);
      if (item?.outbox?.length) await this.flush(key, item.outbox, item.version);
      const version = item?.version ?? 0;
      const current = item ? toState(item) : emptyOptOutState(key, this.now());
      const next = change(current, version);
      if (!next) return { state: current, version, history: [], changed: false, attempts: attempt };
      const newVersion = version + 1;
      const newItem: StateItem = plain({
        ...next.state,
        email: key,
        sk: STATE_SK,
        version: newVersion,
        updatedAt: this.now(),
        ...(next.history.length ? { outbox: next.history } : {}),
      });
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: newItem,
            ConditionExpression: item ? 'version = :v' : 'attribute_not_exists(sk)',
            ...(item ? { ExpressionAttributeValues: { ':v': version } } : {}),
          }),
        );
      } catch (err) {
        if (!isConditionalCheckFailed(err)) throw err;
        // Someone else wrote first: jittered pause, re-read, re-apply.
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(400, 5 * 2 ** attempt)));
        continue;
      }
      if (next.history.length) await this.flush(key, next.history, newVersion);
      return {
        state: toState(newItem),
        version: newVersion,
        history: next.history,
        changed: true,
        attempts: attempt,
      };
    }
    throw new OptOutConflictError(key, maxAttempts);
  }

  /** Copies outbox entries to their own items, then clears the outbox if nobody wrote since. */
  private async flush(key: string, entries: HistoryEntry[], version: number): Promise<void> {
    await batchPutAll(
      this.doc,
      this.table,
      entries.map((e) => plain({ ...e, email: key, sk: historySortKey(e) })),
    );
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { email: key, sk: STATE_SK },
          UpdateExpression: 'REMOVE outbox',
          ConditionExpression: 'version = :v',
          ExpressionAttributeValues: { ':v': version },
        }),
      );
    } catch (err) {
      // A newer write replaced the outbox already (after copying these entries).
      if (!isConditionalCheckFailed(err)) throw err;
    }
  }

  /** Appends history entries that change no state (e.g. about a webhook event not yet resolved). */
  async appendHistory(key: string, entries: HistoryEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await batchPutAll(
      this.doc,
      this.table,
      entries.map((e) => plain({ ...e, email: key, sk: historySortKey(e) })),
    );
  }

  /** Every history entry, oldest first (entries still in the outbox included). */
  async history(key: string): Promise<HistoryEntry[]> {
    const out: HistoryEntry[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const res = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'email = :e AND begins_with(sk, :h)',
          ExpressionAttributeValues: { ':e': key, ':h': 'H#' },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of res.Items ?? []) {
        const { email: _e, sk: _s, ...entry } = item;
        out.push(entry as HistoryEntry);
      }
      start = res.LastEvaluatedKey;
    } while (start);
    const item = await this.getItem(key);
    const seen = new Set(out.map((e) => e.id));
    for (const e of item?.outbox ?? []) if (!seen.has(e.id)) out.push(e);
    return out.sort((a, b) => historySortKey(a).localeCompare(historySortKey(b)));
  }

  /**
   * Records a webhook event once. Returns `{claimed: true}` for the first delivery, else the stored
   * event (a replay: the caller decides from its status whether anything is left to do).
   */
  async claimEvent(
    key: string,
    event: Omit<WebhookEventRecord, 'status' | 'updatedAt'>,
  ): Promise<{ claimed: true; event: WebhookEventRecord } | { claimed: false; event: WebhookEventRecord }> {
    const record: WebhookEventRecord = plain({ ...event, status: 'accepted', updatedAt: this.now() });
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...record, email: key, sk: eventSk(event.eventId) },
          ConditionExpression: 'attribute_not_exists(sk)',
        }),
      );
      return { claimed: true, event: record };
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
    }
    const existing = await this.getEvent(key, event.eventId);
    if (!existing) throw new Error(`Webhook event ${event.eventId} vanished while being claimed; retry.`);
    return { claimed: false, event: existing };
  }

  async getEvent(key: string, eventId: string): Promise<WebhookEventRecord | undefined> {
    const res = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: { email: key, sk: eventSk(eventId) },
        ConsistentRead: true,
      }),
    );
    if (!res.Item) return undefined;
    const { email: _e, sk: _s, ...event } = res.Item;
    return event as WebhookEventRecord;
  }

  /** Moves an event forward; never backwards (an `applied` event stays applied). */
  async setEventStatus(
    key: string,
    eventId: string,
    status: WebhookEventStatus,
    extra: Partial<Pick<WebhookEventRecord, 'appliedAt' | 'written'>> = {},
  ): Promise<void> {
    const order = WEBHOOK_EVENT_STATUS_ORDER;
    const later = order.slice(order.indexOf(status) + 1);
    const names: Record<string, string> = { '#s': 'status' };
    const values: Record<string, unknown> = { ':s': status, ':u': this.now() };
    const sets = ['#s = :s', 'updatedAt = :u'];
    for (const [k, v] of Object.entries(extra)) {
      if (v === undefined) continue;
      names[`#${k}`] = k;
      values[`:${k}`] = v;
      sets.push(`#${k} = :${k}`);
    }
    later.forEach((s, i) => {
      values[`:n${i}`] = s;
    });
    const condition = later.length
      ? `attribute_exists(sk) AND NOT (#s IN (${later.map((_, i) => `:n${i}`).join(', ')}))`
      : 'attribute_exists(sk)';
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { email: key, sk: eventSk(eventId) },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
    }
  }
}

function toState(item: StateItem): OptOutState {
  const { sk: _sk, version: _v, outbox: _o, ...state } = item as StateItem & Record<string, unknown>;
  return {
    ...state,
    records: state.records ?? {},
    ourWrites: state.ourWrites ?? [],
    rejectedResubscribes: state.rejectedResubscribes ?? 0,
  } as OptOutState;
}
