import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../shared/observability/logger.js';
import { sqsBatchHandler } from '../../../shared/runtime/sqs-batch.js';

const record = (messageId: string): SQSRecord =>
  ({
    messageId,
    receiptHandle: messageId,
    body: '{}',
    attributes: { ApproximateReceiveCount: '1' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:q',
    awsRegion: 'us-east-1',
  }) as unknown as SQSRecord;
const event = (...ids: string[]): SQSEvent => ({ Records: ids.map(record) });
const context = {} as Context;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('sqsBatchHandler', () => {
  it('keeps the failures of concurrent invocations of one handler apart (the embedded event source runs several pollers)', async () => {
    const handler = sqsBatchHandler(
      async (r) => {
        if (r.messageId === 'a-fails') {
          await sleep(5);
          throw new Error('transient');
        }
        await sleep(30);
      },
      { logger: createLogger('test', { logLevel: 'CRITICAL' }) },
    );

    const first = handler(event('a-fails', 'a-ok'), context);
    await sleep(10); // a-fails has failed; a-ok still runs
    const second = handler(event('b-ok'), context);

    expect(await first).toEqual({ batchItemFailures: [{ itemIdentifier: 'a-fails' }] });
    expect(await second).toEqual({ batchItemFailures: [] });
  });
});
