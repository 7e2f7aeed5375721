import type { CallGovernor } from '../../shared/adapters/marketo/call-governor.js';
import { type CampaignSyncReport, syncCampaigns } from '../../shared/campaigns/sync-campaigns.js';
import { campaignRuntime } from '../../shared/runtime/campaign-runtime.js';
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
  options: { governor?: CallGovernor } = {},
): Promise<CampaignsSummary> {
  const started = Date.now();
  const runtime = campaignRuntime(local.platform, local.credentials, options.governor);
  const report = await syncCampaigns(runtime.deps);
  return {
    command: 'campaigns',
    ...report,
    written: report.membersWritten,
    calls: runtime.calls(),
    durationMs: Date.now() - started,
  };
}
