import { setTimeout as sleep } from 'node:timers/promises';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type LocalSqs, startLocalSqs } from '../../../cli/embedded/local-sqs.js';
import {
  DrainTimeoutError,
  drainUntilIdle,
  type SqsBatchHandler,
  type SqsEventSource,
  type SqsEventSourceOptions,
  startSqsEventSource,
} from '../../../cli/embedded/sqs-event-source.js';
import { SqsMessageSender } from '../../../shared/adapters/sqs/sqs-message-sender.js';

interface Delivery {
  n: number;
  receiveCount: number;
  at: number;
}

const logger = () => ({ debug: vi.fn(), warn: vi.fn(), error: vi.fn() });

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

describe('startSqsEventSource', () => {
  let sqs: LocalSqs;
  const sources: SqsEventSource[] = [];
  beforeEach(async () => {
    sqs = await startLocalSqs({ visibilityTimeoutSeconds: { fetch: 1, write: 1, unsubscribe: 1 } });
  });
  afterEach(async () => {
    await Promise.all(sources.splice(0).map((s) => s.stop()));
    await sqs.stop();
  });

  const send = (bodies: unknown[], options?: Parameters<SqsMessageSender['send']>[2]) =>
    new SqsMessageSender({ client: sqs.client }).send(sqs.queueUrls.write, bodies, options);
  const start = async (
    handler: SqsBatchHandler,
    extra: Partial<SqsEventSourceOptions> = {},
  ): Promise<SqsEventSource> => {
    const source = await startSqsEventSource({
      client: sqs.client,
      queueUrl: sqs.queueUrls.write,
      handler,
      logger: logger(),
      ...extra,
    });
    sources.push(source);
    return source;
  };
  const drain = () =>
    drainUntilIdle({ client: sqs.client, queues: [sqs.queueUrls.write], idleMs: 200, timeoutMs: 10_000 });
  /** A handler recording every delivery, answering with `respond`. */
  const recording = (
    respond: (records: SQSRecord[], deliveries: Delivery[]) => SQSBatchResponse | undefined,
  ) => {
    const deliveries: Delivery[] = [];
    const handler = async (event: SQSEvent): Promise<SQSBatchResponse | undefined> => {
      for (const r of event.Records) {
        deliveries.push({
          n: (JSON.parse(r.body) as { n: number }).n,
          receiveCount: Number(r.attributes.ApproximateReceiveCount),
          at: Date.now(),
        });
      }
      return respond(event.Records, deliveries);
    };
    return { deliveries, handler };
  };

  it('hands the handler real SQS records', async () => {
    // Prepare
    await send([{ n: 1 }], { messageAttributes: { kind: 'writeTasks' } });
    const events: SQSEvent[] = [];

    // Act
    await start(async (event) => {
      events.push(event);
    });
    await waitFor(() => events.length === 1);

    // Assess
    const record = events[0]?.Records[0];
    expect(record).toMatchObject({
      body: '{"n":1}',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:sync-write',
      awsRegion: 'us-east-1',
      messageAttributes: { kind: { dataType: 'String', stringValue: 'writeTasks' } },
      attributes: { ApproximateReceiveCount: '1', SenderId: '000000000000' },
    });
    expect(record?.messageId).toMatch(/.+/);
    expect(record?.receiptHandle).toMatch(/.+/);
    expect(Number(record?.attributes.SentTimestamp)).toBeGreaterThan(Date.now() - 10_000);
  });

  it('deletes the successes and redelivers only the failed item after the visibility timeout', async () => {
    // Prepare: all three arrive in one batch; n=2 fails once.
    await send([{ n: 1 }, { n: 2 }, { n: 3 }]);
    const { deliveries, handler } = recording((records, all) => ({
      batchItemFailures: records
        .filter((r) => r.body === '{"n":2}' && all.filter((d) => d.n === 2).length === 1)
        .map((r) => ({ itemIdentifier: r.messageId })),
    }));

    // Act
    const source = await start(handler);
    await waitFor(() => deliveries.length === 4);
    await drain();

    // Assess
    expect(deliveries.map((d) => [d.n, d.receiveCount])).toEqual([
      [1, 1],
      [2, 1],
      [3, 1],
      [2, 2],
    ]);
    const [first, , , again] = deliveries;
    expect((again?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(900);
    expect(source.stats).toMatchObject({ invocations: 2, received: 4, deleted: 3, itemFailures: 1 });
  });

  it('redelivers the whole batch when the handler throws', async () => {
    await send([{ n: 1 }, { n: 2 }]);
    let calls = 0;
    const seen: Array<[number, string]> = [];

    const source = await start(async (event) => {
      calls++;
      for (const r of event.Records) seen.push([calls, r.attributes.ApproximateReceiveCount]);
      if (calls === 1) throw new Error('Salesforce down');
    });
    await waitFor(() => seen.length === 4);
    await drain();

    expect(seen).toEqual([
      [1, '1'],
      [1, '1'],
      [2, '2'],
      [2, '2'],
    ]);
    expect(source.stats).toMatchObject({ handlerErrors: 1, deleted: 2 });
  });

  it('fails the whole batch when batchItemFailures names a message not in it', async () => {
    await send([{ n: 1 }]);
    const { deliveries, handler } = recording((_, all) =>
      all.length === 1 ? { batchItemFailures: [{ itemIdentifier: 'not-in-batch' }] } : undefined,
    );

    const source = await start(handler);
    await waitFor(() => deliveries.length === 2);
    await drain();

    expect(deliveries.map((d) => d.receiveCount)).toEqual([1, 2]);
    expect(source.stats.handlerErrors).toBe(1);
  });

  it('increments ApproximateReceiveCount and moves the message to the DLQ after maxReceiveCount', async () => {
    // Prepare: sync-write has maxReceiveCount 5; the handler always fails the item.
    await send([{ n: 7 }]);
    const { deliveries, handler } = recording((records) => ({
      batchItemFailures: records.map((r) => ({ itemIdentifier: r.messageId })),
    }));

    // Act
    await start(handler);
    await waitFor(() => deliveries.length === 5);
    await drainUntilIdle({
      client: sqs.client,
      queues: [sqs.queueUrls.write],
      idleMs: 200,
      timeoutMs: 5_000,
    });

    // Assess
    expect(deliveries.map((d) => d.receiveCount)).toEqual([1, 2, 3, 4, 5]);
    expect(await sqs.depth('write')).toEqual({ visible: 0, inFlight: 0, delayed: 0, dlq: 1 });
    const dead = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: sqs.dlqUrls.write }));
    expect(dead.Messages?.map((m) => m.Body)).toEqual(['{"n":7}']);
  });

  it('redelivers a batch whose process "crashed" after the handler but before deletion', async () => {
    await send([{ n: 1 }]);
    const { deliveries, handler } = recording(() => undefined);
    let crashes = 0;

    const source = await start(handler, {
      beforeDelete: async () => {
        if (crashes++ === 0) throw new Error('simulated crash');
      },
    });
    await waitFor(() => deliveries.length === 2);
    await drain();

    expect(deliveries.map((d) => d.receiveCount)).toEqual([1, 2]);
    expect(source.stats).toMatchObject({ crashes: 1, deleted: 1 });
  });

  it('runs `concurrency` pollers in parallel', async () => {
    await send(Array.from({ length: 6 }, (_, n) => ({ n })));
    let running = 0;
    let maxRunning = 0;

    await start(
      async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await sleep(300);
        running--;
      },
      { batchSize: 1, concurrency: 3 },
    );
    await drain();

    expect(maxRunning).toBe(3);
  });

  it('fills a batch from messages that trickle in, within the batching window (as Lambda), and deletes it all', async () => {
    const sizes: number[] = [];
    const source = await start(
      async (event) => {
        sizes.push(event.Records.length);
      },
      { batchSize: 12, maxBatchingWindowMs: 800 }, // under the 1 s visibility timeout
    );
    for (let n = 0; n < 12; n++) {
      await send([{ n }]);
      await sleep(20);
    }
    await drain();

    expect(sizes).toEqual([12]);
    expect(source.stats).toMatchObject({ received: 12, deleted: 12 });
  });

  it('hands over a partial batch when the batching window ends', async () => {
    const sizes: number[] = [];
    await send([{ n: 1 }, { n: 2 }, { n: 3 }]);
    const started = Date.now();
    await start(
      async (event) => {
        sizes.push(event.Records.length);
      },
      { batchSize: 10, maxBatchingWindowMs: 300 },
    );
    await drain();

    expect(sizes).toEqual([3]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it('refuses a batch over 10 without a batching window (one ReceiveMessage)', async () => {
    await expect(start(async () => undefined, { batchSize: 11 })).rejects.toThrow(/batchSize must be 1–10/);
  });

  it('finishes the batch in hand when stopped, leaving nothing in flight', async () => {
    await send([{ n: 1 }]);
    let started = false;
    const source = await start(async () => {
      started = true;
      await sleep(300);
    });
    await waitFor(() => started);

    await source.stop();

    expect(source.stats.deleted).toBe(1);
    expect(await sqs.depth('write')).toEqual({ visible: 0, inFlight: 0, delayed: 0, dlq: 0 });
  });
});

describe('drainUntilIdle', () => {
  let sqs: LocalSqs;
  const sources: SqsEventSource[] = [];
  beforeEach(async () => {
    sqs = await startLocalSqs({ visibilityTimeoutSeconds: { write: 1 } });
  });
  afterEach(async () => {
    await Promise.all(sources.splice(0).map((s) => s.stop()));
    await sqs.stop();
  });

  it('times out while a queue holds messages, naming the depths', async () => {
    await new SqsMessageSender({ client: sqs.client }).send(sqs.queueUrls.write, [{ n: 1 }]);

    const act = drainUntilIdle({
      client: sqs.client,
      queues: [sqs.queueUrls.write],
      idleMs: 100,
      timeoutMs: 300,
    });

    await expect(act).rejects.toThrow(DrainTimeoutError);
    await expect(act).rejects.toThrow(/"visible":1/);
  });

  it('resolves only once delayed and in-flight messages are done too', async () => {
    // Prepare: one visible message and one delayed by 1 s; the handler is slow.
    const sender = new SqsMessageSender({ client: sqs.client });
    await sender.send(sqs.queueUrls.write, [{ n: 1 }]);
    await sender.send(sqs.queueUrls.write, [{ n: 2 }], { delaySeconds: 1 });
    const handled: number[] = [];
    const source = await startSqsEventSource({
      client: sqs.client,
      queueUrl: sqs.queueUrls.write,
      logger: logger(),
      handler: async (event) => {
        await sleep(200);
        for (const r of event.Records) handled.push((JSON.parse(r.body) as { n: number }).n);
      },
    });
    sources.push(source);
    const progress = vi.fn();

    // Act
    await drainUntilIdle({
      client: sqs.client,
      queues: [sqs.queueUrls.write, sqs.queueUrls.fetch],
      idleMs: 300,
      timeoutMs: 10_000,
      onProgress: progress,
    });

    // Assess
    expect(handled.sort()).toEqual([1, 2]);
    expect(progress).toHaveBeenCalledWith(
      expect.objectContaining({ [sqs.queueUrls.write]: expect.objectContaining({ delayed: 1 }) }),
    );
  });
});
