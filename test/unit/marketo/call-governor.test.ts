import { GetCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynamoTestServer, startDynamoTestServer } from '../../../cli/embedded/local-dynamodb.js';
import { startMarketoSandbox } from '../../../sandboxes/marketo/marketo-sandbox.js';
import {
  decide,
  type GovernorState,
  InMemoryCallGovernor,
  withDefaults,
} from '../../../shared/adapters/marketo/call-governor.js';
import { DynamoDbCallGovernor } from '../../../shared/adapters/marketo/dynamodb-call-governor.js';
import { MarketoClient } from '../../../shared/adapters/marketo/marketo-client.js';
import { MarketoParkedError } from '../../../shared/ports/marketo-errors.js';
import { freshSmallWorld, silentLogger } from './helpers.js';

let db: DynamoTestServer;
beforeAll(async () => {
  db = await startDynamoTestServer();
});
afterAll(async () => {
  await db.stop();
});

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
let itemSeq = 0;
const itemId = () => `governor-test-${++itemSeq}`;

/** Largest number of acquisitions inside any half-open window [t, t + windowMs). */
function maxInAnyWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let max = 0;
  for (let i = 0; i < sorted.length; i++) {
    let n = 0;
    for (let j = i; j < sorted.length && sorted[j]! < sorted[i]! + windowMs; j++) n++;
    max = Math.max(max, n);
  }
  return max;
}

describe('DynamoDbCallGovernor', () => {
  it('never exceeds the window budget nor maxConcurrent under 30 concurrent callers on 3 instances', async () => {
    const id = itemId();
    const limits = { callsPerWindow: 10, windowMs: 1000, maxConcurrent: 3 };
    const governors = [0, 1, 2].map(
      () =>
        new DynamoDbCallGovernor({ doc: db.doc, tableName: db.tables.governor, id, ...limits, pollMs: 20 }),
    );
    const acquiredAt: number[] = [];
    let inFlight = 0;
    let maxInFlight = 0;

    await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const lease = await governors[i % 3]!.acquire();
        acquiredAt.push(lease.acquiredAt);
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await pause(20 + (i % 4) * 15);
        inFlight--;
        await lease.release();
      }),
    );

    expect(acquiredAt).toHaveLength(30);
    expect(maxInAnyWindow(acquiredAt, limits.windowMs)).toBeLessThanOrEqual(10);
    expect(maxInFlight).toBeLessThanOrEqual(3);
    const waits = governors.reduce((s, g) => s + g.stats().waits, 0);
    expect(waits).toBeGreaterThan(0);
    const item = await db.doc.send(new GetCommand({ TableName: db.tables.governor, Key: { id } }));
    expect(item.Item?.leases).toEqual({});
    expect(((item.Item?.calls ?? []) as number[]).length).toBeLessThanOrEqual(10);
  });

  it('reclaims the lease of a crashed holder after leaseMs', async () => {
    const g = new DynamoDbCallGovernor({
      doc: db.doc,
      tableName: db.tables.governor,
      id: itemId(),
      callsPerWindow: 100,
      maxConcurrent: 1,
      leaseMs: 300,
      pollMs: 20,
    });
    const started = Date.now();
    await g.acquire(); // never released: the holder "crashed"

    const second = await g.acquire();

    expect(second.acquiredAt - started).toBeGreaterThanOrEqual(300);
  });

  it('park() holds every instance: a long park throws MarketoParkedError, a short one is waited out', async () => {
    const id = itemId();
    const make = () =>
      new DynamoDbCallGovernor({
        doc: db.doc,
        tableName: db.tables.governor,
        id,
        callsPerWindow: 10,
        maxConcurrent: 2,
        maxParkWaitMs: 1_000,
      });
    const a = make();
    const b = make();
    const until = Date.now() + 3_600_000;

    await a.park(until, '607 daily quota');
    const err = await b.acquire().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MarketoParkedError);
    expect((err as MarketoParkedError).until.getTime()).toBe(until);
    expect((err as MarketoParkedError).reason).toBe('607 daily quota');

    await a.park(Date.now() + 100, 'shorter'); // never shortens an existing park
    const still = await db.doc.send(new GetCommand({ TableName: db.tables.governor, Key: { id } }));
    expect(still.Item?.parkedUntil).toBe(until);

    const id2 = itemId();
    const c = new DynamoDbCallGovernor({
      doc: db.doc,
      tableName: db.tables.governor,
      id: id2,
      callsPerWindow: 5,
      maxConcurrent: 1,
    });
    const parkedUntil = Date.now() + 200;
    await c.park(parkedUntil, 'brief');
    const lease = await c.acquire();
    expect(lease.acquiredAt).toBeGreaterThanOrEqual(parkedUntil);
    expect(c.stats().parkedWaits).toBe(1);
  });

  it('keeps three clients under the sandbox limits: no 606 and no 615 reach Marketo', async () => {
    const sandbox = await startMarketoSandbox({
      world: freshSmallWorld(),
      limits: { callsPerWindow: 10, windowMs: 1000, maxConcurrent: 3 },
      latency: { ms: 30, jitterMs: 20 },
    });
    try {
      const id = itemId();
      const clients = [0, 1, 2].map(
        () =>
          new MarketoClient({
            baseUrl: sandbox.baseUrl,
            ...sandbox.credentials,
            logger: silentLogger,
            governor: new DynamoDbCallGovernor({
              doc: db.doc,
              tableName: db.tables.governor,
              id,
              callsPerWindow: 8,
              windowMs: 1000,
              maxConcurrent: 2,
              pollMs: 20,
            }),
          }),
      );

      await Promise.all(Array.from({ length: 24 }, (_, i) => clients[i % 3]!.getActivityTypes()));

      expect(sandbox.stats.count('GET /rest/v1/activities/types.json', '200')).toBe(24);
      expect(sandbox.stats.count('GET /rest/v1/activities/types.json')).toBe(24);
      expect(sandbox.stats.maxConcurrentObserved).toBeLessThanOrEqual(2);
    } finally {
      await sandbox.stop();
    }
  });
});

describe('InMemoryCallGovernor', () => {
  it('applies the same window and concurrency rules in-process', async () => {
    const g = new InMemoryCallGovernor(
      { callsPerWindow: 5, windowMs: 500, maxConcurrent: 2 },
      { pollMs: 10 },
    );
    const acquiredAt: number[] = [];
    let inFlight = 0;
    let maxInFlight = 0;

    await Promise.all(
      Array.from({ length: 12 }, async () => {
        const lease = await g.acquire();
        acquiredAt.push(lease.acquiredAt);
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        await pause(10);
        inFlight--;
        await lease.release();
      }),
    );

    expect(maxInAnyWindow(acquiredAt, 500)).toBeLessThanOrEqual(5);
    expect(maxInFlight).toBeLessThanOrEqual(2);
    expect(g.stats()).toMatchObject({ acquired: 12 });
  });
});

/**
 * Discrete-event run of the governor's rule (`decide`, shared by both governors): `callers` loop
 * acquire → call → release; each call lasts `latency(i)` and reaches Marketo at a point between
 * grant and response chosen by `arrival(i)` ∈ [0, 1]. Returns the arrival and grant times.
 */
function simulate(
  limits: { callsPerWindow: number; windowMs: number; maxConcurrent: number },
  callers: number,
  calls: number,
  latency: (i: number) => number,
  arrival: (i: number) => number,
) {
  const rules = withDefaults(limits);
  const state: GovernorState = { calls: [], leases: {} };
  const events: { at: number; run: () => void }[] = [];
  const at = (t: number, run: () => void) => events.push({ at: t, run });
  const arrivals: number[] = [];
  const grants: number[] = [];
  let issued = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const request = (t: number) => {
    if (issued >= calls) return;
    const d = decide(state, t, rules, 10);
    if (d.kind !== 'grant')
      return at(t + (d.kind === 'wait' ? d.ms : 1), () => request(t + (d.kind === 'wait' ? d.ms : 1)));
    const i = issued++;
    Object.assign(state, d.next);
    grants.push(t);
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    const done = t + latency(i);
    arrivals.push(t + arrival(i) * (done - t));
    at(done, () => {
      inFlight--;
      delete state.leases[d.leaseId];
      state.calls.push(done);
      request(done);
    });
  };
  for (let c = 0; c < callers; c++) at(0, () => request(0));
  while (events.length) {
    events.sort((a, b) => a.at - b.at);
    events.shift()?.run();
  }
  return { arrivals, grants, maxInFlight };
}

describe('governor rule (decide)', () => {
  const limits = { callsPerWindow: 5, windowMs: 1_000, maxConcurrent: 3 };

  it('keeps a finished call in the window until a window after its response, and counts calls in flight', () => {
    const rules = withDefaults({ ...limits, callsPerWindow: 1, skewMarginMs: 0 });
    // Granted long ago, answered at 1,000: it may have reached Marketo as late as 1,000.
    expect(decide({ calls: [1_000], leases: {} }, 1_500, rules, 10)).toEqual({
      kind: 'wait',
      ms: 501,
      reason: 'window',
    });
    expect(decide({ calls: [1_000], leases: {} }, 2_001, rules, 10).kind).toBe('grant');
    // A call still in flight fills the one-call window: poll until it finishes.
    expect(decide({ calls: [], leases: { a: 99_999 } }, 1_500, rules, 10)).toEqual({
      kind: 'wait',
      ms: 10,
      reason: 'window',
    });
  });

  it('never lets more calls reach Marketo in any window than the budget, however slow or jittery the calls', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 3_000 }), { minLength: 40, maxLength: 40 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 40, maxLength: 40 }),
        fc.integer({ min: 1, max: 8 }),
        (latencies, arrivalPoints, callers) => {
          const run = simulate(
            limits,
            callers,
            40,
            (i) => latencies[i] as number,
            (i) => arrivalPoints[i] as number,
          );
          expect(run.arrivals).toHaveLength(40);
          expect(maxInAnyWindow(run.arrivals, limits.windowMs)).toBeLessThanOrEqual(limits.callsPerWindow);
          expect(run.maxInFlight).toBeLessThanOrEqual(limits.maxConcurrent);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('sustains close to budget / (window + margin + latency) when calls are short', () => {
    const run = simulate(
      { callsPerWindow: 50, windowMs: 20_000, maxConcurrent: 5 },
      5,
      500,
      () => 300,
      () => 1,
    );
    const span = (run.grants.at(-1) as number) - (run.grants[0] as number);
    // The first 50 go out at 5 in flight (10 rounds of 300 ms); each later call waits for the call
    // 50 before it to be answered plus the window and margin: 9 more windows of 20.55 s.
    expect(span).toBeGreaterThanOrEqual(9 * (20_000 + 250));
    expect(span).toBeLessThanOrEqual(9 * (20_000 + 250 + 300) + 10 * 300 + 100);
  });
});
