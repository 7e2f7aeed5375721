import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynamoTestServer, startDynamoTestServer } from '../../../cli/embedded/local-dynamodb.js';
import { DynamoDbOptOutStore } from '../../../shared/adapters/dynamodb/opt-out-store.js';
import { emptyOptOutState, salesforceTarget } from '../../../shared/domain/opt-out-state.js';
import type { OptOutStore } from '../../../shared/ports/opt-out-store.js';
import { observed } from '../../helpers/store-contract.js';

describe('DynamoDbOptOutStore (on dynalite): retries and the outbox', () => {
  let db: DynamoTestServer;
  let store: OptOutStore;

  beforeAll(async () => {
    db = await startDynamoTestServer();
    store = new DynamoDbOptOutStore(db.doc, db.tables.optOuts);
  });
  afterAll(async () => {
    await db.stop();
  });

  it('loses no update when 30 writers change one person at once', async () => {
    const key = 'busy@example.com';
    const n = 30;
    const results = await Promise.all(
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
    expect((await store.history(key)).map((h) => h.id).sort()).toEqual(
      Array.from({ length: n }, (_, i) => `w${i}`).sort(),
    );
    expect(results.some((r) => r.attempts > 1)).toBe(true);
  });

  it('recovers history entries left in the outbox by a crash between the state write and the copy', async () => {
    // Prepare: a STATE item exactly as a crashed writer leaves it.
    const key = 'crashed@example.com';
    const entry = observed('lost?', '2026-10-02T00:00:00.000Z');
    await db.doc.send(
      new PutCommand({
        TableName: db.tables.optOuts,
        Item: { ...emptyOptOutState(key, entry.at), sk: 'STATE', version: 1, outbox: [entry] },
      }),
    );
    // Act: the next writer, about something else.
    await store.update(key, (s) => ({ state: { ...s, webhookAt: entry.at }, history: [] }));
    // Assess
    expect((await store.history(key)).map((h) => h.id)).toEqual(['lost?']);
    expect((await store.get(key))?.version).toBe(2);
  });
});
