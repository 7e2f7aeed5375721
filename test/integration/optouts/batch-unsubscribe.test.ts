import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyUnsubscribeBatch } from '../../../shared/optouts/apply-unsubscribe.js';
import { OptOutPropagationError } from '../../../shared/optouts/errors.js';
import { type UnsubscribeMessage, unsubscribeMessageSchema } from '../../../shared/optouts/messages.js';
import { reconcileOptOuts } from '../../../shared/optouts/reconcile.js';
import { handleUnsubscribeRequest } from '../../../shared/optouts/webhook-request.js';
import { RecordingSender } from '../../unit/optouts/fakes/recording-sender.js';
import { type Harness, startHarness, uniqueEmail, WEBHOOK_SECRET } from './harness.js';

/**
 * A burst of accepted unsubscribes aligned as one batch (issue 11 item 1): every Salesforce Lead and
 * Contact and every Marketo lead with each email is opted out — whether the webhook carried a leadId
 * or not — and the vendor calls are per batch: Salesforce ≤ 3 × ⌈N/200⌉ (+1 per extra sObject type
 * written), Marketo ≤ 2 × ⌈N/300⌉ + 2.
 */
const calls0 = (
  sf: { callCounts(): { total: number } },
  mk: { callCounts(): { total: number } },
  before: { s: number; m: number },
) => ({ salesforce: sf.callCounts().total - before.s, marketo: mk.callCounts().total - before.m });

describe('batch alignment of webhook unsubscribes (embedded default)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ people: 20 });
    await reconcileOptOuts(h.deps);
  }, 120_000);
  afterAll(async () => {
    await h?.stop();
  });

  async function accept(bodies: Record<string, unknown>[]): Promise<UnsubscribeMessage[]> {
    const sender = new RecordingSender();
    for (const body of bodies) {
      const res = await handleUnsubscribeRequest(
        { ...h.webhook, sender },
        {
          headers: { 'x-webhook-secret': WEBHOOK_SECRET, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        },
      );
      expect(res.statusCode).toBe(202);
    }
    return sender.sent.map((s) => unsubscribeMessageSchema.parse(s.body));
  }

  it('aligns 250 people in one batch, with or without leadId, within the call budgets', async () => {
    const n = 250;
    const people = Array.from({ length: n }, (_, i) => {
      const email = uniqueEmail(`burst${i}`);
      // A Contact each; every fifth person also a Lead and a second Marketo lead with the email.
      const p = h.person({
        email,
        marketoEmails: i % 5 === 0 ? [email, email] : [email],
        sfContacts: [email],
        sfLeads: i % 5 === 0 ? [email] : [],
      });
      return { email, ...p };
    });
    const bodies = people.map((p, i) =>
      i % 3 === 0
        ? { email: p.email }
        : i % 3 === 1
          ? { email: p.email, leadId: p.leads[0]!.id }
          : { leadId: p.leads[0]!.id },
    );
    const t0 = Date.now();
    const messages = await accept(bodies);
    const t1 = Date.now();
    const sf = await h.deps.salesforce();
    const mk = await h.deps.marketo();
    const before = { s: sf.callCounts().total, m: mk.callCounts().total };

    const results = await applyUnsubscribeBatch(h.deps, messages);
    console.info(`batch of ${n}: accept ${t1 - t0} ms, align ${Date.now() - t1} ms`, calls0(sf, mk, before));

    const calls = { salesforce: sf.callCounts().total - before.s, marketo: mk.callCounts().total - before.m };
    expect(results.every((r) => !(r instanceof Error) && r.status === 'applied')).toBe(true);
    for (const p of people) {
      expect(p.sfContactIds.every((id) => h.sfOptOut('Contact', id))).toBe(true);
      expect(p.sfLeadIds.every((id) => h.sfOptOut('Lead', id))).toBe(true);
      // Every Marketo lead with the email, not only the one that sent the webhook.
      expect(p.leads.every((l) => h.world.lead(l.id)?.unsubscribed === true)).toBe(true);
    }
    // Two sObject types written: one collection call more than the 3-per-200 of a single type.
    expect(calls.salesforce).toBeLessThanOrEqual(3 * Math.ceil(n / 200) + 1);
    expect(calls.marketo).toBeLessThanOrEqual(2 * Math.ceil(n / 300) + 2);

    // A redelivery of the whole batch is a no-op: no vendor write, every message a duplicate.
    const again = await applyUnsubscribeBatch(h.deps, messages);
    expect(again.every((r) => !(r instanceof Error) && r.status === 'duplicate')).toBe(true);
  }, 120_000);

  it("fails only the message whose person's write failed retryably; the rest of the batch completes", async () => {
    const people = Array.from({ length: 3 }, (_, i) => {
      const email = uniqueEmail(`locked${i}`);
      return { email, ...h.person({ email, sfContacts: [email] }) };
    });
    const messages = await accept(people.map((p) => ({ email: p.email })));
    // Per record: one Contact of the collection write is locked (UNABLE_TO_LOCK_ROW, retryable).
    h.local.salesforceSandbox?.faults.inject('UNABLE_TO_LOCK_ROW', { count: 1 });
    const results = await applyUnsubscribeBatch(h.deps, messages);
    const failed = results.filter((r) => r instanceof OptOutPropagationError);
    const applied = results.filter((r) => !(r instanceof Error) && r.status === 'applied');
    expect([failed.length, applied.length]).toEqual([1, 2]);
    expect(String(failed[0])).not.toMatch(/@/);
    // Redelivered: the failed one completes, the done ones are duplicates.
    const again = await applyUnsubscribeBatch(h.deps, messages);
    expect(again.map((r) => !(r instanceof Error) && r.status).sort()).toEqual([
      'applied',
      'duplicate',
      'duplicate',
    ]);
    for (const p of people) expect(h.sfOptOut('Contact', p.sfContactIds[0]!)).toBe(true);
  }, 120_000);

  it('parks on Salesforce REQUEST_LIMIT_EXCEEDED outside the receive count, and resumes after it', async () => {
    const people = Array.from({ length: 3 }, (_, i) => {
      const email = uniqueEmail(`parked${i}`);
      return { email, ...h.person({ email, sfContacts: [email] }) };
    });
    const messages = await accept(people.map((p) => ({ email: p.email })));
    const parkedSends = new RecordingSender();
    const t0 = Date.now();
    h.local.salesforceSandbox?.faults.inject('REQUEST_LIMIT_EXCEEDED', { count: 1 });
    const parked = await applyUnsubscribeBatch({ ...h.deps, sender: parkedSends }, messages);
    // Every delivery is done (deleted): copies carrying parkedUntil were sent, delayed ≤ 15 min.
    expect(parked.map((r) => !(r instanceof Error) && r.status)).toEqual(['parked', 'parked', 'parked']);
    expect(parkedSends.sent).toHaveLength(3);
    const copies = parkedSends.sent.map((s) => unsubscribeMessageSchema.parse(s.body));
    const until = Date.parse(copies[0]?.parkedUntil ?? '');
    expect(until).toBeGreaterThanOrEqual(t0 + 3_600_000 - 5_000);
    expect(parkedSends.sent.every((s) => s.options?.delaySeconds === 900)).toBe(true);
    expect(copies.map((c) => c.eventId)).toEqual(messages.map((m) => m.eventId));

    // A copy arriving before parkedUntil goes straight back: no vendor call at all.
    const sf = await h.deps.salesforce();
    const mk = await h.deps.marketo();
    const before = { s: sf.callCounts().total, m: mk.callCounts().total };
    const again = new RecordingSender();
    const hop = await applyUnsubscribeBatch({ ...h.deps, sender: again }, copies);
    expect(hop.every((r) => !(r instanceof Error) && r.status === 'parked')).toBe(true);
    expect(calls0(sf, mk, before)).toEqual({ salesforce: 0, marketo: 0 });
    expect(again.sent).toHaveLength(3);

    // After parkedUntil: applied.
    const later = { ...h.deps, now: () => new Date(until + 1_000) };
    const resumed = await applyUnsubscribeBatch(later, copies);
    expect(resumed.every((r) => !(r instanceof Error) && r.status === 'applied')).toBe(true);
    for (const p of people) expect(h.sfOptOut('Contact', p.sfContactIds[0]!)).toBe(true);
  }, 120_000);
});
