import { DynamoDbSalesActivityStore } from '../adapters/dynamodb/sales-activity-store.js';
import type { CallGovernor } from '../adapters/marketo/call-governor.js';
import { MarketoCustomActivityEndpoints } from '../adapters/marketo/custom-activity-endpoints.js';
import { MarketoClient } from '../adapters/marketo/marketo-client.js';
import { SalesforceSalesActivityReader } from '../adapters/salesforce/sales-activity-reader.js';
import { SalesforceClient } from '../adapters/salesforce/salesforce-client.js';
import { SALES_ACTIVITY_CONTINUATION_JOB } from '../config/job-schedule.js';
import {
  type SalesActivityDeps,
  type SalesActivityReport,
  syncSalesActivity,
} from '../salesactivity/sync-sales-activity.js';
import type { Platform } from './activity-runtime.js';
import { marketoGovernor } from './activity-runtime.js';
import { type GrantedCredentials, grantedVendor } from './credentials.js';
import { jobOrContinuation } from './job-continuation.js';
import { flatCounts, recordedRun } from './job-run.js';

export interface SalesActivityRuntime {
  deps: SalesActivityDeps;
  /** Vendor calls made so far (for the run summary). */
  calls(): { marketo: number; salesforce: number };
}

/** Job 4a's dependencies from the platform and both vendors' credentials (the job needs both). */
export function salesActivityRuntime(
  platform: Platform,
  credentials: GrantedCredentials,
  runId: string,
  governor?: CallGovernor,
): SalesActivityRuntime {
  const m = grantedVendor('marketo', credentials);
  const s = grantedVendor('salesforce', credentials);
  if (!m || !s)
    throw new Error(
      'The sales-activity job needs both the Marketo and the Salesforce credentials; grant both secrets to its function.',
    );
  const marketo = new MarketoClient({
    baseUrl: m.MARKETO_BASE_URL,
    clientId: m.MARKETO_CLIENT_ID,
    clientSecret: m.MARKETO_CLIENT_SECRET,
    governor: governor ?? marketoGovernor(platform),
    logger: platform.logger,
  });
  const salesforce = new SalesforceClient({
    loginUrl: s.SALESFORCE_LOGIN_URL,
    clientId: s.SALESFORCE_CLIENT_ID,
    clientSecret: s.SALESFORCE_CLIENT_SECRET,
    apiVersion: platform.settings.salesforce.apiVersion,
  });
  return {
    deps: {
      source: new SalesforceSalesActivityReader(
        salesforce,
        platform.settings.salesforce.taskExternalIdField,
        () => salesforce.instanceUrl,
      ),
      marketo: new MarketoCustomActivityEndpoints(marketo),
      store: new DynamoDbSalesActivityStore(platform.doc, platform.tables.salesActivity),
      settings: platform.settings.salesActivities,
      runId,
      budgetMs: platform.settings.salesActivities.runBudgetSeconds * 1000,
    },
    calls: () => ({ marketo: marketo.callCounts().total, salesforce: salesforce.callCounts().total }),
  };
}

export interface SalesActivityRun {
  report: SalesActivityReport;
  calls: { marketo: number; salesforce: number };
}

/**
 * One job-4a run as the CLI (`tasks`) and the scheduled function both run it: the job's
 * dependencies composed here, the run recorded in the runs table (kind `tasks`), JobCompleted emitted.
 */
export async function runSalesActivityJob(
  platform: Platform,
  credentials: GrantedCredentials,
  runId: string,
  options: { governor?: CallGovernor; wrapDeps?: (deps: SalesActivityDeps) => SalesActivityDeps } = {},
): Promise<SalesActivityRun> {
  return recordedRun(platform, 'tasks', runId, async () => {
    const runtime = salesActivityRuntime(platform, credentials, runId, options.governor);
    const report = await syncSalesActivity(options.wrapDeps ? options.wrapDeps(runtime.deps) : runtime.deps);
    const calls = runtime.calls();
    return {
      report: { report, calls },
      complete: report.complete,
      counts: {
        read: report.read,
        written: report.added,
        recoveredByReadBack: report.recoveredByReadBack,
        complete: report.complete ? 1 : 0,
        remaining: report.remaining,
        ...flatCounts('skipped', report.skipped),
        ...flatCounts('pending', report.pending),
        ...flatCounts('failed', report.failed),
        'calls.marketo': calls.marketo,
        'calls.salesforce': calls.salesforce,
      },
    };
  });
}

/**
 * The `sync-sales-activity` function's job: its schedule's run (job `tasks`, or none when invoked by
 * hand), or a continuation tick (job `tasks-continue`, every 15 minutes) that runs the job only when
 * the last run left a back-fill open; either leaves a job held by a running invocation alone
 * (job-continuation.ts). Anything else is refused.
 */
export const salesActivityJob = jobOrContinuation({
  service: 'sync-sales-activity',
  job: 'tasks',
  continuationJob: SALES_ACTIVITY_CONTINUATION_JOB,
  budgetSeconds: (settings) => settings.salesActivities.runBudgetSeconds,
  runJob: runSalesActivityJob,
});
