import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type TableKey, tableNamesFromEnv } from '../adapters/dynamodb/table-definitions.js';
import type { CallGovernor } from '../adapters/marketo/call-governor.js';
import { DynamoDbCallGovernor } from '../adapters/marketo/dynamodb-call-governor.js';
import { QUEUES, type QueueKey } from '../adapters/sqs/queue-definitions.js';
import { loadSettings, type Settings } from '../config/settings.js';
import { createDocumentClient, createSqsClient } from './aws-clients.js';

/**
 * The AWS-side plumbing every function and the CLI share. No vendor client is imported here (nor by
 * the function builder): a function bundles a vendor's client only when its runtime module names it
 * (marketo-vendor.ts, salesforce-vendor.ts), so the webhook intake carries neither.
 */
export interface Platform {
  settings: Settings;
  logger: Logger;
  doc: DynamoDBDocumentClient;
  sqs: SQSClient;
  tables: Record<TableKey, string>;
  queueUrls: Partial<Record<QueueKey, string>>;
}

/** Platform from the environment: table names, queue URLs, SDK endpoints per the SDK's own AWS_ENDPOINT_URL_* convention. */
export function platformFromEnv(logger: Logger, env: NodeJS.ProcessEnv = process.env): Platform {
  const queueUrls: Partial<Record<QueueKey, string>> = {};
  for (const [key, def] of Object.entries(QUEUES) as [QueueKey, (typeof QUEUES)[QueueKey]][]) {
    const url = env[def.envVar];
    if (url) queueUrls[key] = url;
  }
  return {
    settings: loadSettings(),
    logger,
    doc: createDocumentClient(),
    sqs: createSqsClient(),
    tables: tableNamesFromEnv(env),
    queueUrls,
  };
}

/** The Marketo call budget shared by every caller, kept in DynamoDB so Lambda scale-out cannot break it. */
export function marketoGovernor(platform: Platform, overrides: { windowMs?: number } = {}): CallGovernor {
  return new DynamoDbCallGovernor({
    doc: platform.doc,
    tableName: platform.tables.governor,
    callsPerWindow: platform.settings.marketo.callsPer20s,
    maxConcurrent: platform.settings.marketo.maxConcurrent,
    ...overrides,
  });
}
