import type { Logger } from '@aws-lambda-powertools/logger';
import type { RunReportStore } from '../ports/run-report-store.js';

/** What call accounting reads (the clients' counters) and writes (the run report); ActivityDeps is one. */
export interface CallAccountingDeps {
  marketo: { callCounts(): { total: number } };
  salesforce: { callCounts(): { total: number } };
  runs: Pick<RunReportStore, 'add'>;
  logger: Pick<Logger, 'warn'>;
}

/**
 * Runs `work` and adds the vendor API calls it made to the activity run report `runId` (none:
 * not counted). A Lambda instance runs one invocation at a time, so the clients' counter deltas
 * are exact. Counted whether the work succeeds or fails; a report that cannot be updated only logs.
 */
export async function withCallsCounted<T>(
  deps: CallAccountingDeps,
  runId: string | undefined,
  work: () => Promise<T>,
): Promise<T> {
  const m = deps.marketo.callCounts().total;
  const s = deps.salesforce.callCounts().total;
  try {
    return await work();
  } finally {
    if (runId) {
      await deps.runs
        .add('activities', runId, {
          'calls.marketo': deps.marketo.callCounts().total - m,
          'calls.salesforce': deps.salesforce.callCounts().total - s,
        })
        .catch((cause: unknown) =>
          deps.logger.warn('Could not add API call counts to the run report', { cause }),
        );
    }
  }
}

/** The run of a batch: that of its first record (messages of one batch almost always share a run). */
export function runIdOfBatch(records: readonly { body: string }[] | undefined): string | undefined {
  const body = records?.[0]?.body;
  if (!body) return undefined;
  try {
    const runId = (JSON.parse(body) as { runId?: unknown }).runId;
    return typeof runId === 'string' ? runId : undefined;
  } catch {
    return undefined;
  }
}
