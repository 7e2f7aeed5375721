import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ChangeMessageVisibilityCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { type LocalSqs, startLocalSqs } from '../../../cli/embedded/local-sqs.js';
import { QUEUES } from '../../../shared/adapters/sqs/queue-definitions.js';
import { SqsMessageSender } from '../../../shared/adapters/sqs/sqs-message-sender.js';

describe('startLocalSqs', () => {
  const started: LocalSqs[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.stop()));
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });
  const start = async (...args: Parameters<typeof startLocalSqs>): Promise<LocalSqs> => {
    const sqs = await startLocalSqs(...args);
    started.push(sqs);
    return sqs;
  };

  it('listens on loopback and creates every queue with its DLQ, redrive policy and visibility', async () => {
    const sqs = await start();

    expect(new URL(sqs.endpoint).hostname).toBe('127.0.0.1');
    for (const [key, def] of Object.entries(QUEUES) as [
      keyof typeof QUEUES,
      (typeof QUEUES)[keyof typeof QUEUES],
    ][]) {
      const { Attributes } = await sqs.client.send(
        new GetQueueAttributesCommand({ QueueUrl: sqs.queueUrls[key], AttributeNames: ['All'] }),
      );
      expect(Attributes?.VisibilityTimeout).toBe(String(def.visibilityTimeoutSeconds));
      expect(JSON.parse(Attributes?.RedrivePolicy ?? '{}')).toEqual({
        deadLetterTargetArn: `arn:aws:sqs:us-east-1:000000000000:${def.localName}-dlq`,
        maxReceiveCount: def.maxReceiveCount,
      });
      expect(sqs.dlqUrls[key]).toMatch(new RegExp(`/000000000000/${def.localName}-dlq$`));
    }
  });

  it('applies visibility timeout overrides', async () => {
    const sqs = await start({ visibilityTimeoutSeconds: { write: 2 } });

    const { Attributes } = await sqs.client.send(
      new GetQueueAttributesCommand({ QueueUrl: sqs.queueUrls.write, AttributeNames: ['VisibilityTimeout'] }),
    );

    expect(Attributes?.VisibilityTimeout).toBe('2');
  });

  it('keeps queues and messages across stop/start with the same dataDir, converging attributes', async () => {
    // Prepare
    const dataDir = await mkdtemp(join(tmpdir(), 'local-sqs-'));
    dirs.push(dataDir);
    const first = await startLocalSqs({ dataDir, visibilityTimeoutSeconds: { fetch: 1 } });
    await new SqsMessageSender({ client: first.client }).send(first.queueUrls.fetch, [
      { page: 1 },
      { page: 2 },
    ]);
    await first.stop();

    // Act: a later process, without the override.
    const second = await start({ dataDir });

    // Assess
    expect(await second.depth('fetch')).toEqual({ visible: 2, inFlight: 0, delayed: 0, dlq: 0 });
    expect(new URL(second.queueUrls.fetch).port).toBe(new URL(second.endpoint).port);
    const { Attributes } = await second.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: second.queueUrls.fetch,
        AttributeNames: ['VisibilityTimeout'],
      }),
    );
    expect(Attributes?.VisibilityTimeout).toBe(String(QUEUES.fetch.visibilityTimeoutSeconds));
    const out = await second.client.send(
      new ReceiveMessageCommand({ QueueUrl: second.queueUrls.fetch, MaxNumberOfMessages: 10 }),
    );
    expect(out.Messages?.map((m) => m.Body).sort()).toEqual(['{"page":1}', '{"page":2}']);
  });

  it('hands a received message back at once (visibility 0) on a persisted queue, keeping its receive count', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'local-sqs-'));
    dirs.push(dataDir);
    const sqs = await start({ dataDir });
    await new SqsMessageSender({ client: sqs.client }).send(sqs.dlqUrls.write, [{ dead: 1 }]);
    const receive = () =>
      sqs.client.send(
        new ReceiveMessageCommand({
          QueueUrl: sqs.dlqUrls.write,
          VisibilityTimeout: 120,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      );
    const first = (await receive()).Messages?.[0];

    await sqs.client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: sqs.dlqUrls.write,
        ReceiptHandle: first?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );

    const again = (await receive()).Messages?.[0];
    expect(again?.MessageId).toBe(first?.MessageId);
    expect(again?.Attributes?.ApproximateReceiveCount).toBe('2');
  });

  it('reports in-flight and dead-lettered messages in depth()', async () => {
    const sqs = await start();
    await new SqsMessageSender({ client: sqs.client }).send(sqs.queueUrls.unsubscribe, [{ a: 1 }, { a: 2 }]);

    await sqs.client.send(
      new ReceiveMessageCommand({ QueueUrl: sqs.queueUrls.unsubscribe, MaxNumberOfMessages: 1 }),
    );
    await new SqsMessageSender({ client: sqs.client }).send(sqs.dlqUrls.unsubscribe, [{ dead: true }]);

    expect(await sqs.depth('unsubscribe')).toEqual({ visible: 1, inFlight: 1, delayed: 0, dlq: 1 });
  });
});
