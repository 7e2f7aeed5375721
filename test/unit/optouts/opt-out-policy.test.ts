import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decide,
  type Observation,
  type OptOutPolicy,
  observe,
  observeAll,
  planWrites,
  rememberWrites,
} from '../../../shared/domain/opt-out-policy.js';
import {
  emptyOptOutState,
  marketoTarget,
  type OptOutOrigin,
  type OptOutSource,
  originOf,
  salesforceTarget,
} from '../../../shared/domain/opt-out-state.js';

const T0 = Date.parse('2026-10-01T00:00:00Z');
const iso = (offsetS: number) => new Date(T0 + offsetS * 1000).toISOString();
const fresh = () => emptyOptOutState('a@example.com', iso(0));

const sourceArb = fc.constantFrom<OptOutSource>('webhook', 'marketo-nightly', 'salesforce-nightly');
const targetArb = fc.constantFrom(
  marketoTarget(1),
  marketoTarget(2),
  salesforceTarget('Lead', '00Q000000000001'),
  salesforceTarget('Contact', '003000000000001'),
);
/**
 * A change event, with an explicit prior value (Marketo's oldValue) or without one — then the
 * policy falls back to the value it stored for the record (the stored-prior-value path).
 */
const observationArb: fc.Arbitrary<Observation> = fc
  .record({
    source: sourceArb,
    target: targetArb,
    value: fc.boolean(),
    at: fc.integer({ min: 0, max: 10_000 }),
    priorValue: fc.option(fc.boolean(), { nil: undefined }),
  })
  .map(({ source, target, value, at, priorValue }) =>
    source === 'webhook'
      ? { source, value: true, at: iso(at), evidence: { eventId: `e${at}` } }
      : {
          source,
          target,
          value,
          at: iso(at),
          ...(priorValue === undefined ? {} : { priorValue }),
          evidence: {},
        },
  );
/** Observations that all carry their prior value (or are webhooks, which need none). */
const explicitPriorArb = observationArb.filter((o) => o.source === 'webhook' || o.priorValue !== undefined);
const policyArb: fc.Arbitrary<OptOutPolicy> = fc
  .subarray<OptOutOrigin>(['webhook', 'marketo', 'salesforce'])
  .map((resubscribeSources) => ({ resubscribeSources }));

/**
 * The reference model: observations in time order (ties in input order, as observeAll sorts), each
 * with its effective prior value — the one it carries, else the value last seen on its record.
 */
function withPriors(
  obs: readonly Observation[],
): { o: Observation; prior: boolean | undefined; resubAt: number }[] {
  const last = new Map<string, { value: boolean; at: number }>();
  return [...obs]
    .sort((a, b) => Date.parse(a.at) - Date.parse(b.at))
    .map((o) => {
      const seen = o.target === undefined ? undefined : last.get(o.target);
      const prior = o.priorValue ?? seen?.value;
      // A resubscribe known only from the stored value is dated just after that sighting.
      const resubAt =
        o.priorValue === undefined && seen ? Math.min(seen.at + 1, Date.parse(o.at)) : Date.parse(o.at);
      if (o.target !== undefined && (!seen || Date.parse(o.at) >= seen.at))
        last.set(o.target, { value: o.value, at: Date.parse(o.at) });
      return { o, prior, resubAt };
    });
}
const isOptOut = ({ o, prior }: { o: Observation; prior: boolean | undefined }) => o.value && prior !== true;
const isAllowedResubscribe = (
  { o, prior }: { o: Observation; prior: boolean | undefined },
  p: OptOutPolicy,
) => !o.value && prior === true && p.resubscribeSources.includes(originOf(o.source));

describe('opt-out policy', () => {
  it('never loses an opt-out with the default settings, whatever comes after it', () => {
    fc.assert(
      fc.property(fc.array(observationArb, { maxLength: 30 }), (obs) => {
        const policy: OptOutPolicy = { resubscribeSources: [] };
        let state = fresh();
        let seenOptOut = false;
        const last = new Map<string, { value: boolean; at: number }>();
        for (const o of obs) {
          state = observe(state, o, policy).state;
          // An opt-out is a change to true: from the prior it carries, else from the stored value —
          // the record's newest sighting (one older than it, read later, does not replace it: as in
          // withPriors and the policy's record views).
          const seen = o.target === undefined ? undefined : last.get(o.target);
          const prior = o.priorValue ?? seen?.value;
          if (o.target !== undefined && (!seen || Date.parse(o.at) >= seen.at))
            last.set(o.target, { value: o.value, at: Date.parse(o.at) });
          seenOptOut ||= isOptOut({ o, prior });
          if (seenOptOut) expect(state.optedOut).toBe(true);
        }
      }),
    );
  });

  // Only where every observation carries its prior value (Marketo oldValue, webhooks): a stored prior
  // is the record's latest known value, so it depends on what was read before (see the next test).
  it('decides from the set of observations, not from the order they were processed in', () => {
    fc.assert(
      fc.property(
        fc.array(explicitPriorArb, { maxLength: 20 }),
        policyArb,
        fc.infiniteStream(fc.nat()),
        (obs, policy, seeds) => {
          const shuffled = [...obs];
          const it = seeds[Symbol.iterator]();
          for (let i = shuffled.length - 1; i > 0; i--) {
            const j = (it.next().value as number) % (i + 1);
            [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
          }
          const a = shuffled.reduce((s, o) => observe(s, o, policy).state, fresh());
          const b = obs.reduce((s, o) => observe(s, o, policy).state, fresh());
          expect(a.optedOut).toBe(b.optedOut);
          expect(a.optedOutAt).toBe(b.optedOutAt);
          expect(a.resubscribedAt).toBe(b.resubscribedAt);
        },
      ),
    );
  });

  it('is opted out exactly when some opt-out is not beaten by a newer allowed resubscribe', () => {
    fc.assert(
      fc.property(fc.array(observationArb, { maxLength: 25 }), policyArb, (obs, policy) => {
        const state = observeAll(fresh(), obs, policy).state;
        const seen = withPriors(obs);
        const optOuts = seen.filter(isOptOut).map(({ o }) => Date.parse(o.at));
        const resubs = seen.filter((x) => isAllowedResubscribe(x, policy)).map(({ resubAt }) => resubAt);
        // The stored-prior path was taken whenever an observation came without its prior value.
        const lastOptOut = optOuts.length ? Math.max(...optOuts) : undefined;
        const lastResub = resubs.length ? Math.max(...resubs) : undefined;
        const expected = lastOptOut !== undefined && (lastResub === undefined || lastResub <= lastOptOut);
        expect(state.optedOut).toBe(expected);
      }),
    );
  });

  it('follows one Salesforce record read night after night without prior values (stored priors)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.record({ at: fc.integer({ min: 0, max: 10_000 }), value: fc.boolean() }), {
          minLength: 1,
          maxLength: 12,
          selector: (r) => r.at,
        }),
        fc.boolean(),
        (reads, allowSalesforce) => {
          const policy: OptOutPolicy = { resubscribeSources: allowSalesforce ? ['salesforce'] : [] };
          const target = salesforceTarget('Lead', '00Q000000000009');
          const sorted = [...reads].sort((a, b) => a.at - b.at);
          const state = sorted.reduce(
            (s, r) =>
              observe(
                s,
                { source: 'salesforce-nightly', target, value: r.value, at: iso(r.at), evidence: {} },
                policy,
              ).state,
            fresh(),
          );
          // Each change is judged against the value stored from the previous read: with resubscribes
          // allowed the decision is the record's latest value; without, any opt-out ever seen.
          const expected = allowSalesforce ? sorted.at(-1)?.value : sorted.some((r) => r.value);
          expect(state.optedOut).toBe(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('applying the same observation twice is the same as applying it once', () => {
    fc.assert(
      fc.property(fc.array(observationArb, { maxLength: 15 }), observationArb, policyArb, (obs, o, p) => {
        const base = observeAll(fresh(), obs, p).state;
        const once = observe(base, o, p).state;
        const twice = observe(once, o, p).state;
        expect(twice.optedOut).toBe(once.optedOut);
        expect(twice.optedOutAt).toBe(once.optedOutAt);
        expect(twice.resubscribedAt).toBe(once.resubscribedAt);
      }),
    );
  });

  it('never lets an echo of our own write move the decision or its timestamps', () => {
    fc.assert(
      fc.property(
        fc.array(observationArb, { maxLength: 15 }),
        policyArb,
        targetArb,
        targetArb,
        fc.integer({ min: 0, max: 3600 }),
        (obs, policy, written, echoedOn, delayS) => {
          const base = observeAll(fresh(), obs, policy).state;
          const writeAt = iso(20_000);
          const afterWrite = rememberWrites(
            base,
            [{ target: written, value: base.optedOut }],
            writeAt,
            'run-1',
            policy,
          );
          const echo: Observation = {
            source: echoedOn.startsWith('marketo') ? 'marketo-nightly' : 'salesforce-nightly',
            target: echoedOn,
            value: base.optedOut,
            priorValue: !base.optedOut,
            at: iso(20_000 + delayS),
            evidence: {},
          };
          const r = observe(afterWrite, echo, policy);
          if (echoedOn === written || echoedOn.split(':')[0] !== written.split(':')[0]) {
            expect(r.verdict).toBe('echo');
            expect(r.state.optedOutAt).toBe(base.optedOutAt);
            expect(r.state.resubscribedAt).toBe(base.resubscribedAt);
          }
          // Agreeing with the decision, it can never flip it either way.
          expect(r.state.optedOut).toBe(base.optedOut);
        },
      ),
    );
  });

  it('plans a write for exactly the records that disagree with the decision', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(fc.record({ target: targetArb, optedOut: fc.boolean() }), { maxLength: 8 }),
        (optedOut, records) => {
          const state = { ...fresh(), optedOut };
          const plan = planWrites(state, records);
          expect(plan).toEqual(
            records
              .filter((r) => r.optedOut !== optedOut)
              .map((r) => ({ target: r.target, value: optedOut })),
          );
        },
      ),
    );
  });

  describe('examples', () => {
    const mkto = marketoTarget(7);
    const sf = salesforceTarget('Contact', '003000000000007');

    it('dates a resubscribe seen only on a record by the last sighting, not by SystemModstamp', () => {
      const policy: OptOutPolicy = { resubscribeSources: ['salesforce'] };
      // Seen opted out at 10; Marketo opts the person out at 50; the Salesforce record is found
      // subscribed with SystemModstamp 90 (someone edited another field after an earlier resubscribe).
      let s = observe(
        fresh(),
        { source: 'salesforce-nightly', target: sf, value: true, at: iso(10), evidence: {} },
        policy,
      ).state;
      s = observe(
        s,
        {
          source: 'marketo-nightly',
          target: mkto,
          value: true,
          priorValue: false,
          at: iso(50),
          evidence: {},
        },
        policy,
      ).state;
      const r = observe(
        s,
        { source: 'salesforce-nightly', target: sf, value: false, at: iso(90), evidence: {} },
        policy,
      );
      expect(r.state.resubscribedAt).toBe(new Date(Date.parse(iso(10)) + 1).toISOString());
      expect(r.verdict).toBe('resubscribeRejected');
      expect(r.state.optedOut).toBe(true);
      // The same change with field-history evidence (the prior value, its own time) is dated by it.
      const exact = observe(
        s,
        {
          source: 'salesforce-nightly',
          target: sf,
          value: false,
          priorValue: true,
          at: iso(90),
          evidence: {},
        },
        policy,
      );
      expect(exact.verdict).toBe('resubscribe');
    });

    it('records a resubscribe from a source that is not allowed, and keeps the opt-out', () => {
      const policy = { resubscribeSources: [] };
      let s = observe(
        fresh(),
        {
          source: 'marketo-nightly',
          target: mkto,
          value: true,
          priorValue: false,
          at: iso(10),
          evidence: {},
        },
        policy,
      ).state;
      const r = observe(
        s,
        {
          source: 'salesforce-nightly',
          target: sf,
          value: false,
          priorValue: true,
          at: iso(20),
          evidence: {},
        },
        policy,
      );
      s = r.state;
      expect(r.verdict).toBe('resubscribeRejected');
      expect(s.optedOut).toBe(true);
      expect(s.rejectedResubscribes).toBe(1);
    });

    it('applies an allowed resubscribe only when it is newer than the opt-out', () => {
      const policy: OptOutPolicy = { resubscribeSources: ['salesforce'] };
      const s = observe(
        fresh(),
        {
          source: 'marketo-nightly',
          target: mkto,
          value: true,
          priorValue: false,
          at: iso(10),
          evidence: {},
        },
        policy,
      ).state;
      const older = observe(
        s,
        {
          source: 'salesforce-nightly',
          target: sf,
          value: false,
          priorValue: true,
          at: iso(5),
          evidence: {},
        },
        policy,
      );
      expect(older.verdict).toBe('resubscribeRejected');
      const newer = observe(
        s,
        {
          source: 'salesforce-nightly',
          target: sf,
          value: false,
          priorValue: true,
          at: iso(15),
          evidence: {},
        },
        policy,
      );
      expect(newer.verdict).toBe('resubscribe');
      expect(newer.state.optedOut).toBe(false);
    });

    it('treats a record that never carried the opt-out as drift, not as a resubscribe', () => {
      const policy: OptOutPolicy = { resubscribeSources: ['salesforce'] };
      const s = observe(
        fresh(),
        { source: 'webhook', value: true, at: iso(10), evidence: { eventId: 'e1' } },
        policy,
      ).state;
      const r = observe(
        s,
        { source: 'salesforce-nightly', target: sf, value: false, at: iso(99), evidence: {} },
        policy,
      );
      expect(r.verdict).toBe('drift');
      expect(r.state.optedOut).toBe(true);
      expect(decide(r.state.optedOutAt, r.state.resubscribedAt)).toBe(true);
    });

    it('does not take an opt-out after a resubscribe for the echo of an earlier opt-out write', () => {
      const policy: OptOutPolicy = { resubscribeSources: ['marketo'] };
      let s = observe(
        fresh(),
        {
          source: 'marketo-nightly',
          target: mkto,
          value: true,
          priorValue: false,
          at: iso(10),
          evidence: {},
        },
        policy,
      ).state;
      s = rememberWrites(s, [{ target: sf, value: true }], iso(11), 'run-1', policy);
      s = observe(
        s,
        {
          source: 'marketo-nightly',
          target: mkto,
          value: false,
          priorValue: true,
          at: iso(20),
          evidence: {},
        },
        policy,
      ).state;
      expect(s.optedOut).toBe(false);
      const again = observe(
        s,
        {
          source: 'salesforce-nightly',
          target: sf,
          value: true,
          priorValue: false,
          at: iso(30),
          evidence: {},
        },
        policy,
      );
      expect(again.verdict).toBe('optOut');
      expect(again.state.optedOut).toBe(true);
    });
  });
});
