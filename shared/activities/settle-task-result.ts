import { enabledSettingFor } from '../domain/activity-streams.js';
import type { SalesforceRecordError } from '../domain/salesforce-records.js';
import { isTransientRecordError } from '../domain/task-policy.js';
import type { SalesforceSaveResult } from '../ports/salesforce-api.js';
import type { ActivityDeps } from './activity-deps.js';

/** What the ledger needs to know about one activity's Task. */
export interface TaskRef {
  marketoGUID: string;
  runId: string;
  whoId: string;
  leadId: number;
  activityTypeName: string;
  activityDate: string;
  /** Why the Task goes to `whoId` (kept in the ledger; `sync explain` prints it). */
  how?: string;
  /**
   * false: a Task upserted by External ID that no later cycle re-reads (see WriteMessage.ledgerFrom):
   * no done entry is written; Salesforce's `created` flag counts it. Absent: recorded.
   */
  recordDone?: boolean;
}

export type Settlement =
  /** The Task exists and this call moved the ledger entry to done (counted written once). */
  | { kind: 'written'; created: boolean }
  /** Another attempt already recorded it done. */
  | { kind: 'alreadyWritten' }
  /** Salesforce refused it for good; recorded with the reason (counted failed once). */
  | { kind: 'failed'; reason: string }
  | { kind: 'alreadyFailed' }
  /** Refused for now (lock, limits): try again; nothing recorded. */
  | { kind: 'retry'; codes: string[] };

/**
 * Records one Task result in the ledger: done with the Task Id, failed with the reason, or
 * nothing (retry) when the refusal is transient. `transient` widens what counts as transient
 * (the Bulk flush also retries rows a job did not process).
 */
export async function settleTaskResult(
  deps: Pick<ActivityDeps, 'ledger' | 'logger'> & Partial<Pick<ActivityDeps, 'leadTasks' | 'settings'>>,
  ref: TaskRef,
  result: SalesforceSaveResult | undefined,
  transient: (e: SalesforceRecordError) => boolean = isTransientRecordError,
): Promise<Settlement> {
  if (result?.success && result.id) {
    // Types whose Tasks go when their Marketo lead is deleted: remember the Task by lead.
    // (The setting first: the index's table is bound only where deleteTask is used.)
    const byLead =
      deps.settings && enabledSettingFor(deps.settings, ref.activityTypeName)?.onLeadDeleted === 'deleteTask'
        ? deps.leadTasks
        : undefined;
    if (byLead) await byLead.add([{ leadId: ref.leadId, marketoGUID: ref.marketoGUID, taskId: result.id }]);
    // The upsert by External ID is the idempotence: Salesforce says whether this call created it
    // (a create whose response was lost counts as already written on its retry).
    if (ref.recordDone === false)
      return result.created === true ? { kind: 'written', created: true } : { kind: 'alreadyWritten' };
    return (await deps.ledger.markDone({ ...ref, taskId: result.id }))
      ? { kind: 'written', created: result.created === true }
      : { kind: 'alreadyWritten' };
  }
  const errors = result?.errors.length
    ? result.errors
    : [{ statusCode: 'NO_RESULT', message: 'no result returned for this record' }];
  if (errors.some(transient)) return { kind: 'retry', codes: errors.map((e) => e.statusCode) };
  const reason = errors.map((e) => `${e.statusCode}: ${e.message}`).join('; ');
  deps.logger.warn('Task refused by Salesforce; recorded, not retried', {
    marketoGUID: ref.marketoGUID,
    reason,
  });
  return (await deps.ledger.markFailed({ ...ref, reason }))
    ? { kind: 'failed', reason }
    : { kind: 'alreadyFailed' };
}
