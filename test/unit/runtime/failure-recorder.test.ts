import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type DynamoTestServer, startDynamoTestServer } from '../../../cli/embedded/local-dynamodb.js';
import { DynamoDbFailureStore } from '../../../shared/adapters/dynamodb/failure-store.js';
import { createLogger } from '../../../shared/observability/logger.js';
import { FAILURE_TTL_SECONDS } from '../../../shared/ports/failure-store.js';
import { MarketoApiError } from '../../../shared/ports/marketo-errors.js';
import { SalesforceApiError, SalesforceBulkJobError } from '../../../shared/ports/salesforce-errors.js';
import {
  describeFailure,
  type FailureRecorder,
  REDRIVEN_FROM_ATTRIBUTE,
  StoreFailureRecorder,
  summariseBody,
} from '../../../shared/runtime/failure-recorder.js';
import { RECORD_FAILURE_TIMEOUT_MS, sqsBatchHandler } from '../../../shared/runtime/sqs-batch.js';

let db: DynamoTestServer;
beforeAll(async () => {
  db = await startDynamoTestServer();
});
afterAll(async () => {
  await db.stop();
});

const EMAIL = 'jane.doe@example.com';

function sqsRecord(messageId: string, body: unknown, receiveCount = 1, attributes = {}): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: String(Date.parse('2026-03-01T10:00:00Z')),
      SenderId: 'x',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: attributes,
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:sync-write',
    awsRegion: 'us-east-1',
  };
}

const writeBody = {
  kind: 'writeTasks',
  runId: '2026-03-01T10:00:00.000Z#abc123',
  activities: [
    {
      marketoGUID: 'g-1',
      leadId: 11,
      activityDate: '2026-02-27T08:00:00Z',
      activityTypeId: 2,
      activityTypeName: 'Fill Out Form',
      primaryAttributeValue: 'Contact Us',
      attributes: [{ name: 'Email Address', value: EMAIL }],
    },
    {
      marketoGUID: 'g-2',
      leadId: 12,
      activityDate: '2026-02-28T08:00:00Z',
      activityTypeId: 10,
      activityTypeName: 'Open Email',
    },
    {
      marketoGUID: 'g-3',
      leadId: 11,
      activityDate: '2026-02-26T08:00:00Z',
      activityTypeId: 10,
      activityTypeName: 'Open Email',
    },
  ],
};

const context = {} as Context;
const quietLogger = () => createLogger('test', { logLevel: 'CRITICAL' });

describe('describeFailure', () => {
  it('keeps the Marketo code and request id, from the error or any cause', () => {
    const marketo = new MarketoApiError('Marketo refused: 1003 invalid data', {
      code: '1003',
      requestId: 'e42b#17f1',
      endpoint: 'GET /rest/v1/leads.json',
    });
    const wrapped = new Error('page failed', { cause: marketo });

    expect(describeFailure(wrapped)).toEqual({
      error: { name: 'Error', message: 'page failed' },
      vendorCode: '1003',
      requestId: 'e42b#17f1',
      retryable: false,
    });
  });

  it('keeps the Salesforce errorCode, the Bulk job id and the write step per-record codes', () => {
    expect(
      describeFailure(new SalesforceApiError('boom', { errorCode: 'INVALID_SESSION_ID', status: 401 })),
    ).toMatchObject({ vendorCode: 'INVALID_SESSION_ID', retryable: false });
    expect(
      describeFailure(
        new SalesforceBulkJobError('job failed', {
          errorCode: 'JobFailed',
          jobId: '750xx0001',
          state: 'Failed',
        }),
      ),
    ).toMatchObject({ vendorCode: 'JobFailed', requestId: '750xx0001' });
    const transient = Object.assign(new Error('2 Task write(s) failed transiently'), {
      name: 'TransientWriteError',
      codes: ['UNABLE_TO_LOCK_ROW'],
    });
    expect(describeFailure(transient)).toMatchObject({
      error: { name: 'TransientWriteError' },
      vendorCode: 'UNABLE_TO_LOCK_ROW',
      retryable: true,
    });
  });

  it('hashes email addresses in the message and cuts it to 1,000 characters', () => {
    const d = describeFailure(new Error(`no lead for ${EMAIL} ${'x'.repeat(2000)}`));

    expect(d.error.message).not.toContain(EMAIL);
    expect(d.error.message).toMatch(/^no lead for email#[0-9a-f]{16} x+$/);
    expect(d.error.message).toHaveLength(1000);
  });
});

describe('summariseBody', () => {
  it('summarises a write message by counts, types and dates, never attribute values', () => {
    const summary = summariseBody(JSON.stringify(writeBody));

    expect(summary).toEqual({
      kind: 'writeTasks',
      bytes: Buffer.byteLength(JSON.stringify(writeBody)),
      runId: writeBody.runId,
      activities: 3,
      leads: 2,
      types: { 'Fill Out Form': 1, 'Open Email': 2 },
      firstActivityAt: '2026-02-26T08:00:00Z',
      lastActivityAt: '2026-02-28T08:00:00Z',
    });
    expect(JSON.stringify(summary)).not.toContain('@');
  });

  it('says an unsubscribe carries an email without showing it', () => {
    const summary = summariseBody(
      JSON.stringify({
        kind: 'unsubscribe',
        eventId: 'ev-1',
        key: EMAIL,
        email: EMAIL,
        at: '2026-03-01T10:00:00Z',
        receivedAt: '2026-03-01T10:00:01Z',
      }),
    );

    expect(summary).toMatchObject({ kind: 'unsubscribe', eventId: 'ev-1', hasEmail: true });
    expect(JSON.stringify(summary)).not.toContain('@');
  });

  it('describes a body that is not JSON by its size only', () => {
    expect(summariseBody(`{oops ${EMAIL}`)).toEqual({ kind: 'unparsable', bytes: 26 });
  });
});

describe('sqsBatchHandler with a failure recorder', () => {
  it('records each failure by (queue, MessageId): latest error and attempts, first failure time kept', async () => {
    let now = Date.parse('2026-03-01T10:05:00Z');
    const store = new DynamoDbFailureStore(db.doc, db.tables.failures, () => now);
    const recorder = new StoreFailureRecorder(() => store);
    let attempt = 0;
    const handler = sqsBatchHandler(
      async (record) => {
        if (record.messageId === 'ok-1') return;
        attempt++;
        throw attempt === 1
          ? new SalesforceApiError('Salesforce 503', { errorCode: 'SERVER_UNAVAILABLE', retryable: true })
          : new MarketoApiError('Marketo refused the page', {
              code: '1003',
              requestId: 'req#2',
              endpoint: 'GET /rest/v1/leads.json',
            });
      },
      { logger: quietLogger(), failures: { queue: 'write', recorder } },
    );

    const first = await handler(
      { Records: [sqsRecord('m-1', writeBody, 1), sqsRecord('ok-1', writeBody)] } as SQSEvent,
      context,
    );
    now += 60_000;
    await handler(
      {
        Records: [
          sqsRecord('m-1', writeBody, 2, {
            [REDRIVEN_FROM_ATTRIBUTE]: {
              dataType: 'String',
              stringValue: 'old-id',
              stringListValues: [],
              binaryListValues: [],
            },
          }),
        ],
      } as SQSEvent,
      context,
    );

    expect(first).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    expect(await store.get('write', 'ok-1')).toBeUndefined();
    expect(await store.get('write', 'm-1')).toEqual({
      queue: 'write',
      messageId: 'm-1',
      attempts: 2,
      failures: 2,
      firstFailedAt: '2026-03-01T10:05:00.000Z',
      lastFailedAt: '2026-03-01T10:06:00.000Z',
      error: { name: 'MarketoApiError', message: 'Marketo refused the page' },
      vendorCode: '1003',
      requestId: 'req#2',
      retryable: false,
      body: summariseBody(JSON.stringify(writeBody)),
      sentAt: '2026-03-01T10:00:00.000Z',
      redrivenFrom: 'old-id',
      sourceArn: 'arn:aws:sqs:us-east-1:000000000000:sync-write',
      expiresAt: Math.floor(now / 1000) + FAILURE_TTL_SECONDS,
    });
  });

  it('fails the message exactly as without a recorder when recording throws, and logs why', async () => {
    const logger = quietLogger();
    const warn = vi.spyOn(logger, 'warn');
    const broken: FailureRecorder = {
      record: async () => {
        throw new Error('DynamoDB unavailable');
      },
    };
    const failing = async () => {
      throw new Error('vendor down');
    };
    const event = { Records: [sqsRecord('m-2', writeBody), sqsRecord('m-3', writeBody)] } as SQSEvent;

    const withBroken = await sqsBatchHandler(failing, {
      logger,
      failures: { queue: 'write', recorder: broken },
    })(event, context);
    const without = await sqsBatchHandler(failing, { logger: quietLogger() })(event, context);

    expect(withBroken).toEqual(without);
    expect(withBroken.batchItemFailures).toHaveLength(2);
    expect(warn).toHaveBeenCalledWith(
      'Could not record why the message failed; it is retried as usual',
      expect.objectContaining({
        messageId: 'm-2',
        cause: { name: 'Error', message: 'DynamoDB unavailable' },
      }),
    );
  });

  it('gives up on a recorder that hangs, and still reports the failure', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const hanging: FailureRecorder = { record: () => new Promise(() => undefined) };
      const pending = sqsBatchHandler(
        async () => {
          throw new Error('vendor down');
        },
        { logger: quietLogger(), failures: { queue: 'fetch', recorder: hanging } },
      )({ Records: [sqsRecord('m-4', '{}')] } as SQSEvent, context);

      await vi.advanceTimersByTimeAsync(RECORD_FAILURE_TIMEOUT_MS + 1);

      expect(await pending).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-4' }] });
    } finally {
      vi.useRealTimers();
    }
  });
});
