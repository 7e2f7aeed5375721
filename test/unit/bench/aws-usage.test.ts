import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countDynamoDb, countSqs } from '../../../bench/aws-usage.js';
import { type DynamoTestServer, startDynamoTestServer } from '../../../cli/embedded/local-dynamodb.js';
import { type LocalSqs, sqsClient, startLocalSqs } from '../../../cli/embedded/local-sqs.js';

let db: DynamoTestServer;
let sqs: LocalSqs;
beforeAll(async () => {
  [db, sqs] = await Promise.all([startDynamoTestServer(), startLocalSqs()]);
});
afterAll(async () => {
  await Promise.all([db.stop(), sqs.stop()]);
});

describe('countDynamoDb', () => {
  it('sums the consumed read and write units per table, and bills a refused conditional write one unit', async () => {
    const usage = countDynamoDb(db.doc, db.tables);
    const table = db.tables.cursors;

    await db.doc.send(new PutCommand({ TableName: table, Item: { id: 'a', blob: 'x'.repeat(1500) } }));
    await db.doc.send(new GetCommand({ TableName: table, Key: { id: 'a' }, ConsistentRead: true }));
    await db.doc.send(new GetCommand({ TableName: table, Key: { id: 'a' } }));
    await expect(
      db.doc.send(
        new PutCommand({
          TableName: table,
          Item: { id: 'a' },
          ConditionExpression: 'attribute_not_exists(id)',
        }),
      ),
    ).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });

    // 1.5 KB item: 2 write units; reads of ≤ 4 KB: 1 unit consistent, 0.5 eventual; the refused write: 1.
    expect(usage.byTable).toEqual({ cursors: { readUnits: 1.5, writeUnits: 3 } });
    expect(usage).toMatchObject({ readUnits: 1.5, writeUnits: 3, conditionalCheckFailures: 1 });
    expect(usage.commands).toEqual({ PutItemCommand: 2, GetItemCommand: 2 });
  });
});

describe('countSqs', () => {
  it('counts billed requests in 64 KB chunks and one invocation per non-empty receive, until its delete', async () => {
    const url = sqs.queueUrls.write;
    const usage = countSqs(sqs.client, new Map([[url, 'write']]));

    await sqs.client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x'.repeat(100 * 1024) }));
    await sqs.client.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: '1', MessageBody: 'small' },
          { Id: '2', MessageBody: 'small' },
        ],
      }),
    );
    const got = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
    const messages = got.Messages ?? [];
    await sqs.client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
    await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 0 }));

    expect(messages).toHaveLength(3);
    // send 100 KB: 2; batch: 1; receive ~100 KB: 2; delete batch: 1; the empty receive: not billed.
    expect(usage.billedRequests).toBe(6);
    expect(usage.emptyReceives).toBe(1);
    expect(usage.requests).toMatchObject({
      SendMessageCommand: 1,
      SendMessageBatchCommand: 1,
      ReceiveMessageCommand: 2,
      DeleteMessageBatchCommand: 1,
    });
    expect(usage.invocations()).toHaveLength(1);
    const [inv] = usage.invocations();
    expect(inv).toMatchObject({ queue: 'write', messages: 3 });
    expect(inv?.endedAt).toBeGreaterThanOrEqual(inv?.startedAt ?? Number.POSITIVE_INFINITY);
    expect(usage.activity.write?.lastSettledAt).toBe(inv?.endedAt);
  });

  it('makes the receives one delete settles a single invocation, started when its batch was complete', async () => {
    const url = sqs.queueUrls.fetch;
    const endpoint = await sqs.client.config.endpoint?.();
    const client = sqsClient(`http://${endpoint?.hostname}:${endpoint?.port}`);
    const usage = countSqs(
      client,
      new Map([[url, 'fetch']]),
      new Map([['fetch', { batchSize: 3, windowMs: 60_000 }]]),
    );

    await client.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: ['a', 'b', 'c'].map((Id) => ({ Id, MessageBody: Id })),
      }),
    );
    const first = await client.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 2 }));
    await new Promise((r) => setTimeout(r, 50));
    const second = await client.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 1 }));
    const batch = [...(first.Messages ?? []), ...(second.Messages ?? [])];
    await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: batch.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
    client.destroy();

    expect(batch).toHaveLength(3);
    const invocations = usage.invocations();
    expect(invocations).toHaveLength(1);
    // Full at the second receive: the 50 ms of batching before it are not the handler's.
    const inv = invocations[0];
    expect(inv?.messages).toBe(3);
    expect((inv?.startedAt ?? 0) - (usage.activity.fetch?.firstReceiveAt ?? 0)).toBeGreaterThanOrEqual(45);
  });
});
