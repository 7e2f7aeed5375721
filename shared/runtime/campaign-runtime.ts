import { DynamoDbCampaignStateStore } from '../adapters/dynamodb/campaign-state-store.js';
import type { CallGovernor } from '../adapters/marketo/call-governor.js';
import { MarketoEmailActivityReader } from '../adapters/marketo/email-activity-reader.js';
import { SalesforceCampaignWriter } from '../adapters/salesforce/campaign-writer.js';
import {
  type CampaignSyncDeps,
  type CampaignSyncReport,
  syncCampaigns,
} from '../campaigns/sync-campaigns.js';
import { CAMPAIGNS_CONTINUATION_JOB } from '../config/job-schedule.js';
import type { CampaignReadBack } from '../ports/campaign-writer.js';
import type { Platform } from './activity-runtime.js';
import { vendorClients } from './activity-runtime.js';
import type { GrantedCredentials } from './credentials.js';
import { jobOrContinuation } from './job-continuation.js';
import { flatCounts, recordedRun } from './job-run.js';

/** Job 4b's dependencies from the platform and both vendors' credentials. */
export function campaignRuntime(
  platform: Platform,
  credentials: GrantedCredentials,
  governor?: CallGovernor,
): {
  deps: CampaignSyncDeps;
  /** The same Salesforce writer, for verification's read-back. */
  readBack: CampaignReadBack;
  calls(): { marketo: number; salesforce: number };
} {
  const { marketo, salesforce } = vendorClients(platform, credentials, governor);
  const settings = platform.settings.campaigns;
  const writer = new SalesforceCampaignWriter(salesforce, {
    optOutField: platform.settings.optOuts.salesforceField,
    lastFiveField: settings.lastFiveField ?? undefined,
  });
  return {
    readBack: writer,
    deps: {
      source: new MarketoEmailActivityReader(marketo),
      writer,
      store: new DynamoDbCampaignStateStore(platform.doc, platform.tables.campaigns),
      budgetMs: settings.runBudgetSeconds * 1000,
      settings: {
        lookbackDays: settings.lookbackDays,
        overlapMinutes: settings.overlapMinutes,
        programFilter: settings.programFilter,
        programs: settings.programs,
        lastFiveField: settings.lastFiveField !== null,
      },
    },
    calls: () => ({ marketo: marketo.callCounts().total, salesforce: salesforce.callCounts().total }),
  };
}

export interface CampaignRun {
  report: CampaignSyncReport;
  calls: { marketo: number; salesforce: number };
}

/**
 * One job-4b run as the CLI (`campaigns`) and the scheduled function both run it: the run
 * recorded in the runs table (kind `campaigns`), JobCompleted emitted.
 */
export async function runCampaignJob(
  platform: Platform,
  credentials: GrantedCredentials,
  runId: string,
  options: { governor?: CallGovernor; wrapDeps?: (deps: CampaignSyncDeps) => CampaignSyncDeps } = {},
): Promise<CampaignRun> {
  return recordedRun(platform, 'campaigns', runId, async () => {
    const runtime = campaignRuntime(platform, credentials, options.governor);
    const report = await syncCampaigns(options.wrapDeps ? options.wrapDeps(runtime.deps) : runtime.deps);
    const calls = runtime.calls();
    return {
      report: { report, calls },
      complete: report.complete,
      counts: {
        read: report.read,
        written: report.membersWritten,
        campaignsCreated: report.campaignsCreated,
        memberStatusesAdded: report.memberStatusesAdded,
        convertedReplaced: report.convertedReplaced,
        lastFiveWritten: report.lastFiveWritten,
        ...flatCounts('status', report.membersByStatus),
        ...flatCounts('skipped', report.skipped),
        failed: report.failed,
        complete: report.complete ? 1 : 0,
        'calls.marketo': calls.marketo,
        'calls.salesforce': calls.salesforce,
      },
    };
  });
}

/**
 * The `sync-campaigns` function's job: its schedule's run (job `campaigns`, or none when invoked by
 * hand), or a continuation tick (job `campaigns-continue`, every 15 minutes) that runs the job only
 * when the last run left a back-fill open; either leaves a job held by a running invocation alone
 * (job-continuation.ts). Anything else is refused.
 */
export const campaignJob = jobOrContinuation({
  service: 'sync-campaigns',
  job: 'campaigns',
  continuationJob: CAMPAIGNS_CONTINUATION_JOB,
  budgetSeconds: (settings) => settings.campaigns.runBudgetSeconds,
  runJob: runCampaignJob,
});
