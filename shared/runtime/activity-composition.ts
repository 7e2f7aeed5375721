import type { ActivityDeps } from '../activities/activity-deps.js';
import { DynamoDbCursorStore } from '../adapters/dynamodb/cursor-store.js';
import { DynamoDbLeadCacheStore } from '../adapters/dynamodb/lead-cache-store.js';
import { DynamoDbLeadTaskIndex } from '../adapters/dynamodb/lead-task-index.js';
import { DynamoDbLedgerStore } from '../adapters/dynamodb/ledger-store.js';
import { DynamoDbPendingActivityStore } from '../adapters/dynamodb/pending-activity-store.js';
import { DynamoDbRunReportStore } from '../adapters/dynamodb/run-report-store.js';
import { DynamoDbStagedTaskStore } from '../adapters/dynamodb/staged-task-store.js';
import { SqsMessageSender } from '../adapters/sqs/sqs-message-sender.js';
import { loadCredentials } from './credentials.js';
import type { Runtime } from './function-builder.js';
import { once } from './once.js';
import type { Platform } from './platform.js';
import { clientsOf, type VendorSet } from './vendor-clients.js';

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
 * An activity function's composition over the vendors it calls (the rest are left out of its
 * bundle): at cold start nothing beyond the platform; on the first invocation the granted vendor
 * secrets and the clients over them. Each invocation's vendor calls are added to its run report.
 */
export function activityRuntimeFor(vendors: VendorSet): Runtime<ActivityDeps> {
  return {
    compose: (platform, env) => async () =>
      activityDeps(platform, clientsOf(vendors, platform, await loadCredentials(env))),
    accounting: (deps) => deps,
  };
}
