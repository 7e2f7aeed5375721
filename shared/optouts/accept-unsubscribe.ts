import type { Logger } from '@aws-lambda-powertools/logger';
import { emailRef, normaliseEmail } from '../domain/email.js';
import { type OptOutPolicy, observe } from '../domain/opt-out-policy.js';
import type { HistoryEntry } from '../domain/opt-out-state.js';
import type { MessageSender } from '../ports/message-sender.js';
import type { OptOutStore } from '../ports/opt-out-store.js';
import { leadKey, type UnsubscribeMessage } from './messages.js';

export interface AcceptDeps {
  store: OptOutStore;
  sender: MessageSender;
  unsubscribeQueueUrl: string;
  policy: OptOutPolicy;
  logger: Logger;
}

export interface AcceptInput {
  eventId: string;
  email?: string;
  leadId?: number;
  reason?: string;
  occurredAt?: string;
  /** When the opt-out happened (an exact occurredAt, else the receipt time). */
  at: Date;
  receivedAt: Date;
}

export interface AcceptResult {
  eventId: string;
  /** A replay of an event already accepted (nothing new was written or sent). */
  duplicate: boolean;
}

/**
 * Durably accepts one webhook unsubscribe: the event (dedupe item), the opt-out in the person's
 * state with its history, and a message on the unsubscribe queue. Each step is idempotent, so a
 * sender retry after a crash in the middle completes the missing steps; a replay of an event that
 * was fully accepted does nothing.
 */
export async function acceptUnsubscribe(deps: AcceptDeps, input: AcceptInput): Promise<AcceptResult> {
  const email = input.email === undefined ? undefined : normaliseEmail(input.email);
  const key = email ?? leadKey(input.leadId as number);
  const claim = await deps.store.claimEvent(key, {
    eventId: input.eventId,
    receivedAt: input.receivedAt.toISOString(),
    ...(input.leadId !== undefined ? { leadId: input.leadId } : {}),
    ...(input.reason !== undefined ? { reason: input.reason } : {}),
    ...(input.occurredAt !== undefined ? { occurredAt: input.occurredAt } : {}),
  });
  if (!claim.claimed && claim.event.status !== 'accepted') {
    deps.logger.info('Webhook unsubscribe replayed; already accepted', { eventId: input.eventId });
    return { eventId: input.eventId, duplicate: true };
  }
  // A retry of a half-done acceptance reuses the first receipt: same history key, same message.
  const receivedAt = claim.event.receivedAt;
  const at = claim.claimed ? input.at.toISOString() : minIso(input.at.toISOString(), receivedAt);
  const evidence = {
    eventId: input.eventId,
    ...(input.leadId !== undefined ? { leadId: input.leadId } : {}),
    ...(input.reason !== undefined ? { reason: input.reason } : {}),
  };

  if (email) {
    await deps.store.update(email, (current) => {
      const r = observe(current, { source: 'webhook', value: true, at, evidence }, deps.policy);
      const entry: HistoryEntry = {
        kind: 'observed',
        id: `webhook-${input.eventId}`,
        at: receivedAt,
        source: 'webhook',
        value: true,
        verdict: r.verdict,
        evidence,
        optedOut: r.state.optedOut,
      };
      return { state: r.state, history: [entry] };
    });
  } else {
    // Only a lead id: the consumer resolves the email and applies it there.
    await deps.store.appendHistory(key, [
      {
        kind: 'observed',
        id: `webhook-${input.eventId}`,
        at: receivedAt,
        source: 'webhook',
        value: true,
        verdict: 'pendingEmail',
        evidence,
        optedOut: true,
      },
    ]);
  }

  const message: UnsubscribeMessage = {
    kind: 'unsubscribe',
    eventId: input.eventId,
    key,
    ...(email ? { email } : {}),
    ...(input.leadId !== undefined ? { leadId: input.leadId } : {}),
    ...(input.reason !== undefined ? { reason: input.reason } : {}),
    at,
    receivedAt,
  };
  await deps.sender.send(deps.unsubscribeQueueUrl, [message]);
  await deps.store.setEventStatus(key, input.eventId, 'queued');
  deps.logger.info('Webhook unsubscribe accepted', {
    eventId: input.eventId,
    person: email ? emailRef(email) : key,
    retryOfPartialAccept: !claim.claimed,
  });
  return { eventId: input.eventId, duplicate: false };
}

const minIso = (a: string, b: string) => (Date.parse(a) <= Date.parse(b) ? a : b);
