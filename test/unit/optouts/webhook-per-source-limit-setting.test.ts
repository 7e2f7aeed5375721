import { describe, expect, it } from 'vitest';
import { DynamoDbSourceRateLimiter } from '../../../shared/adapters/dynamodb/source-rate-limiter.js';
import {
  DEFAULT_SETTINGS_INPUT,
  InvalidSettingsError,
  parseSettings,
} from '../../../shared/config/settings.js';
import { createLogger } from '../../../shared/observability/logger.js';
import type { Platform } from '../../../shared/runtime/activity-runtime.js';
import { createDocumentClient, createSqsClient } from '../../../shared/runtime/aws-clients.js';
import { MissingEnvironmentError } from '../../../shared/runtime/environment.js';
import { webhookDeps } from '../../../shared/runtime/webhook-runtime.js';

const withLimit = (webhookPerSourceLimit: unknown) =>
  parseSettings({ ...DEFAULT_SETTINGS_INPUT, optOuts: { webhookPerSourceLimit } });

describe('settings optOuts.webhookPerSourceLimit', () => {
  it('defaults to null (off)', () => {
    expect(parseSettings(DEFAULT_SETTINGS_INPUT).optOuts.webhookPerSourceLimit).toBeNull();
  });

  it('takes a request count per window of seconds', () => {
    expect(withLimit({ requests: 600, perSeconds: 60 }).optOuts.webhookPerSourceLimit).toEqual({
      requests: 600,
      perSeconds: 60,
    });
  });

  it.each([
    [{ requests: 0, perSeconds: 60 }, 'optOuts.webhookPerSourceLimit.requests'],
    [{ requests: 1.5, perSeconds: 60 }, 'optOuts.webhookPerSourceLimit.requests'],
    [{ requests: 10, perSeconds: 0 }, 'optOuts.webhookPerSourceLimit.perSeconds'],
    [{ requests: 10, perSeconds: 3601 }, 'optOuts.webhookPerSourceLimit.perSeconds'],
    [{ requests: 10 }, 'optOuts.webhookPerSourceLimit.perSeconds'],
    [{ requests: 10, perSeconds: 60, burst: 5 }, 'optOuts.webhookPerSourceLimit'],
    [600, 'optOuts.webhookPerSourceLimit'],
  ])('refuses %j, naming %s', (bad, field) => {
    const refuse = () => withLimit(bad);
    expect(refuse).toThrow(InvalidSettingsError);
    expect(refuse).toThrow(`${field}: `);
  });
});

describe('the intake Lambda composition (webhookDeps) enforces the setting', () => {
  const platform = (webhookPerSourceLimit: unknown): Platform => ({
    settings: withLimit(webhookPerSourceLimit),
    logger: createLogger('test', { logLevel: 'SILENT' }),
    doc: createDocumentClient({ region: 'us-east-1' }),
    sqs: createSqsClient({ region: 'us-east-1' }),
    tables: {} as Platform['tables'],
    queueUrls: {},
  });
  const env = {
    OPT_OUTS_TABLE: 'sync-opt-outs',
    UNSUBSCRIBE_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/q',
    WEBHOOK_SECRET: 's'.repeat(32),
  };

  it('throttles with the DynamoDB counters named in WEBHOOK_SOURCES_TABLE when the limit is set', async () => {
    const p = platform({ requests: 5, perSeconds: 10 });
    const sent: Record<string, unknown>[] = [];
    p.doc.middlewareStack.add(
      (_next) => async (args) => {
        sent.push(args.input as Record<string, unknown>);
        throw new Error('no network in this test');
      },
      { step: 'initialize' },
    );

    const deps = webhookDeps(p, { ...env, WEBHOOK_SOURCES_TABLE: 'counters-x' });

    expect(deps.sourceThrottle?.limit).toEqual({ requests: 5, perSeconds: 10 });
    expect(deps.sourceThrottle?.limiter).toBeInstanceOf(DynamoDbSourceRateLimiter);
    await expect(
      deps.sourceThrottle?.limiter.hit('source#x', { requests: 5, perSeconds: 10 }, new Date()),
    ).rejects.toThrow();
    expect(sent[0]).toMatchObject({ TableName: 'counters-x' });
  });

  it('fails at cold start, naming the variable, when the limit is set and the table is not', () => {
    expect(() => webhookDeps(platform({ requests: 5, perSeconds: 10 }), env)).toThrow(
      MissingEnvironmentError,
    );
    expect(() => webhookDeps(platform({ requests: 5, perSeconds: 10 }), env)).toThrow(
      /WEBHOOK_SOURCES_TABLE/,
    );
  });

  it('does not throttle (nor need the table) when the limit is off', () => {
    expect(webhookDeps(platform(null), env).sourceThrottle).toBeUndefined();
  });
});
