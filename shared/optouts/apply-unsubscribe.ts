import { emailRef, normaliseEmail } from '../domain/email.js';
import { observe } from '../domain/opt-out-policy.js';
import { resumeAtFor } from '../ports/resume-at.js';
import { alignPeople } from './align-people.js';
import { InvalidUnsubscribeMessageError, OptOutPropagationError } from './errors.js';
import { type UnsubscribeMessage, unsubscribeMessageSchema } from './messages.js';
import { nowOf, type OptOutDeps, policyOf } from './opt-out-deps.js';
import { MARKETO_LEAD_FIELDS } from './person-records.js';

export type ApplyOutcome =
  /** Every record now carries the decision (writes made: possibly none, on a replay). */
  | { status: 'applied'; written: number; skipped: number; bySide: { salesforce: number; marketo: number } }
  /** The event was applied before (a redelivery). */
  | { status: 'duplicate' }
  /** Only a lead id, and Marketo has no such lead (or it has no email): recorded, nothing to apply. */
  | { status: 'unresolved' }
  /** A vendor's daily budget is spent: re-sent (delayed) to resume then; this delivery is done. */
  | { status: 'parked'; until: string };

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
 * The consumer of accepted webhook unsubscribes. `applyUnsubscribe` takes one message but joins the
 * messages handed to it in the same turn of the event loop (every record of an SQS batch: the batch
 * processor starts them all at once) into one `applyUnsubscribeBatch`, so a burst costs vendor calls
 * per batch, not per person. Handlers keep their per-record shape and partial-batch failures.
 */
export function applyUnsubscribe(deps: OptOutDeps, msg: UnsubscribeMessage): Promise<ApplyOutcome> {
  let batcher = batchers.get(deps);
  if (!batcher) {
    batcher = joinInto((msgs) => applyUnsubscribeBatch(deps, msgs));
    batchers.set(deps, batcher);
  }
  return batcher(msg);
}

const batchers = new WeakMap<OptOutDeps, (msg: UnsubscribeMessage) => Promise<ApplyOutcome>>();

/** Calls made in one turn of the event loop go to `run` together; each gets its own result or error. */
function joinInto<I, O>(run: (items: I[]) => Promise<(O | Error)[]>): (item: I) => Promise<O> {
  let pending: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  return (item) =>
    new Promise<O>((resolve, reject) => {
      pending.push({ item, resolve, reject });
      if (pending.length > 1) return;
      setImmediate(() => {
        const batch = pending;
        pending = [];
        run(batch.map((p) => p.item)).then(
          (results) =>
            batch.forEach((p, i) => {
              const r = results[i];
              if (r instanceof Error) p.reject(r);
              else p.resolve(r as O);
            }),
          (err: unknown) => {
            for (const p of batch) p.reject(err);
          },
        );
      });
    });
}

/** Lead ids per Marketo lookup (getLeads takes up to 300 filter values). */
const LEAD_IDS_PER_CALL = 300;

/**
 * Applies a batch of accepted unsubscribes: every Salesforce Lead and Contact and every Marketo lead
 * carrying one of their emails gets the person's decided opt-out, whatever the sender (with or
 * without leadId; a lead-only message is resolved to its email first). Vendor calls are per batch:
 * lookups by IN chunks / 300 emails, writes by collections of 200 / 300 leads. Salesforce first: it
 * must not wait on Marketo's call budget. Idempotent: records that already agree are not written
 * and an applied event is skipped. Per message: its outcome, or the error that makes SQS redeliver
 * it (a retryable write failure on one of its person's records; the other messages still complete).
 */
export async function applyUnsubscribeBatch(
  deps: OptOutDeps,
  msgs: readonly UnsubscribeMessage[],
): Promise<(ApplyOutcome | Error)[]> {
  const now = nowOf(deps).getTime();
  const results: (ApplyOutcome | Error | undefined)[] = new Array(msgs.length).fill(undefined);
  // Still parked: straight back to the queue, no vendor call.
  const waiting = msgs.flatMap((m, i) =>
    m.parkedUntil && Date.parse(m.parkedUntil) > now ? [{ m, i, until: Date.parse(m.parkedUntil) }] : [],
  );
  for (const { m, i, until } of waiting) results[i] = await park(deps, [m], until);
  const ready = msgs.flatMap((m, i) => (results[i] ? [] : [{ m, i }]));
  try {
    const done = await alignBatch(
      deps,
      ready.map(({ m }) => m),
    );
    ready.forEach(({ i }, j) => {
      results[i] = done[j];
    });
  } catch (err) {
    // Salesforce REQUEST_LIMIT_EXCEEDED / Marketo's daily quota: park outside the receive count.
    const resumeAt = resumeAtFor(err, now);
    if (resumeAt === undefined) throw err;
    const outcome = await park(
      deps,
      ready.map(({ m }) => m),
      resumeAt,
    );
    for (const { i } of ready) results[i] = outcome;
  }
  return results.map((r) => r ?? new Error('unsubscribe message was not handled; it will be retried'));
}

/** SQS delays a message at most 15 minutes: a longer park hops, each hop without a vendor call. */
const MAX_DELAY_SECONDS = 900;

async function park(
  deps: OptOutDeps,
  msgs: readonly UnsubscribeMessage[],
  until: number,
): Promise<ApplyOutcome> {
  const parkedUntil = new Date(until).toISOString();
  const delaySeconds = Math.max(
    1,
    Math.min(MAX_DELAY_SECONDS, Math.ceil((until - nowOf(deps).getTime()) / 1000)),
  );
  await deps.sender.send(
    deps.unsubscribeQueueUrl,
    msgs.map((m) => ({ ...m, parkedUntil })),
    { delaySeconds },
  );
  deps.logger.warn('Vendor budget spent: unsubscribes parked until it is back', {
    messages: msgs.length,
    parkedUntil,
    eventIds: msgs.slice(0, 10).map((m) => m.eventId),
  });
  return { status: 'parked', until: parkedUntil };
}

async function alignBatch(
  deps: OptOutDeps,
  msgs: readonly UnsubscribeMessage[],
): Promise<(ApplyOutcome | Error)[]> {
  const results: (ApplyOutcome | Error | undefined)[] = new Array(msgs.length).fill(undefined);
  const events = await Promise.all(msgs.map((m) => deps.store.getEvent(m.key, m.eventId)));
  const live = msgs.flatMap((m, i) => (events[i]?.status === 'applied' ? [] : [{ m, i }]));
  msgs.forEach((_, i) => {
    if (events[i]?.status === 'applied') results[i] = { status: 'duplicate' };
  });

  // 1. Lead-only messages: their emails, from Marketo (≤ 300 ids per call).
  const leadOnly = live.filter(({ m }) => m.email === undefined);
  const leadEmails = new Map<number, string>();
  if (leadOnly.length) {
    const ids = [...new Set(leadOnly.map(({ m }) => m.leadId as number))];
    const mk = await deps.marketo();
    for (let i = 0; i < ids.length; i += LEAD_IDS_PER_CALL) {
      const leads = await mk.getLeads({
        filterType: 'id',
        filterValues: ids.slice(i, i + LEAD_IDS_PER_CALL),
        fields: MARKETO_LEAD_FIELDS,
      });
      for (const l of leads) if (l.email) leadEmails.set(l.id, normaliseEmail(l.email));
    }
  }
  const emailOf = new Map<number, string>();
  for (const { m, i } of live) {
    if (m.email !== undefined) {
      emailOf.set(i, m.email);
      continue;
    }
    const email = leadEmails.get(m.leadId as number);
    if (email) {
      emailOf.set(i, email);
      await recordResolvedWebhook(deps, m, email);
    } else {
      results[i] = await recordUnresolved(deps, m);
    }
  }

  // 2. Align everyone at once, Salesforce then Marketo.
  const emails = [...new Set(emailOf.values())];
  const latencyFrom = new Map<string, string>();
  for (const [i, email] of emailOf) {
    const at = msgs[i]?.receivedAt as string;
    const known = latencyFrom.get(email);
    if (!known || at < known) latencyFrom.set(email, at);
  }
  const reasons = [...new Set(live.map(({ m }) => m.reason).filter((r) => r !== undefined))];
  const common = {
    cause:
      live.length === 1
        ? `webhook:${live[0]?.m.eventId}`
        : `webhook-batch:${live[0]?.m.eventId}+${live.length - 1}`,
    latencyFrom,
    marketoReason: reasons.length === 1 ? (reasons[0] as string) : 'Unsubscribed (webhook)',
  };
  const failedEmails = new Map<string, { target: string; error: string }[]>();
  const noteFailures = (failed: { email: string; target: string; error?: string; retryable?: boolean }[]) => {
    for (const f of failed.filter((x) => x.retryable)) {
      failedEmails.set(f.email, [
        ...(failedEmails.get(f.email) ?? []),
        { target: f.target, error: f.error ?? 'unknown' },
      ]);
    }
  };
  const sfResult = await alignPeople(deps, emails, {
    ...common,
    systems: { salesforce: true, marketo: false },
  });
  noteFailures(sfResult.failed);
  const mkResult = await alignPeople(deps, emails, {
    ...common,
    systems: { salesforce: false, marketo: true },
  });
  noteFailures(mkResult.failed);

  // 3. Per message: applied, or failed for SQS to redeliver (the done side is a no-op next time).
  const appliedAt = nowOf(deps).toISOString();
  for (const [i, email] of emailOf) {
    const m = msgs[i] as UnsubscribeMessage;
    const failed = failedEmails.get(email);
    if (failed) {
      results[i] = new OptOutPropagationError(failed);
      continue;
    }
    const sfWrites = sfResult.byPerson.get(email)?.writes ?? [];
    const mkWrites = mkResult.byPerson.get(email)?.writes ?? [];
    const writes = [...sfWrites, ...mkWrites];
    const bySide = {
      salesforce: sfWrites.filter((w) => w.ok).length,
      marketo: mkWrites.filter((w) => w.ok).length,
    };
    const written = bySide.salesforce + bySide.marketo;
    const skipped = writes.length - written;
    await deps.store.setEventStatus(m.key, m.eventId, 'applied', { appliedAt, written });
    deps.logger.info('Webhook unsubscribe applied', {
      eventId: m.eventId,
      person: emailRef(email),
      written,
      skipped,
      batch: msgs.length,
    });
    results[i] = { status: 'applied', written, skipped, bySide };
  }
  return results.map((r) => r ?? new Error('unsubscribe message was not handled; it will be retried'));
}

/** The webhook named only a lead: its opt-out is recorded under the resolved email. */
async function recordResolvedWebhook(
  deps: OptOutDeps,
  msg: UnsubscribeMessage,
  email: string,
): Promise<void> {
  const leadId = msg.leadId as number;
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

/** Only a lead id, and Marketo has no such lead (or it has no email): recorded, nothing to apply. */
async function recordUnresolved(deps: OptOutDeps, msg: UnsubscribeMessage): Promise<ApplyOutcome> {
  const leadId = msg.leadId as number;
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
