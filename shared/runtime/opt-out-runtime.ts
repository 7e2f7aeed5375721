import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbCursorStore } from '../adapters/dynamodb/cursor-store.js';
import { DynamoDbOptOutStore } from '../adapters/dynamodb/opt-out-store.js';
import { DynamoDbRunReportStore } from '../adapters/dynamodb/run-report-store.js';
import { QUEUES } from '../adapters/sqs/queue-definitions.js';
import { SqsMessageSender } from '../adapters/sqs/sqs-message-sender.js';
import type { Lazy, OptOutDeps } from '../optouts/opt-out-deps.js';
import type { MarketoApi } from '../ports/marketo-api.js';
import type { MessageSender } from '../ports/message-sender.js';
import type { SalesforceApi } from '../ports/salesforce-api.js';
import { vendorClients } from './activity-runtime.js';
import { type GrantedCredentials, loadCredentials } from './credentials.js';
import { MissingEnvironmentError } from './environment.js';
import type { Runtime } from './function-builder.js';
import { once } from './once.js';
import type { Platform } from './platform.js';

/** The inputs a caller (CLI context, Lambda cold start) has at hand. */
export interface OptOutDepsInput {
  settings: OptOutDeps['settings'];
  logger: OptOutDeps['logger'];
  doc: DynamoDBDocumentClient;
  tables: { optOuts: string; cursors: string; runs: string };
  sender: MessageSender;
  /** Only the webhook side sends to it; reading it when absent names the variable. */
  queueUrls: { unsubscribe?: string | undefined };
  marketo: Lazy<MarketoApi>;
  salesforce: Lazy<SalesforceApi>;
  now?: () => Date;
}

export function buildOptOutDeps(input: OptOutDepsInput): OptOutDeps {
  // Built on first use: the webhook consumer is bound to the opt-out table only (least privilege).
  const cursors = once(() => new DynamoDbCursorStore(input.doc, input.tables.cursors));
  const runs = once(() => new DynamoDbRunReportStore(input.doc, input.tables.runs));
  const unsubscribeQueueUrl = input.queueUrls.unsubscribe;
  return {
    settings: input.settings,
    logger: input.logger,
    store: new DynamoDbOptOutStore(input.doc, input.tables.optOuts, input.now ? { now: input.now } : {}),
    get cursors() {
      return cursors();
    },
    get runs() {
      return runs();
    },
    sender: input.sender,
    get unsubscribeQueueUrl() {
      if (!unsubscribeQueueUrl)
        throw new MissingEnvironmentError(QUEUES.unsubscribe.envVar, 'the unsubscribe queue URL');
      return unsubscribeQueueUrl;
    },
    // Promises, so a client whose secret is not readable yet is built again on the next call.
    marketo: once(async () => input.marketo()),
    salesforce: once(async () => input.salesforce()),
    ...(input.now ? { now: input.now } : {}),
  };
}

/** OptOutDeps over a platform; vendor clients built on first use from the given credentials. */
export function optOutDepsFromPlatform(
  platform: Platform,
  credentials: () => Promise<GrantedCredentials>,
): OptOutDeps {
  const vendors = once(async () => vendorClients(platform, await credentials()));
  return buildOptOutDeps({
    settings: platform.settings,
    logger: platform.logger,
    doc: platform.doc,
    tables: platform.tables,
    sender: new SqsMessageSender({ client: platform.sqs }),
    queueUrls: { unsubscribe: platform.queueUrls.unsubscribe },
    marketo: async () => (await vendors()).marketo,
    salesforce: async () => (await vendors()).salesforce,
  });
}

/**
 * The unsubscribe consumer and the nightly run: built at cold start; the vendor secrets are read
 * when a client is first used.
 */
export const optOutRuntime: Runtime<OptOutDeps> = {
  compose: (platform, env) => {
    const deps = optOutDepsFromPlatform(platform, () => loadCredentials(env));
    return async () => deps;
  },
};

/** The webhook's composition lives apart (no vendor client in its bundle); re-exported for existing importers. */
export { webhookDeps, webhookRuntime } from './webhook-runtime.js';
