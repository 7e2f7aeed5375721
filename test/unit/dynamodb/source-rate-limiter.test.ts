import { GetCommand, type UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynamoTestServer, startDynamoTestServer } from '../../../cli/embedded/local-dynamodb.js';
import { DynamoDbSourceRateLimiter } from '../../../shared/adapters/dynamodb/source-rate-limiter.js';

let db: DynamoTestServer;
beforeAll(async () => {
  db = await startDynamoTestServer();
});
afterAll(async () => {
  await db.stop();
});

const LIMIT = { requests: 3, perSeconds: 60 };
const at = (iso: string) => new Date(iso);

describe('DynamoDbSourceRateLimiter on dynalite', () => {
  it('allows N requests per source and window, then refuses with the seconds left in the window', async () => {
    const limiter = new DynamoDbSourceRateLimiter(db.doc, db.tables.webhookSources);
    const now = at('2026-10-15T12:00:45.200Z');

    const decisions = [];
    for (let i = 0; i < 5; i++) decisions.push(await limiter.hit('source#a1', LIMIT, now));

    expect(decisions).toEqual([
      { allowed: true },
      { allowed: true },
      { allowed: true },
      { allowed: false, retryAfterSeconds: 15 },
      { allowed: false, retryAfterSeconds: 15 },
    ]);
  });

  it('keeps sources apart and starts a new count when the window rolls over', async () => {
    const limiter = new DynamoDbSourceRateLimiter(db.doc, db.tables.webhookSources);
    for (let i = 0; i < 3; i++) await limiter.hit('source#b1', LIMIT, at('2026-10-15T12:00:10Z'));

    expect(await limiter.hit('source#b1', LIMIT, at('2026-10-15T12:00:59Z'))).toMatchObject({
      allowed: false,
    });
    expect(await limiter.hit('source#b2', LIMIT, at('2026-10-15T12:00:59Z'))).toEqual({ allowed: true });
    expect(await limiter.hit('source#b1', LIMIT, at('2026-10-15T12:01:00Z'))).toEqual({ allowed: true });
  });

  it('counts concurrent requests from many instances exactly (no lost update)', async () => {
    const limiters = Array.from(
      { length: 4 },
      () => new DynamoDbSourceRateLimiter(db.doc, db.tables.webhookSources),
    );
    const limit = { requests: 10, perSeconds: 60 };
    const now = at('2026-10-15T13:00:00Z');

    const decisions = await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        (limiters[i % 4] as DynamoDbSourceRateLimiter).hit('source#c1', limit, now),
      ),
    );

    expect(decisions.filter((d) => d.allowed)).toHaveLength(10);
  });

  it('writes one item per source and window: the count (stopped at the limit) and a TTL one window after it ends', async () => {
    const limiter = new DynamoDbSourceRateLimiter(db.doc, db.tables.webhookSources);
    const now = at('2026-10-15T14:00:30Z');
    for (let i = 0; i < 5; i++) await limiter.hit('source#d1', LIMIT, now);
    const windowStart = Date.parse('2026-10-15T14:00:00Z') / 1000;

    const { Item } = await db.doc.send(
      new GetCommand({ TableName: db.tables.webhookSources, Key: { pk: `source#d1#60#${windowStart}` } }),
    );

    expect(Item).toEqual({ pk: `source#d1#60#${windowStart}`, hits: 3, expiresAt: windowStart + 120 });
  });

  it('sends one conditional UpdateItem per request (no read)', async () => {
    const sent: UpdateCommand[] = [];
    const doc = {
      send: async (command: UpdateCommand) => {
        sent.push(command);
        return db.doc.send(command);
      },
    } as unknown as typeof db.doc;
    await new DynamoDbSourceRateLimiter(doc, db.tables.webhookSources).hit(
      'source#e1',
      LIMIT,
      at('2026-10-15T15:00:00Z'),
    );

    expect(sent.map((c) => c.constructor.name)).toEqual(['UpdateCommand']);
    expect(sent[0]?.input).toMatchObject({
      TableName: db.tables.webhookSources,
      ConditionExpression: 'attribute_not_exists(hits) OR hits < :limit',
      ExpressionAttributeValues: { ':limit': 3 },
    });
  });

  it('throws a store failure (other than the condition) to its caller', async () => {
    const limiter = new DynamoDbSourceRateLimiter(db.doc, 'no-such-table');

    await expect(limiter.hit('source#f1', LIMIT, at('2026-10-15T15:00:00Z'))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });
});
