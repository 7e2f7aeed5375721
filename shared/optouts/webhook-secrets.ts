import { createHash, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import { WebhookSecretConfigError } from './errors.js';

/** The secrets a sender may present: the current one and, during a rotation, the previous one. */
export interface WebhookSecrets {
  accepted(options?: { refresh?: boolean }): Promise<string[]>;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * Constant-time check against every accepted secret: both sides are hashed to 32 bytes first, so
 * neither the length nor the position of the first differing byte leaks, and every candidate is
 * compared (no early exit).
 */
export function secretMatches(provided: string | undefined, accepted: readonly string[]): boolean {
  const given = digest(provided ?? '');
  let ok = false;
  for (const secret of accepted) {
    if (secret.length === 0) continue;
    ok = timingSafeEqual(given, digest(secret)) || ok;
  }
  return ok && provided !== undefined && provided.length > 0;
}

export function staticWebhookSecrets(current: string, previous?: string): WebhookSecrets {
  const list = [current, ...(previous ? [previous] : [])];
  return { accepted: async () => list };
}

/**
 * The webhook secret document. `previous` is optional: absent, null or "" all mean "no previous
 * secret" (the stack creates the secret as `{"previous": ""}` plus a generated `current`), and
 * are dropped, never kept as an accepted empty secret: an empty header must never authenticate.
 */
export const webhookSecretDocumentSchema = z.object({
  current: z.string().min(1, 'must be the secret senders use now'),
  previous: z
    .string()
    .nullish()
    .transform((v) => (v ? v : undefined)),
});

/** How long a sender is told to wait after a 503 for a misconfigured secret (also the re-read interval). */
export const SECRET_RETRY_AFTER_SECONDS = 30;

/**
 * AWS: one Secrets Manager secret holding `{"current": "...", "previous": "..."}`, cached for
 * `maxAgeSeconds`. A presented secret that matches neither triggers one refresh (at most every
 * 30 s), so a rotation is honoured at once without letting forged requests hammer Secrets Manager.
 * A document that is not JSON or misses a key throws WebhookSecretConfigError naming the key
 * (never a value); it is re-read (at most every 30 s) until it is fixed.
 */
export function secretsManagerWebhookSecrets(
  secretArn: string,
  options: {
    /** Reads the secret's raw string (the runtime passes Powertools' cached getSecret). */
    fetch: (arn: string, forceFetch: boolean) => Promise<unknown>;
  },
): WebhookSecrets {
  // The raw string, parsed here: a JSON.parse message quotes the input, i.e. the secret.
  const fetch = options.fetch;
  let lastForced = 0;
  let broken = false;
  return {
    async accepted({ refresh = false } = {}) {
      const force = (refresh || broken) && Date.now() - lastForced > SECRET_RETRY_AFTER_SECONDS * 1000;
      if (force) lastForced = Date.now();
      const raw = await fetch(secretArn, force);
      let document: unknown = raw;
      if (typeof raw === 'string') {
        try {
          document = JSON.parse(raw);
        } catch {
          broken = true;
          throw new WebhookSecretConfigError(
            `The webhook secret ${secretArn} is not JSON; it must be {"current": "...", "previous": ""}. Fix the secret value.`,
            { keys: ['(root)'] },
          );
        }
      }
      const parsed = webhookSecretDocumentSchema.safeParse(document);
      if (!parsed.success) {
        broken = true;
        const keys = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(root)'))];
        throw new WebhookSecretConfigError(
          `The webhook secret ${secretArn} must be JSON {"current": "...", "previous": "..."} (${parsed.error.issues
            .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
            .join('; ')}). Fix the secret value.`,
          { keys },
        );
      }
      broken = false;
      return [parsed.data.current, ...(parsed.data.previous ? [parsed.data.previous] : [])];
    },
  };
}
