import { describe, expect, it } from 'vitest';
import { WebhookSecretConfigError } from '../../../shared/optouts/errors.js';
import { secretMatches, secretsManagerWebhookSecrets } from '../../../shared/optouts/webhook-secrets.js';

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
