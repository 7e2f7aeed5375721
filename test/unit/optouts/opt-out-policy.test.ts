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
/** A change event with an explicit prior value (what Marketo's oldValue or our record view says). */
const observationArb: fc.Arbitrary<Observation> = fc
  .record({
    source: sourceArb,
    target: targetArb,
    value: fc.boolean(),
    at: fc.integer({ min: 0, max: 10_000 }),
    priorValue: fc.boolean(),
  })
  .map(({ source, target, value, at, priorValue }) =>
    source === 'webhook'
      ? { source, value: true, at: iso(at), evidence: { eventId: `e${at}` } }
      : { source, target, value, at: iso(at), priorValue, evidence: {} },
  );
const policyArb: fc.Arbitrary<OptOutPolicy> = fc
  .subarray<OptOutOrigin>(['webhook', 'marketo', 'salesforce'])
  .map((resubscribeSources) => ({ resubscribeSources }));

const isOptOut = (o: Observation) => o.value && o.priorValue !== true;
const isAllowedResubscribe = (o: Observation, p: OptOutPolicy) =>
  !o.value && o.priorValue === true && p.resubscribeSources.includes(originOf(o.source));

describe('opt-out policy', () => {
  it('never loses an opt-out with the default settings, whatever comes after it', () => {
    fc.assert(
      fc.property(fc.array(observationArb, { maxLength: 30 }), (obs) => {
        const policy: OptOutPolicy = { resubscribeSources: [] };
        let state = fresh();
        let seenOptOut = false;
        for (const o of obs) {
          state = observe(state, o, policy).state;
          seenOptOut ||= isOptOut(o);
          if (seenOptOut) expect(state.optedOut).toBe(true);
        }
      }),
    );
  });

  it('decides from the set of observations, not from the order they were processed in', () => {
    fc.assert(
      fc.property(
        fc.array(observationArb, { maxLength: 20 }),
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
        const optOuts = obs.filter(isOptOut).map((o) => Date.parse(o.at));
        const resubs = obs.filter((o) => isAllowedResubscribe(o, policy)).map((o) => Date.parse(o.at));
        const lastOptOut = optOuts.length ? Math.max(...optOuts) : undefined;
        const lastResub = resubs.length ? Math.max(...resubs) : undefined;
        const expected = lastOptOut !== undefined && (lastResub === undefined || lastResub <= lastOptOut);
        expect(state.optedOut).toBe(expected);
      }),
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
