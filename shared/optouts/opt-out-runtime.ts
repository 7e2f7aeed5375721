import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbOptOutStore } from '../adapters/dynamodb/opt-out-store.js';
import { TABLES } from '../adapters/dynamodb/table-definitions.js';
import { QUEUES } from '../adapters/sqs/queue-definitions.js';
import { SqsMessageSender } from '../adapters/sqs/sqs-message-sender.js';
import { loadSettings } from '../config/settings.js';
import { policyFromSettings } from '../domain/opt-out-policy.js';
import { createLogger } from '../observability/logger.js';
import { type Platform, platformFromEnv, vendorClients } from '../runtime/activity-runtime.js';
import { type GrantedCredentials, loadCredentials } from '../runtime/credentials.js';
import { buildOptOutDeps, type OptOutDeps } from './opt-out-deps.js';
import type { WebhookDeps } from './webhook-request.js';
import { webhookSecretsFromEnv } from './webhook-secrets.js';

/** Lambda composition roots for the unsubscribe functions: built once per cold start, failing fast. */

export class MissingEnvironmentError extends Error {
  override readonly name = 'MissingEnvironmentError';
  constructor(variable: string, what: string) {
    super(
      `Environment variable ${variable} is not set: it must be ${what}. Check the function's configuration.`,
    );
  }
}

function requireEnv(env: NodeJS.ProcessEnv, variable: string, what: string): string {
  const value = env[variable];
  if (!value) throw new MissingEnvironmentError(variable, what);
  return value;
}

/** The webhook needs only the opt-out table, the unsubscribe queue and its secrets (no vendor clients). */
export function webhookDepsFromEnv(service: string, env: NodeJS.ProcessEnv = process.env): WebhookDeps {
  const settings = loadSettings();
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return {
    store: new DynamoDbOptOutStore(doc, requireEnv(env, TABLES.optOuts.envVar, 'the opt-out table name')),
    sender: new SqsMessageSender({ client: new SQSClient({}) }),
    unsubscribeQueueUrl: requireEnv(env, QUEUES.unsubscribe.envVar, 'the unsubscribe queue URL'),
    secrets: webhookSecretsFromEnv(env),
    policy: policyFromSettings(settings.optOuts),
    logger: createLogger(service),
  };
}

/** OptOutDeps over a platform; vendor clients built on first use from the given credentials. */
export function optOutDepsFromPlatform(
  platform: Platform,
  credentials: () => Promise<GrantedCredentials>,
): OptOutDeps {
  let clients: Promise<ReturnType<typeof vendorClients>> | undefined;
  const vendors = () => {
    clients ??= credentials().then((c) => vendorClients(platform, c));
    return clients;
  };
  return buildOptOutDeps({
    settings: platform.settings,
    logger: platform.logger,
    doc: platform.doc,
    tables: platform.tables,
    sender: new SqsMessageSender({ client: platform.sqs }),
    queueUrls: { unsubscribe: platform.queueUrls.unsubscribe ?? '' },
    marketo: async () => (await vendors()).marketo,
    salesforce: async () => (await vendors()).salesforce,
  });
}

/** The consumer and the nightly run: tables, queue, and vendor clients built on first use. */
export function optOutDepsFromEnv(service: string, env: NodeJS.ProcessEnv = process.env): OptOutDeps {
  return optOutDepsFromPlatform(platformFromEnv(createLogger(service), env), () => loadCredentials(env));
}
