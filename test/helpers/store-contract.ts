import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainId } from '../../shared/domain/activity-chain.js';
import { type HistoryEntry, salesforceTarget } from '../../shared/domain/opt-out-state.js';
import { newRunId } from '../../shared/domain/run-report.js';
import type { StagedRow } from '../../shared/domain/staged-row.js';
import type { CursorStore } from '../../shared/ports/cursor-store.js';
import type { FailureStore } from '../../shared/ports/failure-store.js';
import type { LeadCacheStore } from '../../shared/ports/lead-cache-store.js';
import type { LedgerStore } from '../../shared/ports/ledger-store.js';
import type { OptOutStore } from '../../shared/ports/opt-out-store.js';
import type { RunReportStore } from '../../shared/ports/run-report-store.js';
import { FlushLeaseLostError, type StagedTaskStore } from '../../shared/ports/staged-task-store.js';

/** Builds each store port over one backing store (a DynamoDB-API server, or memory). */
export interface StoreFactory {
  cursors(): CursorStore;
  ledger(): LedgerStore;
  leadCache(ttlSeconds: number, now: () => number): LeadCacheStore;
  runs(): RunReportStore;
  staging(): StagedTaskStore;
  optOuts(): OptOutStore;
  failures(now: () => number): FailureStore;
}

/** One staged Task row on a fixed lead. */
export const stagedRow = (guid: string, description = ''): StagedRow => ({
  marketoGUID: guid,
  runId: 'run-1',
  whoId: '00Q000000000001AAA',
  leadId: 1,
  activityTypeName: 'Open Email',
  activityDate: '2026-01-01T00:00:00Z',
  task: {
    WhoId: '00Q000000000001AAA',
    Subject: 's',
    Status: 'Completed',
    Priority: 'Normal',
    ActivityDate: '2026-01-01',
    Description: description,
  },
  attempts: 0,
});

/** A webhook opt-out observation as history records it. */
export const observed = (id: string, at: string): HistoryEntry => ({
  kind: 'observed',
  id,
  at,
  source: 'webhook',
  value: true,
  verdict: 'optOut',
  evidence: { eventId: id },
  optedOut: true,
});

/**
 * The behaviour every implementation of the store ports shares: conditional writes, versions and
 * leases. Run against the DynamoDB adapters (on dynalite) and the in-memory stores, so a use-case
 * test on memory proves what it would on DynamoDB. Keys are unique per test: one backing store
 * serves the whole suite.
 */
export function describeStoreContract(
  name: string,
  setup: () => Promise<{ stores: StoreFactory; stop(): Promise<void> }>,
): void {
  describe(`store ports (${name})`, () => {
    let stores: StoreFactory;
    let stop: () => Promise<void> = async () => {};
    beforeAll(async () => {
      ({ stores, stop } = await setup());
    });
    afterAll(async () => {
      await stop();
    });

    describe('CursorStore', () => {
      it('lets exactly one of two concurrent claimers own a stream', async () => {
        const cursors = stores.cursors();
        const claim = (runId: string) =>
          cursors.claimStream({
            streamKey: 's-claim',
            runId,
            runUntil: '2026-11-23T00:00:00.000Z',
            windowCount: 1,
            expectedVersion: undefined,
          });

        const results = await Promise.all([claim('run-a'), claim('run-b')]);

        expect(results.filter(Boolean)).toHaveLength(1);
        expect(['run-a', 'run-b']).toContain((await cursors.getStream('s-claim'))?.activeRunId);
      });

      it('re-claims only from the version it read', async () => {
        const cursors = stores.cursors();
        const claim = (runId: string, expectedVersion: number | undefined) =>
          cursors.claimStream({
            streamKey: 's-version',
            runId,
            runUntil: '2026-11-23T00:00:00.000Z',
            windowCount: 1,
            expectedVersion,
            watermark: '2026-11-22T00:00:00.000Z',
          });

        expect([
          await claim('a', undefined),
          await claim('b', 0),
          await claim('c', 1),
          await claim('d', 1),
        ]).toEqual([true, false, true, false]);
        expect(await cursors.getStream('s-version')).toMatchObject({
          activeRunId: 'c',
          version: 2,
          watermark: '2026-11-22T00:00:00.000Z',
          doneWindows: [],
        });
      });

      it('creates a chain once and advances it only from the page the caller holds', async () => {
        const cursors = stores.cursors();
        const id = chainId('run-x', 's-chain', 0);
        const chain = {
          id,
          runId: 'run-x',
          streamKey: 's-chain',
          windowIndex: 0,
          resumeFrom: '2026-01-01T00:00:00.000Z',
        };
        await cursors.createChain(chain);
        await cursors.createChain({ ...chain, resumeFrom: '2026-06-01T00:00:00.000Z' });

        const first = await cursors.advanceChain(id, 0, {
          token: 'T1',
          resumeFrom: '2026-01-02T00:00:00.000Z',
          done: false,
        });
        const replay = await cursors.advanceChain(id, 0, {
          token: 'T1b',
          resumeFrom: '2026-01-02T00:00:00.000Z',
          done: false,
        });
        const last = await cursors.advanceChain(id, 1, {
          resumeFrom: '2026-01-03T00:00:00.000Z',
          done: true,
        });
        const afterDone = await cursors.advanceChain(id, 2, {
          resumeFrom: '2026-01-04T00:00:00.000Z',
          done: false,
        });

        expect([first, replay, last, afterDone]).toEqual([true, false, true, false]);
        expect(await cursors.getChain(id)).toEqual({
          ...chain,
          page: 2,
          resumeFrom: '2026-01-03T00:00:00.000Z',
          done: true,
        });
        expect(await cursors.advanceChain('chain#none', 0, { resumeFrom: 'x', done: false })).toBe(false);
      });

      it('moves the watermark to the run bound only when every window is done, once', async () => {
        const cursors = stores.cursors();
        await cursors.claimStream({
          streamKey: 's-win',
          runId: 'r1',
          runUntil: '2026-11-23T04:00:00.000Z',
          windowCount: 2,
          expectedVersion: undefined,
        });

        const a = await cursors.completeWindow('s-win', 'r1', 1);
        const aAgain = await cursors.completeWindow('s-win', 'r1', 1);
        const b = await cursors.completeWindow('s-win', 'r1', 0);
        const late = await cursors.completeWindow('s-win', 'r1', 0);

        expect([a, aAgain, b, late]).toEqual(['pending', 'pending', 'streamDone', 'stale']);
        const cursor = await cursors.getStream('s-win');
        expect(cursor).toMatchObject({ watermark: '2026-11-23T04:00:00.000Z', version: 2, doneWindows: [] });
        expect(cursor?.activeRunId).toBeUndefined();
        expect(cursor?.runUntil).toBeUndefined();
      });

      it('refuses completion from a run that lost ownership, or of a stream never claimed', async () => {
        const cursors = stores.cursors();
        const claim = (runId: string, expectedVersion: number | undefined) =>
          cursors.claimStream({
            streamKey: 's-own',
            runId,
            runUntil: '2026-11-23T04:00:00.000Z',
            windowCount: 1,
            expectedVersion,
          });
        await claim('old', undefined);
        await claim('new', 1);

        expect(await cursors.completeWindow('s-own', 'old', 0)).toBe('stale');
        expect(await cursors.completeWindow('s-never', 'old', 0)).toBe('stale');
        expect((await cursors.getStream('s-own'))?.watermark).toBeUndefined();
      });

      it('replaces a keyed value only from the version it read', async () => {
        const cursors = stores.cursors();

        const created = await cursors.putValue('v-1', { at: 'a' }, undefined);
        const createdTwice = await cursors.putValue('v-1', { at: 'b' }, undefined);
        const stale = await cursors.putValue('v-1', { at: 'c' }, 0);
        const moved = await cursors.putValue('v-1', { at: 'd' }, 1);

        expect([created, createdTwice, stale, moved]).toEqual([true, false, false, true]);
        expect(await cursors.getValue('v-1')).toEqual({ value: { at: 'd' }, version: 2 });
        expect(await cursors.getValue('v-none')).toBeUndefined();
      });
    });

    describe('LedgerStore', () => {
      it('reports the transition to done exactly once and never lets failed overwrite done', async () => {
        const ledger = stores.ledger();

        const claimed = await ledger.claim({ marketoGUID: 'g-1', leadId: 7 }, 'owner-a', 60_000);
        const done = await ledger.markDone({ marketoGUID: 'g-1', taskId: '00T1' });
        const doneAgain = await ledger.markDone({ marketoGUID: 'g-1', taskId: '00T2' });
        const failed = await ledger.markFailed({ marketoGUID: 'g-1', reason: 'X' });
        const reclaimed = await ledger.claim({ marketoGUID: 'g-1' }, 'owner-b', 60_000);

        expect([claimed, done, doneAgain, failed, reclaimed]).toEqual([
          { claimed: true, hadAttempt: false },
          true,
          false,
          false,
          { claimed: false, hadAttempt: true },
        ]);
        const got = await ledger.getMany(['g-1', 'g-none', 'g-1']);
        expect([...got.keys()]).toEqual(['g-1']);
        expect(got.get('g-1')).toMatchObject({ status: 'done', taskId: '00T1' });
      });

      it('lets only one live attempt hold a claim, and the next one in once it is released or expired', async () => {
        const ledger = stores.ledger();
        const now = Date.parse('2026-11-23T00:00:00Z');

        const a = await ledger.claim({ marketoGUID: 'g-lease' }, 'a', 60_000, now);
        const bWhileLive = await ledger.claim({ marketoGUID: 'g-lease' }, 'b', 60_000, now + 1_000);
        const aAgain = await ledger.claim({ marketoGUID: 'g-lease' }, 'a', 60_000, now + 1_000);
        await ledger.release('g-lease', 'b');
        const cAfterWrongRelease = await ledger.claim({ marketoGUID: 'g-lease' }, 'c', 60_000, now + 2_000);
        await ledger.release('g-lease', 'a');
        const bAfterRelease = await ledger.claim({ marketoGUID: 'g-lease' }, 'b', 60_000, now + 2_000);
        const cAfterExpiry = await ledger.claim({ marketoGUID: 'g-lease' }, 'c', 60_000, now + 70_000);

        expect([a, bWhileLive, aAgain, cAfterWrongRelease, bAfterRelease, cAfterExpiry]).toEqual([
          { claimed: true, hadAttempt: false },
          { claimed: false, hadAttempt: true },
          { claimed: true, hadAttempt: true },
          { claimed: false, hadAttempt: true },
          { claimed: true, hadAttempt: true },
          { claimed: true, hadAttempt: true },
        ]);
      });

      it('records a skip only the first time, and failures until the entry is done', async () => {
        const ledger = stores.ledger();

        const skipped = await ledger.markSkipped({ marketoGUID: 'g-skip', reason: 'noSalesforceRecord' });
        const skippedAgain = await ledger.markSkipped({
          marketoGUID: 'g-skip',
          reason: 'noSalesforceRecord',
        });
        const failed = await ledger.markFailed({ marketoGUID: 'g-fail', reason: 'A' });
        const failedAgain = await ledger.markFailed({ marketoGUID: 'g-fail', reason: 'B' });

        expect([skipped, skippedAgain, failed, failedAgain]).toEqual([true, false, true, true]);
        const got = await ledger.getMany(['g-skip', 'g-fail']);
        expect(got.get('g-skip')).toMatchObject({ status: 'skipped', reason: 'noSalesforceRecord' });
        expect(got.get('g-fail')).toMatchObject({ status: 'failed', reason: 'B' });
        const scanned = [];
        for await (const e of ledger.scanAll()) scanned.push(e.marketoGUID);
        expect(scanned).toEqual(expect.arrayContaining(['g-skip', 'g-fail']));
      });
    });

    describe('LeadCacheStore', () => {
      it('returns cached leads until their TTL passes', async () => {
        let now = Date.parse('2026-11-23T00:00:00Z');
        const cache = stores.leadCache(60, () => now);
        await cache.putMany([
          { leadId: 1, exists: true, sfdcType: 'Lead', sfdcLeadId: '00Q1' },
          { leadId: 2, exists: false },
        ]);

        const fresh = await cache.getMany([1, 2, 3]);
        now += 61_000;
        const expired = await cache.getMany([1, 2]);

        expect([...fresh.keys()].sort()).toEqual([1, 2]);
        expect(fresh.get(1)).toEqual({ leadId: 1, exists: true, sfdcType: 'Lead', sfdcLeadId: '00Q1' });
        expect(expired.size).toBe(0);
      });

      it('caches nothing when the TTL is 0', async () => {
        const cache = stores.leadCache(0, Date.now);
        await cache.putMany([{ leadId: 11, exists: true }]);
        expect((await cache.getMany([11])).size).toBe(0);
      });
    });

    describe('RunReportStore', () => {
      it('adds counters atomically from concurrent writers and lists the newest run first', async () => {
        const runs = stores.runs();
        const older = newRunId(new Date('2026-11-22T20:00:00Z'));
        const newer = newRunId(new Date('2026-11-23T20:00:00Z'));
        await runs.start('optouts', older);
        await runs.start('optouts', newer, { streams: 2 });

        await Promise.all(
          Array.from({ length: 20 }, () =>
            runs.add('optouts', newer, { read: 3, 'skipped.noSalesforceRecord': 1, zero: 0, 'bad name': 1 }),
          ),
        );
        await runs.finish('optouts', newer, 'completed', { note: 'ok' });

        const [latest, next] = await runs.recent('optouts', 2);
        expect(latest).toMatchObject({
          kind: 'optouts',
          runId: newer,
          status: 'completed',
          counts: { read: 60, 'skipped.noSalesforceRecord': 20 },
          details: { note: 'ok' },
        });
        expect(Object.keys(latest?.counts ?? {}).sort()).toEqual(['read', 'skipped.noSalesforceRecord']);
        expect(latest?.finishedAt).toEqual(expect.any(String));
        expect(next).toMatchObject({ runId: older, status: 'running', counts: {} });
        expect(await runs.get('optouts', older)).toEqual(next);
      });

      it('refuses to start a run twice or to count into a run never started', async () => {
        const runs = stores.runs();
        const runId = newRunId();
        await runs.start('activities', runId);

        await expect(runs.start('activities', runId)).rejects.toThrow();
        await expect(runs.add('activities', 'never', { read: 1 })).rejects.toThrow();
        await expect(runs.finish('activities', 'never', 'failed')).rejects.toThrow();
        expect(await runs.get('activities', 'never')).toBeUndefined();
      });
    });

    describe('StagedTaskStore', () => {
      it('stages, lists, loads and removes rows; a redelivery overwrites its own item', async () => {
        const store = stores.staging();
        const at = new Date('2099-01-01T00:00:00.000Z');
        await store.stage('c-run#k1', [stagedRow('a'), stagedRow('b')], at);
        await store.stage('c-run#k1', [stagedRow('a'), stagedRow('b', 'again')], at);
        await store.stage('c-run#k0', [stagedRow('c')], new Date('2098-01-01T00:00:00.000Z'));
        await store.stage('c-run#empty', []);

        const items = (await store.list()).filter((s) => s.sk.startsWith('c-run#'));
        expect(items.map((s) => [s.sk, s.rows, s.stagedAt])).toEqual([
          ['c-run#k0#0', 1, '2098-01-01T00:00:00.000Z'],
          ['c-run#k1#0', 2, '2099-01-01T00:00:00.000Z'],
        ]);
        expect(items[1]?.bytes).toBe(
          Buffer.byteLength(JSON.stringify([stagedRow('a'), stagedRow('b', 'again')])),
        );
        expect(await store.lastStagedAt()).toBe(at.getTime());
        const loaded = await store.load(['c-run#k1#0', 'c-run#gone#0']);
        expect(loaded.sort((x, y) => x.marketoGUID.localeCompare(y.marketoGUID))).toEqual([
          stagedRow('a'),
          stagedRow('b', 'again'),
        ]);

        await store.remove(['c-run#k0#0', 'c-run#k1#0']);
        expect((await store.list()).filter((s) => s.sk.startsWith('c-run#'))).toEqual([]);
      });

      it('keeps the flush state across leases: members and job id survive a released lease, not a completed flush', async () => {
        const store = stores.staging();
        const now = Date.now();
        expect(await store.acquireFlush('a', { leaseMs: 60_000, now })).toEqual({});
        await store.planFlush('a', 'flush-1', ['x#0', 'y#0']);
        await store.recordJob('a', '750000000000001AAA');
        expect(await store.acquireFlush('b', { leaseMs: 60_000, now })).toBeUndefined();
        await store.releaseFlush('b');
        expect(await store.acquireFlush('b', { leaseMs: 60_000, now })).toBeUndefined();
        await store.releaseFlush('a');

        expect(await store.acquireFlush('b', { leaseMs: 60_000, now })).toEqual({
          flushId: 'flush-1',
          members: ['x#0', 'y#0'],
          jobId: '750000000000001AAA',
        });
        await expect(store.recordJob('a', 'other')).rejects.toBeInstanceOf(FlushLeaseLostError);
        await store.planFlush('b', 'flush-2', ['z#0']);
        expect(await store.acquireFlush('b', { leaseMs: 60_000, now })).toEqual({
          flushId: 'flush-2',
          members: ['z#0'],
        });
        expect(await store.acquireFlush('c', { leaseMs: 60_000, now: now + 61_000 })).toEqual({
          flushId: 'flush-2',
          members: ['z#0'],
        });
        expect(await store.acquireFlush('d', { leaseMs: 60_000, now: now + 62_000, takeOver: true })).toEqual(
          {
            flushId: 'flush-2',
            members: ['z#0'],
          },
        );
        await expect(store.completeFlush('c')).rejects.toBeInstanceOf(FlushLeaseLostError);
        await store.completeFlush('d');
        expect(await store.acquireFlush('e', { leaseMs: 60_000, now })).toEqual({});
        await store.completeFlush('e');
      });
    });

    describe('OptOutStore', () => {
      it('creates the state on first write and appends history entries in time order', async () => {
        const store = stores.optOuts();
        const key = 'first@example.com';

        const first = await store.update(key, (s, version) => {
          expect(version).toBe(0);
          return {
            state: { ...s, optedOut: true, optedOutAt: '2026-10-01T00:00:02.000Z' },
            history: [observed('b', '2026-10-01T00:00:02.000Z')],
          };
        });
        await store.update(key, (s) => ({ state: s, history: [observed('a', '2026-10-01T00:00:01.000Z')] }));
        await store.appendHistory(key, [observed('c', '2026-10-01T00:00:03.000Z')]);

        expect(first).toMatchObject({ changed: true, version: 1, state: { email: key, optedOut: true } });
        const got = await store.get(key);
        expect(got?.version).toBe(2);
        expect(got?.state).toMatchObject({
          email: key,
          optedOut: true,
          records: {},
          ourWrites: [],
          rejectedResubscribes: 0,
        });
        const history = await store.history(key);
        expect(history.map((h) => h.id)).toEqual(['a', 'b', 'c']);
        expect(history[1]).toEqual(observed('b', '2026-10-01T00:00:02.000Z'));
      });

      it('loses no update when 10 writers change one person at once', async () => {
        const store = stores.optOuts();
        const key = 'busy@example.com';
        const n = 10;
        await Promise.all(
          Array.from({ length: n }, (_, i) =>
            store.update(key, (s) => ({
              state: {
                ...s,
                records: {
                  ...s.records,
                  [salesforceTarget('Contact', `003${String(i).padStart(12, '0')}`)]: {
                    optedOut: true,
                    at: '2026-10-01T00:00:00.000Z',
                  },
                },
              },
              history: [observed(`w${i}`, `2026-10-01T00:00:${String(i).padStart(2, '0')}.000Z`)],
            })),
          ),
        );
        const got = await store.get(key);
        expect(got?.version).toBe(n);
        expect(Object.keys(got?.state.records ?? {})).toHaveLength(n);
        expect((await store.history(key)).map((h) => h.id)).toEqual(
          Array.from({ length: n }, (_, i) => `w${i}`),
        );
      });

      it('reads many people at once, absent ones left out, over the 100-key batch size', async () => {
        const store = stores.optOuts();
        const keys = Array.from({ length: 130 }, (_, i) => `many${i}@example.com`);
        await Promise.all(
          keys
            .filter((_, i) => i % 2 === 0)
            .map((k) => store.update(k, (s) => ({ state: { ...s, optedOut: true }, history: [] }))),
        );
        await store.update(keys[0] as string, (s) => ({ state: { ...s, optedOut: false }, history: [] }));

        const got = await store.getMany([...keys, keys[0] as string]);

        expect([...got.keys()].sort()).toEqual(keys.filter((_, i) => i % 2 === 0).sort());
        expect(got.get(keys[0] as string)).toMatchObject({ version: 2, state: { optedOut: false } });
        expect(got.get(keys[2] as string)).toMatchObject({ version: 1, state: { optedOut: true } });
      });

      it('writes nothing when the change function says nothing changed', async () => {
        const store = stores.optOuts();
        const r = await store.update('nochange@example.com', () => undefined);
        expect(r).toMatchObject({ changed: false, version: 0, history: [] });
        expect(await store.get('nochange@example.com')).toBeUndefined();
      });

      it('claims a webhook event once; a replay sees the stored event and its status', async () => {
        const store = stores.optOuts();
        const key = 'dedupe@example.com';
        const first = await store.claimEvent(key, {
          eventId: 'evt-1',
          receivedAt: '2026-10-01T00:00:00.000Z',
        });
        await store.setEventStatus(key, 'evt-1', 'queued');
        const [a, b] = await Promise.all([
          store.claimEvent(key, { eventId: 'evt-1', receivedAt: '2026-10-01T00:00:05.000Z' }),
          store.claimEvent(key, { eventId: 'evt-1', receivedAt: '2026-10-01T00:00:06.000Z' }),
        ]);

        expect(first).toMatchObject({ claimed: true, event: { eventId: 'evt-1', status: 'accepted' } });
        expect([a.claimed, b.claimed]).toEqual([false, false]);
        expect(a.event).toMatchObject({
          eventId: 'evt-1',
          status: 'queued',
          receivedAt: '2026-10-01T00:00:00.000Z',
        });
        expect(await store.getEvent(key, 'evt-none')).toBeUndefined();
      });

      it('never moves an event status backwards, and ignores events never claimed', async () => {
        const store = stores.optOuts();
        const key = 'status@example.com';
        await store.claimEvent(key, { eventId: 'evt-2', receivedAt: '2026-10-01T00:00:00.000Z' });
        await store.setEventStatus(key, 'evt-2', 'applied', {
          appliedAt: '2026-10-01T00:00:01.000Z',
          written: 3,
        });
        await store.setEventStatus(key, 'evt-2', 'queued');
        await store.setEventStatus(key, 'evt-never', 'queued');

        expect(await store.getEvent(key, 'evt-2')).toMatchObject({
          status: 'applied',
          written: 3,
          appliedAt: '2026-10-01T00:00:01.000Z',
        });
        expect(await store.getEvent(key, 'evt-never')).toBeUndefined();
      });
    });

    describe('FailureStore', () => {
      it('accumulates failures of one message: first time kept, latest error wins', async () => {
        let now = Date.parse('2026-11-23T00:00:00Z');
        const failures = stores.failures(() => now);
        const failure = { queue: 'write', messageId: 'm-1', body: { activities: 3 } };
        await failures.record({
          ...failure,
          attempts: 1,
          error: { name: 'A', message: 'first' },
          vendorCode: '606',
        });
        now += 60_000;
        await failures.record({ ...failure, attempts: 2, error: { name: 'B', message: 'second' } });

        expect(await failures.get('write', 'm-1')).toEqual({
          ...failure,
          attempts: 2,
          error: { name: 'B', message: 'second' },
          vendorCode: '606',
          failures: 2,
          firstFailedAt: '2026-11-23T00:00:00.000Z',
          lastFailedAt: '2026-11-23T00:01:00.000Z',
          expiresAt: Math.floor(now / 1000) + 15 * 86_400,
        });
        const many = await failures.getMany([
          { queue: 'write', messageId: 'm-1' },
          { queue: 'fetch', messageId: 'm-1' },
        ]);
        expect([...many.keys()]).toEqual(['write#m-1']);
      });

      it('notes a redrive once sent, and refuses to start another after it', async () => {
        const now = Date.parse('2026-11-23T00:00:00Z');
        const failures = stores.failures(() => now);

        await failures.redriveStarted('fetch', 'm-2');
        await failures.redriveStarted('fetch', 'm-2');
        await failures.redriveSent('fetch', 'm-2', 'new-1');

        expect(await failures.get('fetch', 'm-2')).toEqual({
          queue: 'fetch',
          messageId: 'm-2',
          expiresAt: Math.floor(now / 1000) + 15 * 86_400,
          redrive: {
            state: 'sent',
            startedAt: '2026-11-23T00:00:00.000Z',
            newMessageId: 'new-1',
            sentAt: '2026-11-23T00:00:00.000Z',
          },
        });
        await expect(failures.redriveStarted('fetch', 'm-2')).rejects.toThrow();
      });
    });
  });
}
