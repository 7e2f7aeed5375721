import type { Logger } from '@aws-lambda-powertools/logger';
import type { Settings } from '../config/settings.js';
import type { CursorStore } from '../ports/cursor-store.js';
import type { LeadCacheStore } from '../ports/lead-cache-store.js';
import type { LeadTaskIndex } from '../ports/lead-task-index.js';
import type { LedgerStore } from '../ports/ledger-store.js';
import type { MarketoApi } from '../ports/marketo-api.js';
import type { MessageSender } from '../ports/message-sender.js';
import type { PendingActivityStore } from '../ports/pending-activity-store.js';
import type { RunReportStore } from '../ports/run-report-store.js';
import type { SalesforceApi } from '../ports/salesforce-api.js';
import type { StagedTaskStore } from '../ports/staged-task-store.js';

/** Everything the activity pipeline talks to, injected (Lambda builds it from env, the CLI locally). */
export interface ActivityDeps {
  settings: Settings;
  logger: Logger;
  cursors: CursorStore;
  runs: RunReportStore;
  ledger: LedgerStore;
  leadCache: LeadCacheStore;
  /** Tasks waiting for a Bulk API 2.0 job (externalId mode, large cycles). */
  staging: StagedTaskStore;
  /** Activities whose lead has no Salesforce record yet, revisited each run inside their look-back. */
  pending: PendingActivityStore;
  /** Our Tasks per Marketo lead, for types with onLeadDeleted = deleteTask. */
  leadTasks: LeadTaskIndex;
  sender: MessageSender;
  /** Only the queues this function sends to are present (least privilege); see requireQueueUrl. */
  queueUrls: Partial<Record<'fetch' | 'write' | 'flush', string>>;
  marketo: MarketoApi;
  salesforce: SalesforceApi;
  now?: () => Date;
  /**
   * How long a ledger-mode claim holds (default CLAIM_LEASE_MS, the write function's timeout): a
   * crashed attempt's claims expire after it. Shorter only where attempts are bounded otherwise.
   */
  claimLeaseMs?: number;
}

/** The URL of a queue this step must send to; a clear error naming the variable when it is missing. */
export function requireQueueUrl(
  deps: Pick<ActivityDeps, 'queueUrls'>,
  key: 'fetch' | 'write' | 'flush',
): string {
  const url = deps.queueUrls[key];
  if (!url)
    throw new Error(
      `Environment variable ${key.toUpperCase()}_QUEUE_URL is not set: this step sends to the ${key} queue.`,
    );
  return url;
}
