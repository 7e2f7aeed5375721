import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynamoTestServer, startDynamoTestServer } from '../../../cli/embedded/local-dynamodb.js';
import { DynamoDbStagedTaskStore } from '../../../shared/adapters/dynamodb/staged-task-store.js';
import { stagedItemKey } from '../../../shared/domain/staged-row.js';
import { stagedRow } from '../../helpers/store-contract.js';

let db: DynamoTestServer;
beforeAll(async () => {
  db = await startDynamoTestServer();
});
afterAll(async () => {
  await db.stop();
});

describe('StagedTaskStore', () => {
  it('keys rows by run and GUID set, whatever their order', () => {
    expect(stagedItemKey('r', ['a', 'b'])).toBe(stagedItemKey('r', ['b', 'a']));
    expect(stagedItemKey('r', ['a'])).not.toBe(stagedItemKey('r', ['a', 'b']));
  });

  it('splits rows that do not compress under 300 KB into several items, and loads them all back', async () => {
    const store = new DynamoDbStagedTaskStore(db.doc, db.tables.staging);
    // 250 rows × 3,000 random characters: ~750 KB that gzip cannot shrink below 400 KB.
    const rows = Array.from({ length: 250 }, (_, i) =>
      stagedRow(`big-${i}`, randomBytes(2250).toString('base64')),
    );

    await store.stage('big', rows);

    const items = (await store.list()).filter((s) => s.sk.startsWith('big#'));
    expect(items.length).toBeGreaterThan(1);
    expect(items.reduce((n, s) => n + s.rows, 0)).toBe(250);
    const loaded = await store.load(items.map((s) => s.sk));
    expect(loaded.map((r) => r.marketoGUID).sort()).toEqual(rows.map((r) => r.marketoGUID).sort());
    expect(loaded.find((r) => r.marketoGUID === 'big-7')).toEqual(rows[7]);

    await store.remove(items.map((s) => s.sk));
    expect((await store.list()).filter((s) => s.sk.startsWith('big#'))).toEqual([]);
  });
});
