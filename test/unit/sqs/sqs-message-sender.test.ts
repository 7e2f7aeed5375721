import {
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchCommandInput,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type LocalSqs, startLocalSqs } from '../../../cli/embedded/local-sqs.js';
import { SqsMessageSender } from '../../../shared/adapters/sqs/sqs-message-sender.js';
import { MessageSendError, MessageTooLargeError } from '../../../shared/ports/message-errors.js';
import { SQS_MAX_BATCH_BYTES } from '../../../shared/ports/vendor-limits.js';

const noSleep = async (): Promise<void> => {};

/** Every SendMessageBatch input the client sent (the real call still goes to fauxqs). */
function recordBatches(client: SQSClient): SendMessageBatchCommandInput[] {
  const inputs: SendMessageBatchCommandInput[] = [];
  const original = client.send.bind(client);
  vi.spyOn(client, 'send').mockImplementation(((command: unknown, ...rest: unknown[]) => {
    if (command instanceof SendMessageBatchCommand) inputs.push(command.input);
    return (original as (...a: unknown[]) => unknown)(command, ...rest);
  }) as typeof client.send);
  return inputs;
}

async function receiveAll(client: SQSClient, queueUrl: string): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const out = await client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (!out.Messages?.length) return bodies;
    bodies.push(...out.Messages.map((m) => m.Body ?? ''));
  }
}

describe('SqsMessageSender on fauxqs', () => {
  let sqs: LocalSqs;
  beforeAll(async () => {
    sqs = await startLocalSqs();
  });
  afterAll(async () => {
    await sqs.stop();
  });

  it('splits 25 messages into batches of 10, 10 and 5 and delivers every one', async () => {
    // Prepare
    const client = sqsClientFor(sqs);
    const inputs = recordBatches(client);
    const bodies = Array.from({ length: 25 }, (_, i) => ({ n: i }));

    // Act
    await new SqsMessageSender({ client }).send(sqs.queueUrls.fetch, bodies);

    // Assess
    expect(inputs.map((i) => i.Entries?.length)).toEqual([10, 10, 5]);
    expect(inputs.flatMap((i) => i.Entries?.map((e) => e.MessageBody))).toEqual(
      bodies.map((b) => JSON.stringify(b)),
    );
    const received = (await receiveAll(client, sqs.queueUrls.fetch)).map(
      (b) => JSON.parse(b) as { n: number },
    );
    expect(received.map((b) => b.n).sort((a, b) => a - b)).toEqual(bodies.map((b) => b.n));
    client.destroy();
  });

  it('keeps every call under 256 KiB in total', async () => {
    // Prepare: 100 KB bodies, so only two fit per call.
    const client = sqsClientFor(sqs);
    const inputs = recordBatches(client);
    const bodies = Array.from({ length: 5 }, (_, i) => ({ n: i, pad: 'x'.repeat(100_000) }));

    // Act
    await new SqsMessageSender({ client }).send(sqs.queueUrls.write, bodies, {
      messageAttributes: { kind: 'writeTasks', version: 2 },
    });

    // Assess
    expect(inputs.map((i) => i.Entries?.length)).toEqual([2, 2, 1]);
    for (const input of inputs) {
      // As SQS counts: body plus each attribute's name, data type and value.
      const bytes = (input.Entries ?? []).reduce(
        (n, e) =>
          n +
          Buffer.byteLength(e.MessageBody ?? '') +
          Object.entries(e.MessageAttributes ?? {}).reduce(
            (a, [name, v]) => a + name.length + (v.DataType ?? '').length + (v.StringValue ?? '').length,
            0,
          ),
        0,
      );
      expect(bytes).toBeLessThanOrEqual(SQS_MAX_BATCH_BYTES);
    }
    expect(inputs[0]?.Entries?.[0]?.MessageAttributes).toEqual({
      kind: { DataType: 'String', StringValue: 'writeTasks' },
      version: { DataType: 'Number', StringValue: '2' },
    });
    expect(await receiveAll(client, sqs.queueUrls.write)).toHaveLength(5);
    client.destroy();
  });

  it('refuses a body over 256 KiB, naming its index and size, and sends nothing', async () => {
    const client = sqsClientFor(sqs);
    const inputs = recordBatches(client);
    const bodies = [{ ok: true }, { pad: 'é'.repeat(140_000) }];

    const act = new SqsMessageSender({ client }).send(sqs.queueUrls.unsubscribe, bodies);

    await expect(act).rejects.toThrow(MessageTooLargeError);
    await expect(act).rejects.toThrow(
      /message body at index 1 is 280010 bytes .* over the 262144-byte limit/,
    );
    expect(inputs).toEqual([]);
    client.destroy();
  });

  it('delays messages by delaySeconds', async () => {
    const client = sqsClientFor(sqs);

    await new SqsMessageSender({ client }).send(sqs.queueUrls.unsubscribe, [{ a: 1 }], { delaySeconds: 5 });

    expect(await sqs.depth('unsubscribe')).toEqual({ visible: 0, inFlight: 0, delayed: 1, dlq: 0 });
    client.destroy();
  });
});

function sqsClientFor(sqs: LocalSqs): SQSClient {
  return new SQSClient({
    endpoint: sqs.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    useQueueUrlAsEndpoint: false,
  });
}

describe('SqsMessageSender partial failures', () => {
  const queueUrl = 'https://sqs.us-east-1.amazonaws.com/123456789012/sync-write';

  it('retries exactly the entries listed in Failed, then succeeds', async () => {
    // Prepare: m1 and m3 are throttled on the first call.
    const client = new SQSClient({ region: 'us-east-1' });
    const mock = mockClient(client);
    mock
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Successful: [0, 2, 4].map((i) => ({ Id: `m${i}`, MessageId: `id${i}`, MD5OfMessageBody: '' })),
        Failed: [
          { Id: 'm1', SenderFault: false, Code: 'ThrottlingException' },
          { Id: 'm3', SenderFault: false, Code: 'InternalError' },
        ],
      })
      .resolvesOnce({
        Successful: [1, 3].map((i) => ({ Id: `m${i}`, MessageId: `id${i}`, MD5OfMessageBody: '' })),
        Failed: [],
      });
    const sleep = vi.fn(noSleep);

    // Act
    await new SqsMessageSender({ client, sleep }).send(
      queueUrl,
      [0, 1, 2, 3, 4].map((n) => ({ n })),
    );

    // Assess
    const calls = mock.commandCalls(SendMessageBatchCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1]?.args[0].input).toEqual({
      QueueUrl: queueUrl,
      Entries: [
        { Id: 'm1', MessageBody: '{"n":1}' },
        { Id: 'm3', MessageBody: '{"n":3}' },
      ],
    });
    expect(sleep).toHaveBeenCalledTimes(1);
  });

  it('does not retry sender faults and reports them in MessageSendError', async () => {
    const client = new SQSClient({ region: 'us-east-1' });
    const mock = mockClient(client);
    mock.on(SendMessageBatchCommand).resolves({
      Successful: [{ Id: 'm0', MessageId: 'id0', MD5OfMessageBody: '' }],
      Failed: [{ Id: 'm1', SenderFault: true, Code: 'InvalidMessageContents', Message: 'bad chars' }],
    });

    const act = new SqsMessageSender({ client, sleep: noSleep }).send(queueUrl, [{ n: 0 }, { n: 1 }]);

    const error = await act.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MessageSendError);
    expect(error).toMatchObject({
      sentCount: 1,
      failures: [{ index: 1, code: 'InvalidMessageContents', message: 'bad chars', senderFault: true }],
    });
    expect((error as Error).message).toMatch(/1 sent, 1 failed \(1 sender faults/);
    expect(mock.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
  });

  it('gives up after maxAttempts and lists what still failed', async () => {
    const client = new SQSClient({ region: 'us-east-1' });
    const mock = mockClient(client);
    mock.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => ({
      Successful: (input.Entries ?? [])
        .filter((e) => e.Id !== 'm2')
        .map((e) => ({ Id: e.Id, MessageId: `id-${e.Id}`, MD5OfMessageBody: '' })),
      Failed: (input.Entries ?? [])
        .filter((e) => e.Id === 'm2')
        .map((e) => ({ Id: e.Id, SenderFault: false, Code: 'ServiceUnavailable' })),
    }));

    const act = new SqsMessageSender({ client, sleep: noSleep, maxAttempts: 3 }).send(
      queueUrl,
      [0, 1, 2].map((n) => ({ n })),
    );

    await expect(act).rejects.toMatchObject({
      name: 'MessageSendError',
      sentCount: 2,
      failures: [{ index: 2, code: 'ServiceUnavailable', senderFault: false }],
    });
    const calls = mock.commandCalls(SendMessageBatchCommand);
    expect(calls.map((c) => c.args[0].input.Entries?.map((e) => e.Id))).toEqual([
      ['m0', 'm1', 'm2'],
      ['m2'],
      ['m2'],
    ]);
  });

  it('treats an entry missing from both Successful and Failed as failed', async () => {
    const client = new SQSClient({ region: 'us-east-1' });
    const mock = mockClient(client);
    mock
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Successful: [{ Id: 'm0', MessageId: 'id0', MD5OfMessageBody: '' }], Failed: [] })
      .resolvesOnce({ Successful: [{ Id: 'm1', MessageId: 'id1', MD5OfMessageBody: '' }], Failed: [] });

    await new SqsMessageSender({ client, sleep: noSleep }).send(queueUrl, [{ n: 0 }, { n: 1 }]);

    expect(mock.commandCalls(SendMessageBatchCommand)[1]?.args[0].input.Entries).toEqual([
      { Id: 'm1', MessageBody: '{"n":1}' },
    ]);
  });
});
