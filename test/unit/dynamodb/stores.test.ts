import type { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynamoTestServer, startDynamoTestServer } from '../../../cli/embedded/local-dynamodb.js';
import { DynamoDbCursorStore } from '../../../shared/adapters/dynamodb/cursor-store.js';
import { DynamoDbFailureStore } from '../../../shared/adapters/dynamodb/failure-store.js';
import { DynamoDbLeadCacheStore } from '../../../shared/adapters/dynamodb/lead-cache-store.js';
import { DynamoDbLedgerStore } from '../../../shared/adapters/dynamodb/ledger-store.js';
import { DynamoDbOptOutStore } from '../../../shared/adapters/dynamodb/opt-out-store.js';
import { DynamoDbRunReportStore } from '../../../shared/adapters/dynamodb/run-report-store.js';
import { DynamoDbStagedTaskStore } from '../../../shared/adapters/dynamodb/staged-task-store.js';
import { describeStoreContract } from '../../helpers/store-contract.js';

let db: DynamoTestServer;
beforeAll(async () => {
  db = await startDynamoTestServer();
});
afterAll(async () => {
  await db.stop();
});

describeStoreContract('DynamoDB on dynalite', async () => ({
  stores: {
    cursors: () => new DynamoDbCursorStore(db.doc, db.tables.cursors),
    ledger: () => new DynamoDbLedgerStore(db.doc, db.tables.ledger),
    leadCache: (ttl, now) => new DynamoDbLeadCacheStore(db.doc, db.tables.leadCache, ttl, now),
    runs: () => new DynamoDbRunReportStore(db.doc, db.tables.runs),
    staging: () => new DynamoDbStagedTaskStore(db.doc, db.tables.staging),
    optOuts: () => new DynamoDbOptOutStore(db.doc, db.tables.optOuts),
    failures: (now) => new DynamoDbFailureStore(db.doc, db.tables.failures, now),
  },
  stop: async () => {},
}));

describe('CursorStore', () => {
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
});

describe('LedgerStore', () => {
  it('reads more than 100 entries (BatchGet chunks)', async () => {
    const ledger = new DynamoDbLedgerStore(db.doc, db.tables.ledger);
    const guids = Array.from({ length: 230 }, (_, i) => `bulk-${i}`);
    await Promise.all(guids.map((g) => ledger.markDone({ marketoGUID: g, taskId: `T-${g}` })));

    const got = await ledger.getMany(guids);

    expect(got.size).toBe(230);
    expect(got.get('bulk-229')?.taskId).toBe('T-bulk-229');
  });
});
