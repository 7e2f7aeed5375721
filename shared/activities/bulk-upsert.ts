import type { StagedRow } from '../domain/staged-row.js';
import type { SalesforceSaveResult } from '../ports/salesforce-api.js';
import {
  SalesforceApiError,
  SalesforceApiLimitError,
  SalesforceAuthError,
  SalesforceBulkJobError,
} from '../ports/salesforce-errors.js';
import type { FlushDeps } from './flush-deps.js';

/** Upserts staged rows in one Bulk API 2.0 job (or resumes `resumeJobId`), recording the job id before the upload. */
export async function bulkUpsert(
  deps: FlushDeps,
  owner: string,
  rows: StagedRow[],
  resumeJobId: string | undefined,
  created: (jobId: string) => void,
): Promise<SalesforceSaveResult[]> {
  if (!deps.salesforce.bulkUpsert) throw new Error('This Salesforce client has no Bulk API 2.0 support');
  return deps.salesforce.bulkUpsert(
    'Task',
    deps.settings.salesforce.taskExternalIdField,
    rows.map((r) => r.task),
    {
      ...(resumeJobId ? { resumeJobId } : {}),
      onJobCreated: async (jobId) => {
        await deps.staging.recordJob(owner, jobId);
        created(jobId);
      },
    },
  );
}

/** Errors that mean "this org will not run the Bulk job" (not a budget, login or timeout problem). */
export function bulkUnavailable(error: unknown): boolean {
  return (
    error instanceof SalesforceApiError &&
    !(error instanceof SalesforceApiLimitError) &&
    !(error instanceof SalesforceAuthError) &&
    !(error instanceof SalesforceBulkJobError)
  );
}
