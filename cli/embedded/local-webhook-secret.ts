import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const LOCAL_WEBHOOK_SECRET_FILE = 'webhook-secret';

/**
 * The local webhook secret: WEBHOOK_SECRET, else one generated once into `<dataDir>/webhook-secret`
 * (owner-only), so `npm start` and `npm run sync -- serve` accept the same header. AWS reads its
 * secret from Secrets Manager (WEBHOOK_SECRET_ARN) and never comes here.
 */
export function localWebhookSecret(dataDir: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env.WEBHOOK_SECRET) return env.WEBHOOK_SECRET;
  const dir = resolve(dataDir);
  const file = join(dir, LOCAL_WEBHOOK_SECRET_FILE);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dir, { recursive: true });
  const secret = randomBytes(24).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return secret;
}
