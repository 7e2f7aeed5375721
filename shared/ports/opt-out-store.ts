import { emailRef } from '../domain/email.js';
import type { HistoryEntry, OptOutState } from '../domain/opt-out-state.js';
import type { WebhookEventRecord, WebhookEventStatus } from '../domain/webhook-event.js';

export interface StateUpdate {
  state: OptOutState;
  history: HistoryEntry[];
}

export interface UpdateResult {
  state: OptOutState;
  version: number;
  history: HistoryEntry[];
  changed: boolean;
  attempts: number;
}

/**
 * One person's opt-out state (keyed by normalised email), its append-only history, and the
 * webhook events accepted for them. Every state write is conditional on the version read.
 */
export interface OptOutStore {
  get(key: string): Promise<{ state: OptOutState; version: number } | undefined>;

  /** Several people's states at once (strongly consistent); people never written are absent. */
  getMany(keys: readonly string[]): Promise<Map<string, { state: OptOutState; version: number }>>;

  /**
   * Optimistic read-modify-write of one person's state. `change` gets the current state (an empty
   * one for a new person) and returns the next state with the history entries that explain it, or
   * undefined when nothing changes. On a concurrent write it is called again with the new state,
   * so it must be a pure function of its input. Throws OptOutConflictError when it keeps losing.
   */
  update(
    key: string,
    change: (current: OptOutState, version: number) => StateUpdate | undefined,
  ): Promise<UpdateResult>;

  /** Appends history entries that change no state (e.g. about a webhook event not yet resolved). */
  appendHistory(key: string, entries: HistoryEntry[]): Promise<void>;

  /** Every history entry, oldest first. */
  history(key: string): Promise<HistoryEntry[]>;

  /**
   * Records a webhook event once. Returns `{claimed: true}` for the first delivery, else the stored
   * event (a replay: the caller decides from its status whether anything is left to do).
   */
  claimEvent(
    key: string,
    event: Omit<WebhookEventRecord, 'status' | 'updatedAt'>,
  ): Promise<{ claimed: true; event: WebhookEventRecord } | { claimed: false; event: WebhookEventRecord }>;

  getEvent(key: string, eventId: string): Promise<WebhookEventRecord | undefined>;

  /** Moves an existing event forward (WEBHOOK_EVENT_STATUS_ORDER); never backwards; unknown events are ignored. */
  setEventStatus(
    key: string,
    eventId: string,
    status: WebhookEventStatus,
    extra?: Partial<Pick<WebhookEventRecord, 'appliedAt' | 'written'>>,
  ): Promise<void>;
}

export class OptOutConflictError extends Error {
  override readonly name = 'OptOutConflictError';
  constructor(key: string, attempts: number) {
    // The key is the person's email (or lead#<id>): never in a message that reaches a log.
    const person = key.startsWith('lead#') ? key : emailRef(key);
    super(
      `Opt-out state ${person} kept changing under us (${attempts} attempts); the operation is safe to retry.`,
    );
  }
}
