import type { Logger } from '@aws-lambda-powertools/logger';
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

/** Everything the unsubscribe sync talks to, injected (built by shared/runtime/opt-out-runtime.ts). */
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

export function policyOf(deps: Pick<OptOutDeps, 'settings'>): OptOutPolicy {
  return policyFromSettings(deps.settings.optOuts);
}

export const nowOf = (deps: Pick<OptOutDeps, 'now'>): Date => deps.now?.() ?? new Date();

/** Calls made so far by each vendor client (a chunk's share is the difference around it). */
export async function vendorCallTotals(deps: OptOutDeps): Promise<{ marketo: number; salesforce: number }> {
  const [mk, sf] = await Promise.all([deps.marketo(), deps.salesforce()]);
  return { marketo: mk.callCounts().total, salesforce: sf.callCounts().total };
}
