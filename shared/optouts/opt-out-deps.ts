import type { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbCursorStore } from '../adapters/dynamodb/cursor-store.js';
import { DynamoDbOptOutStore } from '../adapters/dynamodb/opt-out-store.js';
import { DynamoDbRunReportStore } from '../adapters/dynamodb/run-report-store.js';
import type { Settings } from '../config/settings.js';
import { type OptOutPolicy, policyFromSettings } from '../domain/opt-out-policy.js';
import type { CursorStore } from '../ports/cursor-store.js';
import type { MarketoApi } from '../ports/marketo-api.js';
import type { MessageSender } from '../ports/message-sender.js';
import type { OptOutStore } from '../ports/opt-out-store.js';
import type { RunReportStore } from '../ports/run-report-store.js';
import type { SalesforceApi } from '../ports/salesforce-api.js';

/** Built on first use: the webhook never needs the vendor clients, the CLI builds them lazily. */
export type Lazy<T> = () => T | Promise<T>;

/** Everything the unsubscribe sync talks to, injected (Lambdas build it from env, the CLI locally). */
export interface OptOutDeps {
  settings: Pick<Settings, 'optOuts' | 'marketo'>;
  logger: Logger;
  store: OptOutStore;
  cursors: CursorStore;
  runs: RunReportStore;
  sender: MessageSender;
  unsubscribeQueueUrl: string;
  marketo: Lazy<MarketoApi>;
  salesforce: Lazy<SalesforceApi>;
  now?: () => Date;
}

/** The inputs a caller (CLI context, Lambda cold start) has at hand. */
export interface OptOutDepsInput {
  settings: Pick<Settings, 'optOuts' | 'marketo'>;
  logger: Logger;
  doc: DynamoDBDocumentClient;
  tables: { optOuts: string; cursors: string; runs: string };
  sender: MessageSender;
  queueUrls: { unsubscribe: string };
  marketo: Lazy<MarketoApi>;
  salesforce: Lazy<SalesforceApi>;
  now?: () => Date;
}

import { lazy } from '../runtime/lazy.js';

export function buildOptOutDeps(input: OptOutDepsInput): OptOutDeps {
  // Built on first use: the webhook consumer is bound to the opt-out table only (least privilege).
  const cursors = lazy(() => new DynamoDbCursorStore(input.doc, input.tables.cursors));
  const runs = lazy(() => new DynamoDbRunReportStore(input.doc, input.tables.runs));
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
    unsubscribeQueueUrl: input.queueUrls.unsubscribe,
    marketo: once(input.marketo),
    salesforce: once(input.salesforce),
    ...(input.now ? { now: input.now } : {}),
  };
}

export function policyOf(deps: Pick<OptOutDeps, 'settings'>): OptOutPolicy {
  return policyFromSettings(deps.settings.optOuts);
}

export const nowOf = (deps: Pick<OptOutDeps, 'now'>): Date => deps.now?.() ?? new Date();

function once<T>(make: Lazy<T>): Lazy<T> {
  let value: Promise<T> | undefined;
  return () => {
    value ??= Promise.resolve().then(make);
    value.catch(() => {
      value = undefined;
    });
    return value;
  };
}
