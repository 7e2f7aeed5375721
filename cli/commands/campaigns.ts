import type { CallGovernor } from '../../shared/adapters/marketo/call-governor.js';
import type { CampaignSyncDeps, CampaignSyncReport } from '../../shared/campaigns/sync-campaigns.js';
import { newRunId } from '../../shared/domain/run-report.js';
import { runCampaignJob } from '../../shared/runtime/campaign-runtime.js';
import type { LocalEnvironment } from '../embedded/local-environment.js';

export interface CampaignsSummary extends CampaignSyncReport {
  command: 'campaigns';
  /** CampaignMembers written (SPEC: counts read / written / skipped by reason / failed). */
  written: number;
  calls: { marketo: number; salesforce: number };
  durationMs: number;
}

/** `campaigns`: one job-4b cycle (Marketo email programs → Salesforce Campaigns and member status). */
export async function runCampaignsCommand(
  local: LocalEnvironment,
  options: { governor?: CallGovernor; wrapDeps?: (deps: CampaignSyncDeps) => CampaignSyncDeps } = {},
): Promise<CampaignsSummary> {
  const started = Date.now();
  const { report, calls } = await runCampaignJob(local.platform, local.credentials, newRunId(), options);
  return {
    command: 'campaigns',
    ...report,
    written: report.membersWritten,
    calls,
    durationMs: Date.now() - started,
  };
}
