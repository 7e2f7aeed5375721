import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../shared/observability/logger.js';
import { WebhookSecretConfigError } from '../../../shared/optouts/errors.js';
import { handleUnsubscribeRequest, type WebhookDeps } from '../../../shared/optouts/webhook-request.js';
import {
  SECRET_RETRY_AFTER_SECONDS,
  secretMatches,
  secretsManagerWebhookSecrets,
} from '../../../shared/optouts/webhook-secrets.js';
import type { MessageSender } from '../../../shared/ports/message-sender.js';
import type { OptOutStore } from '../../../shared/ports/opt-out-store.js';

const fromDocument = (doc: unknown) => secretsManagerWebhookSecrets('arn:test', { fetch: async () => doc });

describe('webhook secret document', () => {
  it.each([{ previous: '' }, { previous: null }, {}])(
    'reads %j plus current as "no previous secret", never as an accepted empty secret',
    async (extra) => {
      const accepted = await fromDocument({ current: 'c'.repeat(48), ...extra }).accepted();
      expect(accepted).toEqual(['c'.repeat(48)]);
      expect(secretMatches('', accepted)).toBe(false);
      expect(secretMatches(undefined, accepted)).toBe(false);
      expect(secretMatches('c'.repeat(48), accepted)).toBe(true);
    },
  );

  it('accepts both secrets during a rotation', async () => {
    const accepted = await fromDocument({ current: 'new-secret', previous: 'old-secret' }).accepted();
    expect(secretMatches('old-secret', accepted)).toBe(true);
    expect(secretMatches('new-secret', accepted)).toBe(true);
  });

  it('refuses an empty current, naming the key and not the value', async () => {
    const error = await fromDocument({ current: '', previous: 'old-secret-value' })
      .accepted()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebhookSecretConfigError);
    expect((error as Error).message).toMatch(/current:/);
    expect((error as Error).message).not.toContain('old-secret-value');
  });
});

describe('a misconfigured webhook secret', () => {
  const untouchable = <T extends object>(what: string) =>
    new Proxy({} as T, {
      get(_t, p) {
        throw new Error(`${what}.${String(p)} used: a misconfigured secret must write nothing`);
      },
    });

  it('answers 503 with Retry-After, writes nothing, and logs one configuration error naming the key', async () => {
    const logger = createLogger('test', { logLevel: 'SILENT' });
    const errors = vi.spyOn(logger, 'error');
    const deps: WebhookDeps = {
      store: untouchable<OptOutStore>('store'),
      sender: untouchable<MessageSender>('sender'),
      unsubscribeQueueUrl: 'http://queue.local/q',
      secrets: fromDocument({ previous: 'leaked-if-logged' }),
      policy: { resubscribeSources: [] },
      logger,
    };
    const request = {
      headers: { 'x-webhook-secret': 'whatever', 'content-type': 'application/json' },
      body: '{"email":"a@example.com"}',
    };
    for (let i = 0; i < 3; i++) {
      const res = await handleUnsubscribeRequest(deps, request);
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe(String(SECRET_RETRY_AFTER_SECONDS));
    }
    expect(errors).toHaveBeenCalledTimes(1);
    expect(errors.mock.calls[0]?.[1]).toMatchObject({ configurationError: true, keys: ['current'] });
    expect(JSON.stringify(errors.mock.calls)).not.toContain('leaked-if-logged');
  });

  it('is a configuration error when the secret is not JSON, without quoting it', async () => {
    const error = await fromDocument('not-json-secret-value')
      .accepted()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebhookSecretConfigError);
    expect((error as WebhookSecretConfigError).keys).toEqual(['(root)']);
    expect((error as Error).message).not.toContain('not-json-secret-value');
  });
});
