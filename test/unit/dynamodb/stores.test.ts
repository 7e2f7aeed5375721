import type { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynamoTestServer, startDynamoTestServer } from '../../../cli/embedded/local-dynamodb.js';
import { DynamoDbCursorStore } from '../../../shared/adapters/dynamodb/cursor-store.js';
import { DynamoDbLeadCacheStore } from '../../../shared/adapters/dynamodb/lead-cache-store.js';
import { DynamoDbLedgerStore } from '../../../shared/adapters/dynamodb/ledger-store.js';
import { DynamoDbRunReportStore } from '../../../shared/adapters/dynamodb/run-report-store.js';
import { chainId } from '../../../shared/domain/activity-chain.js';
import { newRunId } from '../../../shared/domain/run-report.js';

let db: DynamoTestServer;
beforeAll(async () => {
  db = await startDynamoTestServer();
});
afterAll(async () => {
  await db.stop();
});

describe('CursorStore', () => {
  it('lets exactly one of two concurrent claimers own a stream', async () => {
    const cursors = new DynamoDbCursorStore(db.doc, db.tables.cursors);
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
    const owner = (await cursors.getStream('s-claim'))?.activeRunId;
    expect(['run-a', 'run-b']).toContain(owner);
  });

  it('advances a chain only from the page the caller holds', async () => {
    const cursors = new DynamoDbCursorStore(db.doc, db.tables.cursors);
    const id = chainId('run-x', 's-chain', 0);
    await cursors.createChain({
      id,
      runId: 'run-x',
      streamKey: 's-chain',
      windowIndex: 0,
      resumeFrom: '2026-01-01T00:00:00.000Z',
    });

    const first = await cursors.advanceChain(id, 0, {
      token: 'T1',
      resumeFrom: '2026-01-02T00:00:00.000Z',
      done: false,
    });
    const replay = await cursors.advanceChain(id, 0, {
      token: 'T1-again',
      resumeFrom: '2026-01-02T00:00:00.000Z',
      done: false,
    });

    expect([first, replay]).toEqual([true, false]);
    expect(await cursors.getChain(id)).toMatchObject({ page: 1, token: 'T1', done: false });
  });

  it('moves the watermark to the run bound only when every window is done, once', async () => {
    const cursors = new DynamoDbCursorStore(db.doc, db.tables.cursors);
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
    expect(cursor).toMatchObject({ watermark: '2026-11-23T04:00:00.000Z', version: 2 });
    expect(cursor?.activeRunId).toBeUndefined();
  });

  it('tells exactly one of two windows finishing at once that the stream is done', async () => {
    // Hold the first release until the second window has added itself, so both see every window done.
    let releaseFirst: () => void = () => {};
    const firstHeld = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    let releases = 0;
    const doc = {
      send: async (command: UpdateCommand) => {
        const isRelease = String(command.input.UpdateExpression).startsWith('SET watermark');
        if (isRelease && releases++ === 0) await firstHeld;
        return db.doc.send(command);
      },
    } as unknown as typeof db.doc;
    const cursors = new DynamoDbCursorStore(doc, db.tables.cursors);
    await cursors.claimStream({
      streamKey: 's-race',
      runId: 'r1',
      runUntil: '2026-11-23T04:00:00.000Z',
      windowCount: 2,
      expectedVersion: undefined,
    });
    const direct = new DynamoDbCursorStore(db.doc, db.tables.cursors);
    await direct.completeWindow('s-race', 'r1', 0); // 'pending'

    const first = cursors.completeWindow('s-race', 'r1', 1);
    while (releases === 0) await new Promise((r) => setTimeout(r, 5));
    const second = await cursors.completeWindow('s-race', 'r1', 1);
    releaseFirst();

    expect([await first, second].sort()).toEqual(['alreadyDone', 'streamDone']);
    expect((await direct.getStream('s-race'))?.version).toBe(2);
  });

  it('refuses completion from a run that lost ownership', async () => {
    const cursors = new DynamoDbCursorStore(db.doc, db.tables.cursors);
    await cursors.claimStream({
      streamKey: 's-own',
      runId: 'old',
      runUntil: '2026-11-23T04:00:00.000Z',
      windowCount: 1,
      expectedVersion: undefined,
    });
    await cursors.claimStream({
      streamKey: 's-own',
      runId: 'new',
      runUntil: '2026-11-23T05:00:00.000Z',
      windowCount: 1,
      expectedVersion: 1,
    });

    expect(await cursors.completeWindow('s-own', 'old', 0)).toBe('stale');
    expect((await cursors.getStream('s-own'))?.watermark).toBeUndefined();
  });
});

describe('LedgerStore', () => {
  it('reports the transition to done exactly once and never lets failed overwrite done', async () => {
    const ledger = new DynamoDbLedgerStore(db.doc, db.tables.ledger);

    const claimed = await ledger.claim({ marketoGUID: 'g-1', leadId: 7 }, 'owner-a', 60_000);
    const done = await ledger.markDone({ marketoGUID: 'g-1', taskId: '00T1' });
    const doneAgain = await ledger.markDone({ marketoGUID: 'g-1', taskId: '00T2' });
    const failed = await ledger.markFailed({ marketoGUID: 'g-1', reason: 'X' });
    const reclaimed = await ledger.claim({ marketoGUID: 'g-1' }, 'owner-b', 60_000);

    expect([claimed, done, doneAgain, failed, reclaimed.claimed]).toEqual([
      { claimed: true, hadAttempt: false },
      true,
      false,
      false,
      false,
    ]);
    expect((await ledger.getMany(['g-1', 'g-none'])).get('g-1')).toMatchObject({
      status: 'done',
      taskId: '00T1',
    });
  });

  it('lets only one live attempt hold a claim, and the next one in once it is released or expired', async () => {
    const ledger = new DynamoDbLedgerStore(db.doc, db.tables.ledger);
    const now = Date.parse('2026-11-23T00:00:00Z');

    const a = await ledger.claim({ marketoGUID: 'g-lease' }, 'a', 60_000, now);
    const bWhileLive = await ledger.claim({ marketoGUID: 'g-lease' }, 'b', 60_000, now + 1_000);
    await ledger.release('g-lease', 'a');
    const bAfterRelease = await ledger.claim({ marketoGUID: 'g-lease' }, 'b', 60_000, now + 2_000);
    const cAfterExpiry = await ledger.claim({ marketoGUID: 'g-lease' }, 'c', 60_000, now + 70_000);

    expect([a, bWhileLive, bAfterRelease, cAfterExpiry]).toEqual([
      { claimed: true, hadAttempt: false },
      { claimed: false, hadAttempt: true },
      { claimed: true, hadAttempt: true },
      { claimed: true, hadAttempt: true },
    ]);
  });

  it('reads more than 100 entries (BatchGet chunks)', async () => {
    const ledger = new DynamoDbLedgerStore(db.doc, db.tables.ledger);
    const guids = Array.from({ length: 230 }, (_, i) => `bulk-${i}`);
    await Promise.all(guids.map((g) => ledger.markDone({ marketoGUID: g, taskId: `T-${g}` })));

    const got = await ledger.getMany(guids);

    expect(got.size).toBe(230);
    expect(got.get('bulk-229')?.taskId).toBe('T-bulk-229');
  });
});

describe('LeadCacheStore', () => {
  it('returns cached leads until their TTL passes', async () => {
    let now = Date.parse('2026-11-23T00:00:00Z');
    const cache = new DynamoDbLeadCacheStore(db.doc, db.tables.leadCache, 60, () => now);
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
});

describe('RunReportStore', () => {
  it('adds counters atomically from concurrent writers and lists the newest run first', async () => {
    const runs = new DynamoDbRunReportStore(db.doc, db.tables.runs);
    const older = newRunId(new Date('2026-11-22T20:00:00Z'));
    const newer = newRunId(new Date('2026-11-23T20:00:00Z'));
    await runs.start('activities', older);
    await runs.start('activities', newer);

    await Promise.all(
      Array.from({ length: 20 }, () =>
        runs.add('activities', newer, { read: 3, 'skipped.noSalesforceRecord': 1 }),
      ),
    );
    await runs.finish('activities', newer, 'completed');

    const [latest] = await runs.recent('activities', 1);
    expect(latest?.runId).toBe(newer);
    expect(latest?.counts).toEqual({ read: 60, 'skipped.noSalesforceRecord': 20 });
    expect(latest?.status).toBe('completed');
  });
});
