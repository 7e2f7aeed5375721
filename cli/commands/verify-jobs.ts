import { type CampaignVerifyReport, verifyCampaigns } from '../../shared/campaigns/verify-campaigns.js';
import { newRunId } from '../../shared/domain/run-report.js';
import { campaignRuntime } from '../../shared/runtime/campaign-runtime.js';
import { salesActivityRuntime } from '../../shared/runtime/sales-activity-runtime.js';
import {
  type SalesActivityVerifyReport,
  verifySalesActivity,
} from '../../shared/salesactivity/verify-sales-activity.js';
import type { LocalEnvironment } from '../embedded/local-environment.js';
import type { CommandResult } from './command-result.js';
import { parseSince } from './since.js';

/** Ids printed per category in the human output (the --json line carries up to 1,000). */
const SHOWN = 20;
const n = (v: number) => v.toLocaleString('en-US');
const UNTIL_FROM = { option: 'given', watermark: 'the last completed run', now: 'now: no completed run yet' };

/**
 * `verify tasks|campaigns [--since T]`: job 4's read-only reconciliation. Exit 0 when clean, 1 on
 * any discrepancy. Window: --since (default: the job's look-back) up to the job's watermark.
 */
export async function runVerifyJobCommand(
  local: LocalEnvironment,
  job: 'tasks' | 'campaigns',
  options: { since?: string | undefined; now?: Date } = {},
): Promise<CommandResult> {
  const now = options.now ?? new Date();
  const since = options.since === undefined ? undefined : parseSince(options.since, now);
  if (job === 'tasks') {
    const runtime = salesActivityRuntime(local.platform, local.credentials, newRunId());
    const report = await verifySalesActivity(runtime.deps, since ? { since } : {});
    const calls = runtime.calls();
    return {
      exitCode: report.clean ? 0 : 1,
      lines: salesActivityVerifyLines(report, calls),
      summary: { command: 'verify', ...report, calls },
    };
  }
  const runtime = campaignRuntime(local.platform, local.credentials);
  const report = await verifyCampaigns(
    { ...runtime.deps, readBack: runtime.readBack },
    since ? { since } : {},
  );
  const calls = runtime.calls();
  return {
    exitCode: report.clean ? 0 : 1,
    lines: campaignVerifyLines(report, calls),
    summary: { command: 'verify', ...report, calls },
  };
}

export function salesActivityVerifyLines(
  r: SalesActivityVerifyReport,
  calls: { marketo: number; salesforce: number },
): string[] {
  const c = r.counts;
  const lines = [
    `Verify tasks ${r.window.since} → ${r.window.until} (until ${UNTIL_FROM[r.window.untilFrom]})`,
    `  read             ${n(c.read)} closed Tasks / ended Events of the enabled kinds, ${n(c.eligible)} with a Marketo lead`,
    `  exactly one      ${n(c.exactlyOne)} (custom activity read back by its primary attribute, the Salesforce Id)`,
    `  pending          ${n(c.pendingUnlinked)} whose person has no Marketo lead yet; ${n(c.noPerson)} with no person`,
    `  missing          ${n(c.missing)}`,
    `  duplicates       ${n(c.duplicates)}`,
    `  wrong lead       ${n(c.wrongLead)}`,
    `  API calls        Marketo ${calls.marketo}, Salesforce ${calls.salesforce}; ${(r.durationMs / 1000).toFixed(1)} s`,
    r.clean
      ? 'Clean: every eligible Task/Event has exactly one Marketo activity on its lead.'
      : 'DISCREPANCIES FOUND:',
  ];
  section(lines, 'missing', r.missing, c.missing, (m) => `${m.recordId}  ${m.kind}  lead ${m.leadId}`);
  section(
    lines,
    'duplicates',
    r.duplicates,
    c.duplicates,
    (d) => `${d.recordId}  activities ${d.marketoGUIDs.join(', ')}`,
  );
  section(
    lines,
    'wrong lead',
    r.wrongLead,
    c.wrongLead,
    (w) => `${w.recordId}  ${w.marketoGUID} on lead ${w.leadId}, expected ${w.expected}`,
  );
  return lines;
}

export function campaignVerifyLines(
  r: CampaignVerifyReport,
  calls: { marketo: number; salesforce: number },
): string[] {
  const c = r.counts;
  const lines = [
    `Verify campaigns ${r.window.since} → ${r.window.until} (until ${UNTIL_FROM[r.window.untilFrom]})`,
    `  read             ${n(c.emailActivities)} email activities, ${n(c.people)} people, ${n(c.members)} memberships`,
    `  exact            ${n(c.exact)} members at the furthest step of their activities`,
    `  excluded         ${n(c.optedOutBeforeFirstSend)} opted out before the program's first send (never members)`,
    `  no Campaign      ${n(c.campaignMissing)}`,
    `  missing member   ${n(c.missingMember)}`,
    `  wrong status     ${n(c.wrongStatus)}`,
    `  last five        ${n(c.lastFiveChecked)} checked, ${n(c.lastFiveWrong)} wrong`,
    `  API calls        Marketo ${calls.marketo}, Salesforce ${calls.salesforce}; ${(r.durationMs / 1000).toFixed(1)} s`,
    r.clean
      ? 'Clean: every member is at the furthest step of their activities and every last-five field is exact.'
      : 'DISCREPANCIES FOUND:',
  ];
  section(lines, 'no Campaign', r.campaignsMissing, c.campaignMissing, (p) => p);
  section(
    lines,
    'member status',
    r.wrongStatus,
    c.missingMember + c.wrongStatus,
    (w) => `${w.personKey}  ${w.campaign}: ${w.found ?? 'no member'}, expected ${w.expected}`,
  );
  section(
    lines,
    'last five',
    r.lastFiveWrong,
    c.lastFiveWrong,
    (w) => `${w.personKey}: ${JSON.stringify(w.found)}, expected ${JSON.stringify(w.expected)}`,
  );
  return lines;
}

function section<T>(lines: string[], title: string, items: T[], total: number, show: (item: T) => string) {
  if (total === 0) return;
  lines.push(`  ${title} (${total}${total > SHOWN ? `, first ${SHOWN}; all ids in --json` : ''}):`);
  for (const item of items.slice(0, SHOWN)) lines.push(`    ${show(item)}`);
}
