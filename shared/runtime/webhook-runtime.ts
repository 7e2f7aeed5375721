import { DynamoDbOptOutStore } from '../adapters/dynamodb/opt-out-store.js';
import { DynamoDbSourceRateLimiter } from '../adapters/dynamodb/source-rate-limiter.js';
import { TABLES } from '../adapters/dynamodb/table-definitions.js';
import { QUEUES } from '../adapters/sqs/queue-definitions.js';
import { SqsMessageSender } from '../adapters/sqs/sqs-message-sender.js';
import { policyFromSettings } from '../domain/opt-out-policy.js';
import type { WebhookDeps } from '../optouts/webhook-request.js';
import { requireEnv } from './environment.js';
import type { Runtime } from './function-builder.js';
import type { Platform } from './platform.js';
import { webhookSecretsFromEnv } from './webhook-secrets-from-env.js';

/*
 * The webhook intake's composition, apart from the opt-out runtime: it calls no vendor, so its
 * bundle must not carry the Marketo client or jsforce (test/infra/function-bundles.test.ts checks).
 */

/**
 * The webhook needs only the opt-out table, the unsubscribe queue, its secrets and (with
 * optOuts.webhookPerSourceLimit) the source counters table; no vendor clients.
 */
export function webhookDeps(platform: Platform, env: NodeJS.ProcessEnv = process.env): WebhookDeps {
  const limit = platform.settings.optOuts.webhookPerSourceLimit;
  return {
    store: new DynamoDbOptOutStore(
      platform.doc,
      requireEnv(env, TABLES.optOuts.envVar, 'the opt-out table name'),
    ),
    sender: new SqsMessageSender({ client: platform.sqs }),
    unsubscribeQueueUrl: requireEnv(env, QUEUES.unsubscribe.envVar, 'the unsubscribe queue URL'),
    secrets: webhookSecretsFromEnv(env),
    policy: policyFromSettings(platform.settings.optOuts),
    logger: platform.logger,
    allowedSources: platform.settings.optOuts.webhookAllowedSources,
    // Set: the counters table is required at cold start (never a limit accepted and not enforced).
    ...(limit && {
      sourceThrottle: {
        limit,
        limiter: new DynamoDbSourceRateLimiter(
          platform.doc,
          requireEnv(env, TABLES.webhookSources.envVar, 'the webhook source counters table name'),
        ),
      },
    }),
  };
}

/** The webhook's composition: everything at cold start, a missing variable named there. */
export const webhookRuntime: Runtime<WebhookDeps> = {
  compose: (platform, env) => {
    const deps = webhookDeps(platform, env);
    return async () => deps;
  },
};
