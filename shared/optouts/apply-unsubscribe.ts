import { emailRef, normaliseEmail } from '../domain/email.js';
import { observe } from '../domain/opt-out-policy.js';
import { alignPeople } from './align-people.js';
import { InvalidUnsubscribeMessageError, OptOutPropagationError } from './errors.js';
import { type UnsubscribeMessage, unsubscribeMessageSchema } from './messages.js';
import { nowOf, type OptOutDeps, policyOf } from './opt-out-deps.js';
import { MARKETO_LEAD_FIELDS } from './person-records.js';

export type ApplyOutcome =
  /** Every record now carries the decision (writes made: possibly none, on a replay). */
  | { status: 'applied'; written: number; skipped: number }
  /** The event was applied before (a redelivery). */
  | { status: 'duplicate' }
  /** Only a lead id, and Marketo has no such lead (or it has no email): recorded, nothing to apply. */
  | { status: 'unresolved' };

function throwIfRetryable(failed: { target: string; error?: string; retryable?: boolean }[]): void {
  const retryable = failed.filter((f) => f.retryable);
  if (retryable.length) {
    throw new OptOutPropagationError(
      retryable.map((f) => ({ target: f.target, error: f.error ?? 'unknown' })),
    );
  }
}

export function parseUnsubscribeMessage(body: string): UnsubscribeMessage {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (cause) {
    throw new InvalidUnsubscribeMessageError('not JSON', { cause });
  }
  const r = unsubscribeMessageSchema.safeParse(json);
  if (!r.success) {
    throw new InvalidUnsubscribeMessageError(
      r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '),
      { cause: r.error },
    );
  }
  return r.data;
}

/**
 * The consumer of accepted webhook unsubscribes: applies the person's decided opt-out to every
 * Salesforce Lead and Contact with that email and to every Marketo lead with it. Idempotent:
 * records that already agree are not written, an applied event is skipped; a retryable write
 * failure throws so SQS redelivers (and dead-letters after maxReceiveCount).
 */
export async function applyUnsubscribe(deps: OptOutDeps, msg: UnsubscribeMessage): Promise<ApplyOutcome> {
  const event = await deps.store.getEvent(msg.key, msg.eventId);
  if (event?.status === 'applied') return { status: 'duplicate' };

  let email = msg.email;
  if (email === undefined) {
    const leadId = msg.leadId as number;
    const leads = await (await deps.marketo()).getLeads({
      filterType: 'id',
      filterValues: [leadId],
      fields: MARKETO_LEAD_FIELDS,
    });
    const found = leads.find((l) => l.id === leadId)?.email;
    if (!found) {
      await deps.store.appendHistory(msg.key, [
        {
          kind: 'observed',
          id: `unresolved-${msg.eventId}`,
          at: nowOf(deps).toISOString(),
          source: 'webhook',
          value: true,
          verdict: 'unresolvedLead',
          evidence: { eventId: msg.eventId, leadId },
          optedOut: false,
        },
      ]);
      await deps.store.setEventStatus(msg.key, msg.eventId, 'unresolved');
      deps.logger.warn('Webhook unsubscribe names a Marketo lead that has no email; recorded only', {
        eventId: msg.eventId,
        leadId,
      });
      return { status: 'unresolved' };
    }
    email = normaliseEmail(found);
    const evidence = { eventId: msg.eventId, leadId, ...(msg.reason ? { reason: msg.reason } : {}) };
    await deps.store.update(email, (current) => {
      const r = observe(current, { source: 'webhook', value: true, at: msg.at, evidence }, policyOf(deps));
      return {
        state: r.state,
        history: [
          {
            kind: 'observed',
            id: `webhook-${msg.eventId}`,
            at: msg.receivedAt,
            source: 'webhook',
            value: true,
            verdict: r.verdict,
            evidence,
            optedOut: r.state.optedOut,
          },
        ],
      };
    });
  }

  // Salesforce first: it must not wait on Marketo's call budget (the webhook's promise is "within
  // seconds"). A retryable failure on either side throws, SQS redelivers, the done side is a no-op.
  const common = {
    cause: `webhook:${msg.eventId}`,
    latencyFrom: new Map([[email, msg.receivedAt]]),
    marketoReason: msg.reason ?? 'Unsubscribed (webhook)',
  };
  const sfResult = await alignPeople(deps, [email], {
    ...common,
    systems: { salesforce: true, marketo: false },
  });
  throwIfRetryable(sfResult.failed);
  // A webhook naming a Marketo lead comes from Marketo's own "Call Webhook" step: Marketo already
  // has the unsubscribe, so no Marketo call is spent (other leads sharing the email: the nightly
  // run). Any other sender (email only) is not Marketo: its leads are unsubscribed now.
  const mkResult =
    msg.leadId === undefined
      ? await alignPeople(deps, [email], { ...common, systems: { salesforce: false, marketo: true } })
      : { written: { salesforce: 0, marketo: 0 }, failed: [] };
  throwIfRetryable(mkResult.failed);
  const result = {
    written: {
      salesforce: sfResult.written.salesforce,
      marketo: mkResult.written.marketo,
    },
    failed: [...sfResult.failed, ...mkResult.failed],
  };
  const written = result.written.salesforce + result.written.marketo;
  await deps.store.setEventStatus(msg.key, msg.eventId, 'applied', {
    appliedAt: nowOf(deps).toISOString(),
    written,
  });
  deps.logger.info('Webhook unsubscribe applied', {
    eventId: msg.eventId,
    person: emailRef(email),
    written: result.written,
    skipped: result.failed.length,
  });
  return { status: 'applied', written, skipped: result.failed.length };
}
