import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynamoTestServer, startDynamoTestServer } from '../../../cli/embedded/local-dynamodb.js';
import { DynamoDbSalesActivityStore } from '../../../shared/adapters/dynamodb/sales-activity-store.js';

let db: DynamoTestServer;
beforeAll(async () => {
  db = await startDynamoTestServer();
});
afterAll(async () => {
  await db.stop();
});

describe('DynamoDbSalesActivityStore', () => {
  it('keeps the watermark and one ledger entry per record (the last write wins)', async () => {
    const store = new DynamoDbSalesActivityStore(db.doc, db.tables.salesActivity);
    expect(await store.getWatermark()).toBeUndefined();
    await store.putWatermark('2026-12-01T00:00:00.000Z');
    const base = {
      leadId: 7,
      sentAt: '2026-12-01T00:00:00.000Z',
      activityDate: '2026-11-29T00:00:00.000Z',
      systemModstamp: '2026-11-30T00:00:00.000Z',
    };
    await store.putLedger([
      { recordId: '00T1', state: 'sending', ...base },
      { recordId: '00T2', state: 'sending', ...base },
    ]);
    await store.putLedger([{ recordId: '00T1', state: 'added', marketoGUID: 'g-1', ...base }]);

    const ledger = await store.getLedger(['00T1', '00T2', '00T3', '00T1']);

    expect(await store.getWatermark()).toBe('2026-12-01T00:00:00.000Z');
    expect([...ledger.keys()].sort()).toEqual(['00T1', '00T2']);
    expect(ledger.get('00T1')).toEqual({ recordId: '00T1', state: 'added', marketoGUID: 'g-1', ...base });
    expect(ledger.get('00T2')?.state).toBe('sending');
  });

  it('gives the lease to one of two concurrent owners, and to another once released or expired', async () => {
    let now = 1_000_000;
    const store = new DynamoDbSalesActivityStore(db.doc, db.tables.salesActivity, () => now);
    const results = await Promise.all([store.tryLease('t', 'a', 60_000), store.tryLease('t', 'b', 60_000)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results[0] ? 'a' : 'b';
    const loser = winner === 'a' ? 'b' : 'a';
    expect(await store.tryLease('t', loser, 60_000)).toBe(false);
    await store.releaseLease('t', loser); // not its lease: no effect
    expect(await store.tryLease('t', loser, 60_000)).toBe(false);
    now += 61_000;
    expect(await store.tryLease('t', loser, 60_000)).toBe(true);
    await store.releaseLease('t', loser);
    expect(await store.tryLease('t', winner, 60_000)).toBe(true);
  });
});
