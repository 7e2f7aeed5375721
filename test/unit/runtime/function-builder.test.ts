import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { tableNamesFromEnv } from '../../../shared/adapters/dynamodb/table-definitions.js';
import { DEFAULT_SETTINGS_INPUT, parseSettings } from '../../../shared/config/settings.js';
import { createLogger } from '../../../shared/observability/logger.js';
import { handleUnsubscribeRequest } from '../../../shared/optouts/webhook-request.js';
import { MarketoDailyQuotaError } from '../../../shared/ports/marketo-errors.js';
import type { VisibilityDeferrer } from '../../../shared/ports/visibility-deferrer.js';
import type { Platform } from '../../../shared/runtime/activity-runtime.js';
import { createDocumentClient, createSqsClient } from '../../../shared/runtime/aws-clients.js';
import type { CallAccountingDeps } from '../../../shared/runtime/call-accounting.js';
import { MissingEnvironmentError } from '../../../shared/runtime/environment.js';
import type { FailureRecorder } from '../../../shared/runtime/failure-recorder.js';
import {
  httpFunction,
  type Runtime,
  type ScheduledRun,
  ScheduleInputError,
  scheduledFunction,
  sqsFunction,
} from '../../../shared/runtime/function-builder.js';
import { webhookRuntime } from '../../../shared/runtime/opt-out-runtime.js';
import { captureJsonOutput } from '../../helpers/captured-output.js';
import { sqsRecord as eventRecord, lambdaContext } from '../../helpers/lambda-context.js';

const RUN_ID = '2026-03-01T10:00:00.000Z#abc123';

const sqsRecord = (messageId: string, body: unknown = { runId: RUN_ID }): SQSRecord =>
  eventRecord(messageId, body);
const sqsEvent = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

const context = (awsRequestId: string): Context => lambdaContext(awsRequestId, 'sync-write-activity-tasks');

/** A platform whose clients are never called (the tests inject the deferrer and recorder). */
function testPlatform(logger: Logger = createLogger('test', { logLevel: 'CRITICAL' })): Platform {
  return {
    settings: parseSettings(DEFAULT_SETTINGS_INPUT),
    logger,
    doc: createDocumentClient({ region: 'us-east-1' }),
    sqs: createSqsClient({ region: 'us-east-1' }),
    tables: tableNamesFromEnv({}),
    queueUrls: {},
  };
}

/** In-memory dependencies with call counters and a run report that records what is added. */
function countingDeps(logger: Logger) {
  const calls = { marketo: 0, salesforce: 0 };
  const added: { kind: string; runId: string; counts: Record<string, number> }[] = [];
  const deps: CallAccountingDeps & { calls: typeof calls } = {
    calls,
    marketo: { callCounts: () => ({ total: calls.marketo }) },
    salesforce: { callCounts: () => ({ total: calls.salesforce }) },
    runs: {
      add: async (kind, runId, counts) => {
        added.push({ kind, runId, counts });
      },
    },
    logger,
  };
  return { deps, added };
}

const runtimeOf = <D>(deps: D, accounting?: (d: D) => CallAccountingDeps): Runtime<D> => ({
  compose: () => async () => deps,
  ...(accounting ? { accounting } : {}),
});

class RecordingDeferrer implements VisibilityDeferrer {
  readonly deferred: { record: SQSRecord; resumeAtMs: number }[] = [];
  async defer(record: SQSRecord, resumeAtMs: number): Promise<void> {
    this.deferred.push({ record, resumeAtMs });
  }
}

class RecordingFailures implements FailureRecorder {
  readonly recorded: { queue: string; record: SQSRecord; err: unknown }[] = [];
  async record(queue: string, record: SQSRecord, err: unknown): Promise<void> {
    this.recorded.push({ queue, record, err });
  }
}

describe('sqsFunction', () => {
  const logged = captureJsonOutput();

  it('puts the Lambda context on every log line the use case writes', async () => {
    // Prepare
    const logger = createLogger('write-activity-tasks', { logLevel: 'INFO' });
    const { deps } = countingDeps(logger);
    const handler = sqsFunction(
      'write-activity-tasks',
      {
        queue: 'write',
        runtime: runtimeOf(deps),
        deferrer: new RecordingDeferrer(),
        failureRecorder: new RecordingFailures(),
      },
      (d) => async (record) => d.logger.warn('handling', { messageId: record.messageId }),
      { platform: testPlatform(logger) },
    );

    // Act
    await handler(sqsEvent(sqsRecord('m-1')), context('req-123'));

    // Assess
    expect(logged().find((l) => l.message === 'handling')).toMatchObject({
      messageId: 'm-1',
      function_request_id: 'req-123',
      function_name: 'sync-write-activity-tasks',
      service: 'write-activity-tasks',
    });
  });

  it('reports each failed record on its own, defers a spent budget and records the exact record', async () => {
    // Prepare
    const logger = createLogger('test', { logLevel: 'CRITICAL' });
    const { deps } = countingDeps(logger);
    const deferrer = new RecordingDeferrer();
    const failures = new RecordingFailures();
    const resetAt = new Date('2026-03-02T00:00:00Z');
    const quota = new MarketoDailyQuotaError({ endpoint: '/rest/v1/activities.json', resetAt });
    const broken = new Error('not parseable');
    const handler = sqsFunction(
      'fetch-activity-page',
      { queue: 'fetch', runtime: runtimeOf(deps), deferrer, failureRecorder: failures },
      () => async (record) => {
        if (record.messageId === 'quota') throw quota;
        if (record.messageId === 'broken') throw broken;
        return 'ok';
      },
      { platform: testPlatform(logger) },
    );
    const [ok, spent, bad] = [sqsRecord('ok'), sqsRecord('quota'), sqsRecord('broken')];

    // Act
    const res = await handler(sqsEvent(ok, spent, bad), context('req-1'));

    // Assess
    expect(res.batchItemFailures).toHaveLength(2);
    expect(res.batchItemFailures).toEqual(
      expect.arrayContaining([{ itemIdentifier: 'quota' }, { itemIdentifier: 'broken' }]),
    );
    expect(deferrer.deferred).toEqual([{ record: spent, resumeAtMs: resetAt.getTime() }]);
    expect(failures.recorded).toHaveLength(2);
    expect(failures.recorded).toEqual(
      expect.arrayContaining([
        { queue: 'fetch', record: spent, err: quota },
        { queue: 'fetch', record: bad, err: broken },
      ]),
    );
  });

  it('fails every record of the batch with the error of a batch-wide step', async () => {
    const logger = createLogger('test', { logLevel: 'CRITICAL' });
    const failures = new RecordingFailures();
    const down = new Error('Salesforce unreachable');
    const handler = sqsFunction(
      'write-activity-tasks',
      {
        queue: 'write',
        runtime: runtimeOf(countingDeps(logger).deps),
        deferrer: new RecordingDeferrer(),
        failureRecorder: failures,
      },
      async () => {
        throw down;
      },
      { platform: testPlatform(logger) },
    );

    const res = await handler(sqsEvent(sqsRecord('a'), sqsRecord('b')), context('req-2'));

    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: 'a' }, { itemIdentifier: 'b' }] });
    expect(failures.recorded.map((f) => [f.record.messageId, f.err])).toEqual([
      ['a', down],
      ['b', down],
    ]);
  });

  it("adds the batch's vendor calls to the run of its first record, failed records included", async () => {
    // Prepare
    const logger = createLogger('test', { logLevel: 'CRITICAL' });
    const { deps, added } = countingDeps(logger);
    const handler = sqsFunction(
      'write-activity-tasks',
      {
        queue: 'write',
        runtime: runtimeOf(deps, (d) => d),
        deferrer: new RecordingDeferrer(),
        failureRecorder: new RecordingFailures(),
      },
      (d) => async (record) => {
        d.calls.marketo += 2;
        d.calls.salesforce += 1;
        if (record.messageId === 'b') throw new Error('refused');
      },
      { platform: testPlatform(logger) },
    );

    // Act
    await handler(sqsEvent(sqsRecord('a'), sqsRecord('b')), context('req-3'));

    // Assess
    expect(added).toEqual([
      { kind: 'activities', runId: RUN_ID, counts: { 'calls.marketo': 4, 'calls.salesforce': 2 } },
    ]);
  });

  it('builds the dependencies once per cold start, and again after a failed build', async () => {
    const logger = createLogger('test', { logLevel: 'CRITICAL' });
    const { deps } = countingDeps(logger);
    let builds = 0;
    const runtime: Runtime<typeof deps> = {
      compose: () => async () => {
        builds += 1;
        if (builds === 1) throw new Error('secret not readable yet');
        return deps;
      },
    };
    const handler = sqsFunction(
      'fetch-activity-page',
      {
        queue: 'fetch',
        runtime,
        deferrer: new RecordingDeferrer(),
        failureRecorder: new RecordingFailures(),
      },
      () => async () => 'ok',
      { platform: testPlatform(logger) },
    );

    await expect(handler(sqsEvent(sqsRecord('a')), context('r1'))).rejects.toThrow('secret not readable yet');
    await handler(sqsEvent(sqsRecord('b')), context('r2'));
    await handler(sqsEvent(sqsRecord('c')), context('r3'));

    expect(builds).toBe(2);
  });
});

describe('scheduledFunction', () => {
  const logger = createLogger('test', { logLevel: 'CRITICAL' });

  it("names the run by the schedule's scheduledTime and counts the job's calls into it", async () => {
    // Prepare
    const { deps, added } = countingDeps(logger);
    const runs: string[] = [];
    const handler = scheduledFunction(
      'schedule-activity-sync',
      runtimeOf(deps, (d) => d),
      async (d, run) => {
        runs.push(run.runId);
        d.calls.marketo += 3;
        return run;
      },
      { platform: testPlatform(logger) },
    );

    // Act
    const run = await handler(
      { job: 'activities', scheduledTime: '2026-03-01T20:00:00Z', executionId: 'exec-1' },
      context('req-s'),
    );

    // Assess
    expect(run).toMatchObject({
      job: 'activities',
      scheduledTime: '2026-03-01T20:00:00Z',
      executionId: 'exec-1',
    });
    expect(run.runId).toMatch(/^2026-03-01T20:00:00\.000Z#[a-z0-9]+$/);
    expect(added).toEqual([
      { kind: 'activities', runId: run.runId, counts: { 'calls.marketo': 3, 'calls.salesforce': 0 } },
    ]);
    expect(runs).toEqual([run.runId]);
  });

  it('names a run invoked by hand (no input) by the time it starts', async () => {
    const handler = scheduledFunction('reconcile-optouts', runtimeOf({}), async (_d, run) => run, {
      platform: testPlatform(logger),
    });
    const before = Date.now();

    const run = await handler(undefined, context('req-m'));

    const at = Date.parse(run.runId.split('#')[0] ?? '');
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(Date.now());
    expect(run).not.toHaveProperty('scheduledTime');
  });

  it.each([
    [{ key1: 'value1' }, /key1|Unrecognized/],
    [{ job: 'optouts', idGap: 5000 }, /idGap: applies only to the job "optouts-full"/],
    [{ job: 'optouts-full', idGap: 0 }, /idGap/],
  ])('refuses an input no job reads (%j), before the job runs', async (input, message) => {
    const job = vi.fn(async () => 'ran');
    const handler = scheduledFunction('reconcile-optouts', runtimeOf({}), job, {
      platform: testPlatform(logger),
    });

    const refused = handler(input, context('req-y'));

    await expect(refused).rejects.toBeInstanceOf(ScheduleInputError);
    await expect(refused).rejects.toThrow(message);
    expect(job).not.toHaveBeenCalled();
  });

  it('hands job optouts-full its idGap', async () => {
    const job = vi.fn(async (_deps: unknown, run: ScheduledRun) => run.idGap);
    const handler = scheduledFunction('reconcile-optouts', runtimeOf({}), job, {
      platform: testPlatform(logger),
    });

    expect(await handler({ job: 'optouts-full', idGap: 50_000 }, context('req-z'))).toBe(50_000);
  });

  it('refuses an input whose scheduledTime is not a time, before the job runs', async () => {
    const job = vi.fn(async () => 'ran');
    const handler = scheduledFunction('schedule-activity-sync', runtimeOf({}), job, {
      platform: testPlatform(logger),
    });

    await expect(handler({ scheduledTime: 'tonight' }, context('req-x'))).rejects.toBeInstanceOf(
      ScheduleInputError,
    );
    expect(job).not.toHaveBeenCalled();
  });
});

describe('httpFunction', () => {
  const logger = createLogger('test', { logLevel: 'CRITICAL' });
  const request = (body: string, base64 = false): APIGatewayProxyEventV2 =>
    ({
      version: '2.0',
      routeKey: 'POST /webhooks/unsubscribe',
      rawPath: '/webhooks/unsubscribe',
      rawQueryString: '',
      headers: { 'content-type': 'application/json' },
      requestContext: {},
      body: base64 ? Buffer.from(body).toString('base64') : body,
      isBase64Encoded: base64,
    }) as unknown as APIGatewayProxyEventV2;

  it('hands the route the decoded body and the headers, and returns its answer', async () => {
    const seen: unknown[] = [];
    const handler = httpFunction(
      'receive-unsubscribe-webhook',
      runtimeOf({ greeting: 'accepted' }),
      async (deps, req) => {
        seen.push(Buffer.from(req.body ?? '').toString('utf8'), req.headers['content-type']);
        return { statusCode: 202, headers: {}, body: deps.greeting };
      },
      { platform: testPlatform(logger) },
    );

    const res = await handler(request('{"email":"a@example.com"}', true), context('req-h'));

    expect(res).toMatchObject({ statusCode: 202, body: 'accepted' });
    expect(seen).toEqual(['{"email":"a@example.com"}', 'application/json']);
  });

  it('answers any throw with a bare 500, even one carrying its own 4xx status and message', async () => {
    const handler = httpFunction(
      'receive-unsubscribe-webhook',
      runtimeOf({}),
      async () => {
        throw Object.assign(
          new Error('ValidationException: arn:aws:dynamodb:eu-west-1:123456789012:table/x'),
          {
            statusCode: 400,
          },
        );
      },
      { platform: testPlatform(logger) },
    );

    const res = await handler(request('{}'), context('req-e'));

    expect(res.statusCode).toBe(500);
    expect(JSON.parse(String(res.body))).toEqual({
      error: 'internal_error',
      message: 'Not accepted; retry later.',
    });
  });

  it('hands the webhook the API Gateway source address: outside optOuts.webhookAllowedSources, 403 and nothing sent to DynamoDB or SQS', async () => {
    const sent: string[] = [];
    const platform = {
      ...testPlatform(logger),
      settings: parseSettings({
        ...DEFAULT_SETTINGS_INPUT,
        optOuts: { webhookAllowedSources: ['192.0.2.0/24'] },
      }),
    };
    // Every command either client would send is recorded and refused (no network).
    for (const client of [platform.doc, platform.sqs] as {
      middlewareStack: typeof platform.doc.middlewareStack;
    }[])
      client.middlewareStack.add(
        () => async () => {
          sent.push('command');
          throw new Error('no network in this test');
        },
        { step: 'initialize' },
      );
    const secret = 's'.repeat(32);
    const handler = httpFunction('receive-unsubscribe-webhook', webhookRuntime, handleUnsubscribeRequest, {
      env: {
        OPT_OUTS_TABLE: 'sync-opt-outs',
        UNSUBSCRIBE_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/q',
        WEBHOOK_SECRET: secret,
      },
      platform,
    });
    const from = (sourceIp: string) =>
      ({
        ...request('{"email":"a@example.com"}'),
        headers: { 'content-type': 'application/json', 'x-webhook-secret': secret },
        requestContext: { http: { method: 'POST', path: '/webhooks/unsubscribe', sourceIp } },
      }) as unknown as APIGatewayProxyEventV2;

    const outside = await handler(from('203.0.113.9'), context('req-o'));
    const sentBefore = sent.length;
    const inside = await handler(from('192.0.2.7'), context('req-i'));

    expect(outside.statusCode).toBe(403);
    expect(JSON.parse(String(outside.body))).toMatchObject({ error: 'forbidden_source' });
    expect(sentBefore).toBe(0);
    // From inside the list the request goes on to write (refused here: 500), so the 403 was the list's.
    expect(inside.statusCode).toBe(500);
    expect(sent.length).toBeGreaterThan(0);
  });

  it('fails its cold start naming a variable the webhook needs', () => {
    expect(() =>
      httpFunction(
        'receive-unsubscribe-webhook',
        webhookRuntime,
        async () => ({ statusCode: 200, headers: {}, body: '' }),
        {
          env: {
            UNSUBSCRIBE_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/q',
            WEBHOOK_SECRET: 's'.repeat(32),
          },
          platform: testPlatform(logger),
        },
      ),
    ).toThrow(new MissingEnvironmentError('OPT_OUTS_TABLE', 'the opt-out table name'));
  });
});
