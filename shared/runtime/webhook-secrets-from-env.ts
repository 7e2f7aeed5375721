import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { WebhookSecretConfigError } from '../optouts/errors.js';
import {
  secretsManagerWebhookSecrets,
  staticWebhookSecrets,
  type WebhookSecrets,
} from '../optouts/webhook-secrets.js';

/** How long Powertools caches the webhook secret document (a refused secret forces a re-read). */
const SECRET_MAX_AGE_SECONDS = 300;

/** WEBHOOK_SECRET_ARN (AWS) else WEBHOOK_SECRET [+ WEBHOOK_SECRET_PREVIOUS] (local). */
export function webhookSecretsFromEnv(env: NodeJS.ProcessEnv = process.env): WebhookSecrets {
  if (env.WEBHOOK_SECRET_ARN)
    return secretsManagerWebhookSecrets(env.WEBHOOK_SECRET_ARN, {
      fetch: (arn, forceFetch) => getSecret(arn, { maxAge: SECRET_MAX_AGE_SECONDS, forceFetch }),
    });
  if (env.WEBHOOK_SECRET) return staticWebhookSecrets(env.WEBHOOK_SECRET, env.WEBHOOK_SECRET_PREVIOUS);
  throw new WebhookSecretConfigError(
    'No webhook secret configured: set WEBHOOK_SECRET (and optionally WEBHOOK_SECRET_PREVIOUS while rotating) locally, or WEBHOOK_SECRET_ARN in AWS.',
  );
}
