import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ActivityDeps } from '../activities/activity-deps.js';
import { DynamoDbCursorStore } from '../adapters/dynamodb/cursor-store.js';
import { DynamoDbLeadCacheStore } from '../adapters/dynamodb/lead-cache-store.js';
import { DynamoDbLeadTaskIndex } from '../adapters/dynamodb/lead-task-index.js';
import { DynamoDbLedgerStore } from '../adapters/dynamodb/ledger-store.js';
import { DynamoDbPendingActivityStore } from '../adapters/dynamodb/pending-activity-store.js';
import { DynamoDbRunReportStore } from '../adapters/dynamodb/run-report-store.js';
import { DynamoDbStagedTaskStore } from '../adapters/dynamodb/staged-task-store.js';
import { type TableKey, tableNamesFromEnv } from '../adapters/dynamodb/table-definitions.js';
import type { CallGovernor } from '../adapters/marketo/call-governor.js';
import { DynamoDbCallGovernor } from '../adapters/marketo/dynamodb-call-governor.js';
import { MarketoClient } from '../adapters/marketo/marketo-client.js';
import { SalesforceClient } from '../adapters/salesforce/salesforce-client.js';
import { QUEUES, type QueueKey } from '../adapters/sqs/queue-definitions.js';
import { SqsMessageSender } from '../adapters/sqs/sqs-message-sender.js';
import { loadSettings, type Settings } from '../config/settings.js';
import type { MarketoApi } from '../ports/marketo-api.js';
import type { SalesforceApi } from '../ports/salesforce-api.js';
import { createDocumentClient, createSqsClient } from './aws-clients.js';
import { type GrantedCredentials, grantedVendor, loadCredentials, ungrantedClient } from './credentials.js';
import type { Runtime } from './function-builder.js';
import { once } from './once.js';

/** The AWS-side plumbing every function and the CLI share. */
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

/**
 * The vendor clients a function may use. A vendor whose secret the function was not granted (least
 * privilege: the fetch step never sees the Salesforce secret) gets a stand-in that refuses every call.
 */
export function vendorClients(
  platform: Platform,
  credentials: GrantedCredentials,
  governor?: CallGovernor,
): { marketo: MarketoApi; salesforce: SalesforceApi } {
  const marketo = grantedVendor('marketo', credentials);
  const salesforce = grantedVendor('salesforce', credentials);
  return {
    marketo: marketo
      ? new MarketoClient({
          baseUrl: marketo.MARKETO_BASE_URL,
          clientId: marketo.MARKETO_CLIENT_ID,
          clientSecret: marketo.MARKETO_CLIENT_SECRET,
          // Only a function granted Marketo has (and needs) the governor table.
          governor: governor ?? marketoGovernor(platform),
          logger: platform.logger,
        })
      : ungrantedClient<MarketoApi>('marketo'),
    salesforce: salesforce
      ? new SalesforceClient({
          loginUrl: salesforce.SALESFORCE_LOGIN_URL,
          clientId: salesforce.SALESFORCE_CLIENT_ID,
          clientSecret: salesforce.SALESFORCE_CLIENT_SECRET,
          apiVersion: platform.settings.salesforce.apiVersion,
        })
      : ungrantedClient<SalesforceApi>('salesforce'),
  };
}

/**
 * Everything the activity pipeline needs, from a platform and vendor clients. Stores are built on
 * first use, so a function bound to fewer tables never touches the others.
 */
export function activityDeps(
  platform: Platform,
  clients: Pick<ActivityDeps, 'marketo' | 'salesforce'>,
): ActivityDeps {
  const { doc, tables, settings } = platform;
  const cursors = once(() => new DynamoDbCursorStore(doc, tables.cursors));
  const runs = once(() => new DynamoDbRunReportStore(doc, tables.runs));
  const ledger = once(() => new DynamoDbLedgerStore(doc, tables.ledger));
  const leadCache = once(
    () => new DynamoDbLeadCacheStore(doc, tables.leadCache, settings.activities.leadCacheTtlSeconds),
  );
  const staging = once(() => new DynamoDbStagedTaskStore(doc, tables.staging));
  const pending = once(() => new DynamoDbPendingActivityStore(doc, tables.pending));
  const leadTasks = once(() => new DynamoDbLeadTaskIndex(doc, tables.leadTasks));
  return {
    settings,
    logger: platform.logger,
    get cursors() {
      return cursors();
    },
    get runs() {
      return runs();
    },
    get ledger() {
      return ledger();
    },
    get leadCache() {
      return leadCache();
    },
    get staging() {
      return staging();
    },
    get pending() {
      return pending();
    },
    get leadTasks() {
      return leadTasks();
    },
    sender: new SqsMessageSender({ client: platform.sqs }),
    queueUrls: {
      ...(platform.queueUrls.fetch ? { fetch: platform.queueUrls.fetch } : {}),
      ...(platform.queueUrls.write ? { write: platform.queueUrls.write } : {}),
      ...(platform.queueUrls.flush ? { flush: platform.queueUrls.flush } : {}),
    },
    ...clients,
  };
}

/**
 * The activity functions' composition: at cold start nothing beyond the platform; on the first
 * invocation the granted vendor secrets and the clients over them. Each invocation's vendor calls
 * are added to its run report.
 */
export const activityRuntime: Runtime<ActivityDeps> = {
  compose: (platform, env) => async () =>
    activityDeps(platform, vendorClients(platform, await loadCredentials(env))),
  accounting: (deps) => deps,
};
