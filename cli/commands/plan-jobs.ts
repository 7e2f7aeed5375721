import { planCampaigns } from '../../shared/campaigns/plan-campaigns.js';
import { quotaShare } from '../../shared/domain/cycle-estimate.js';
import { newRunId } from '../../shared/domain/run-report.js';
import { marketoGovernor } from '../../shared/runtime/activity-runtime.js';
import { campaignRuntime } from '../../shared/runtime/campaign-runtime.js';
import { salesActivityRuntime } from '../../shared/runtime/sales-activity-runtime.js';
import { planSalesActivity } from '../../shared/salesactivity/plan-sales-activity.js';
import type { LocalEnvironment } from '../embedded/local-environment.js';
import type { CommandResult } from './command-result.js';

/**
 * `plan tasks|campaigns`: dry run of job 4's next run — its window, what it would read and write,
 * and the calls per vendor with their share of the Marketo daily quota. Writes no sync state (the
 * Marketo call governor counts the plan's own calls, as it counts every call).
 */
export async function runPlanJobCommand(
  local: LocalEnvironment,
  job: 'tasks' | 'campaigns',
): Promise<CommandResult> {
  const { platform } = local;
  const daily = platform.settings.marketo.dailyQuota;
  if (job === 'tasks') {
    const runtime = salesActivityRuntime(platform, local.credentials, newRunId(), marketoGovernor(platform));
    const plan = await planSalesActivity(runtime.deps);
    const estimateCost = runtime.calls();
    const r = plan.records;
    return {
      exitCode: 0,
      lines: [
        `Plan tasks ${plan.window.since} → ${plan.window.until} (${plan.window.origin})`,
        `  read        ${r.tasks} closed Tasks, ${r.events} ended Events (${r.ownTasks} our own, never sent)`,
        `  to send     ${r.toSend} (${r.alreadySent} already sent); people: ${plan.people.leads} Leads, ${plan.people.contacts} Contacts`,
        `  type        ${{ ready: 'approved', setUp: 'to be set up and approved', notNeeded: 'not needed (nothing to send)' }[plan.activityType]}`,
        `  Marketo     ${plan.calls.marketo} calls, ${quotaShare(plan.calls.marketo, daily)} % of ${daily} a day`,
        `  Salesforce  ${plan.calls.salesforce} calls`,
        `  estimate    cost ${estimateCost.marketo} Marketo + ${estimateCost.salesforce} Salesforce calls: ${plan.method}`,
      ],
      summary: { command: 'plan', ...plan, estimateCost },
    };
  }
  const runtime = campaignRuntime(platform, local.credentials, marketoGovernor(platform));
  const plan = await planCampaigns(runtime.deps);
  const estimateCost = runtime.calls();
  return {
    exitCode: 0,
    lines: [
      `Plan campaigns ${plan.window.since} → ${plan.window.until} (${plan.window.origin})`,
      `  read        ${plan.emailActivities} email activities (${plan.exact ? 'counted' : 'estimated'})`,
      `  write       about ${plan.memberships} members of ${plan.people} people; ${plan.programs} programs, ${plan.campaignsToCreate} Campaigns to create`,
      `  Marketo     ${plan.calls.marketo} calls, ${quotaShare(plan.calls.marketo, daily)} % of ${daily} a day`,
      `  Salesforce  ${plan.calls.salesforce} calls`,
      `  estimate    cost ${estimateCost.marketo} Marketo + ${estimateCost.salesforce} Salesforce calls: ${plan.method}`,
    ],
    summary: { command: 'plan', ...plan, estimateCost },
  };
}
