import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynamoTestServer, startDynamoTestServer } from '../../../cli/embedded/local-dynamodb.js';
import { DynamoDbOptOutStore } from '../../../shared/adapters/dynamodb/opt-out-store.js';
import {
  emptyOptOutState,
  type HistoryEntry,
  salesforceTarget,
} from '../../../shared/domain/opt-out-state.js';
import type { OptOutStore } from '../../../shared/ports/opt-out-store.js';

describe('OptOutStore (on dynalite)', () => {
  let db: DynamoTestServer;
  let store: OptOutStore;

  beforeAll(async () => {
    db = await startDynamoTestServer();
    store = new DynamoDbOptOutStore(db.doc, db.tables.optOuts);
  });
  afterAll(async () => {
    await db.stop();
  });

  const observed = (id: string, at: string): HistoryEntry => ({
    kind: 'observed',
    id,
    at,
    source: 'webhook',
    value: true,
    verdict: 'optOut',
    evidence: { eventId: id },
    optedOut: true,
  });

  it('creates the state on first write and appends history entries in time order', async () => {
    // Prepare
    const key = 'first@example.com';
    // Act
    await store.update(key, (s) => ({
      state: { ...s, optedOut: true, optedOutAt: '2026-10-01T00:00:02.000Z' },
      history: [observed('b', '2026-10-01T00:00:02.000Z')],
    }));
    await store.update(key, (s) => ({ state: s, history: [observed('a', '2026-10-01T00:00:01.000Z')] }));
    // Assess
    const got = await store.get(key);
    expect(got?.version).toBe(2);
    expect(got?.state.optedOut).toBe(true);
    expect(got?.state.email).toBe(key);
    const history = await store.history(key);
    expect(history.map((h) => h.id)).toEqual(['a', 'b']);
    expect(history[1]).toEqual(observed('b', '2026-10-01T00:00:02.000Z'));
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

  it('writes nothing when the change function says nothing changed', async () => {
    const key = 'nochange@example.com';
    const r = await store.update(key, () => undefined);
    expect(r.changed).toBe(false);
    expect(await store.get(key)).toBeUndefined();
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

  it('claims a webhook event once; a replay sees the stored event and its status', async () => {
    const key = 'dedupe@example.com';
    const first = await store.claimEvent(key, { eventId: 'evt-1', receivedAt: '2026-10-01T00:00:00.000Z' });
    expect(first.claimed).toBe(true);
    await store.setEventStatus(key, 'evt-1', 'queued');
    const [a, b] = await Promise.all([
      store.claimEvent(key, { eventId: 'evt-1', receivedAt: '2026-10-01T00:00:05.000Z' }),
      store.claimEvent(key, { eventId: 'evt-1', receivedAt: '2026-10-01T00:00:06.000Z' }),
    ]);
    expect(a.claimed).toBe(false);
    expect(b.claimed).toBe(false);
    expect(a.event).toMatchObject({
      eventId: 'evt-1',
      status: 'queued',
      receivedAt: '2026-10-01T00:00:00.000Z',
    });
  });

  it('never moves an event status backwards', async () => {
    const key = 'status@example.com';
    await store.claimEvent(key, { eventId: 'evt-2', receivedAt: '2026-10-01T00:00:00.000Z' });
    await store.setEventStatus(key, 'evt-2', 'applied', {
      appliedAt: '2026-10-01T00:00:01.000Z',
      written: 3,
    });
    await store.setEventStatus(key, 'evt-2', 'queued');
    expect(await store.getEvent(key, 'evt-2')).toMatchObject({ status: 'applied', written: 3 });
  });
});
