import type { Context, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { tableNamesFromEnv } from '../../../shared/adapters/dynamodb/table-definitions.js';
import { DEFAULT_SETTINGS_INPUT, parseSettings } from '../../../shared/config/settings.js';
import { createLogger } from '../../../shared/observability/logger.js';
import { METRICS } from '../../../shared/observability/metrics.js';
import type { Platform } from '../../../shared/runtime/activity-runtime.js';
import { createDocumentClient, createSqsClient } from '../../../shared/runtime/aws-clients.js';
import type { CallAccountingDeps } from '../../../shared/runtime/call-accounting.js';
import {
  httpFunction,
  type Runtime,
  scheduledFunction,
  sqsFunction,
} from '../../../shared/runtime/function-builder.js';
import { captureJsonOutput } from '../../helpers/captured-output.js';
import { lambdaContext, sqsRecord } from '../../helpers/lambda-context.js';

const METRICS_ENV = { POWERTOOLS_METRICS_NAMESPACE: 'TestSync', POWERTOOLS_SERVICE_NAME: 'test-sync' };

const context: Context = lambdaContext();

function platform(): Platform {
  return {
    settings: parseSettings(DEFAULT_SETTINGS_INPUT),
    logger: createLogger('test', { logLevel: 'CRITICAL' }),
    doc: createDocumentClient({ region: 'us-east-1' }),
    sqs: createSqsClient({ region: 'us-east-1' }),
    tables: tableNamesFromEnv({}),
    queueUrls: {},
  };
}

/** Vendor counters that the test's step moves forward, and a run report that accepts anything. */
function countedDeps() {
  const calls = { marketo: 0, salesforce: 0, errors: {} as Record<string, number> };
  const deps: CallAccountingDeps = {
    marketo: { callCounts: () => ({ total: calls.marketo, errors: { ...calls.errors } }) },
    salesforce: { callCounts: () => ({ total: calls.salesforce }) },
    runs: { add: async () => undefined },
    logger: createLogger('test', { logLevel: 'CRITICAL' }),
  };
  return { calls, deps };
}

const runtimeOf = <D extends CallAccountingDeps>(deps: D): Runtime<D> => ({
  compose: () => async () => deps,
  accounting: (d) => d,
});

const record = (messageId: string): SQSRecord => sqsRecord(messageId, { runId: 'run-1' }, 'sync-fetch');

interface EmfDocument {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] };
  [key: string]: unknown;
}

describe('function metrics (EMF)', () => {
  const written = captureJsonOutput();
  const emf = (): EmfDocument[] => written().filter((d): d is EmfDocument => '_aws' in d);

  it('flushes one EMF document per SQS invocation with the vendor calls and what the consumer added', async () => {
    // Prepare
    const { calls, deps } = countedDeps();
    const handler = sqsFunction(
      'fetch-activity-page',
      { queue: 'fetch', runtime: runtimeOf(deps), failureRecorder: { record: async () => undefined } },
      (_d, _records, metrics) => async () => {
        calls.marketo += 2;
        calls.errors['606'] = (calls.errors['606'] ?? 0) + 1;
        metrics.add(METRICS.activitiesRead, 300);
      },
      { env: METRICS_ENV, platform: platform() },
    );

    // Act
    await handler({ Records: [record('a'), record('b')] }, context);

    // Assess
    const docs = emf();
    expect(docs).toHaveLength(1);
    const [doc] = docs;
    expect(doc?._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: 'TestSync',
      Dimensions: [['service']],
    });
    expect(doc).toMatchObject({
      service: 'test-sync',
      MarketoCalls: 4,
      SalesforceCalls: 0,
      MarketoErrors_606: 2,
      ActivitiesRead: [300, 300],
    });
  });

  it('counts each webhook answer by status, a throw as 500, one document per request', async () => {
    // Prepare
    let answer: number | 'throw' = 401;
    const handler = httpFunction(
      'receive-unsubscribe-webhook',
      { compose: () => async () => ({}) },
      async () => {
        if (answer === 'throw') throw new Error('DynamoDB down');
        return { statusCode: answer, headers: {}, body: '{}' };
      },
      { env: METRICS_ENV, platform: platform() },
    );
    const event = { headers: {}, body: '{}', isBase64Encoded: false } as Parameters<typeof handler>[0];

    // Act
    const first = await handler(event, context);
    answer = 'throw';
    const second = await handler(event, context);

    // Assess
    expect([first.statusCode, second.statusCode]).toEqual([401, 500]);
    const docs = emf();
    expect(docs).toHaveLength(2);
    expect(docs[0]).toMatchObject({ WebhookRequests_401: 1 });
    expect(docs[0]).not.toHaveProperty('WebhookRequests_500');
    expect(docs[1]).toMatchObject({ WebhookRequests_500: 1 });
  });

  it('hands the scheduled job the sink and flushes what it added', async () => {
    const { deps } = countedDeps();
    const handler = scheduledFunction(
      'reconcile-optouts',
      runtimeOf(deps),
      async (_d, _run, metrics) => {
        metrics.add(METRICS.optOutsApplied.salesforce, 5);
        return 'done';
      },
      { env: METRICS_ENV, platform: platform() },
    );
    await handler({}, context);
    expect(emf()).toEqual([expect.objectContaining({ OptOutsApplied_salesforce: 5, MarketoCalls: 0 })]);
  });

  it('prints no metrics where no namespace is configured (the CLI, local runs)', async () => {
    const { calls, deps } = countedDeps();
    const handler = sqsFunction(
      'fetch-activity-page',
      { queue: 'fetch', runtime: runtimeOf(deps), failureRecorder: { record: async () => undefined } },
      (_d, _records, metrics) => async () => {
        calls.marketo += 1;
        metrics.add(METRICS.activitiesRead, 1);
      },
      { env: {}, platform: platform() },
    );
    await handler({ Records: [record('a')] }, context);
    expect(emf()).toEqual([]);
  });
});
