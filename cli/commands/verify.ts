import { type VerifyReport, verifyTasks } from '../../shared/activities/verify-tasks.js';
import { activityDeps, vendorClients } from '../../shared/runtime/activity-runtime.js';
import type { LocalEnvironment } from '../embedded/local-environment.js';
import type { CommandResult } from './command-result.js';
import { parseSince } from './since.js';

/** Ids printed per category in the human output (the --json line carries up to 1,000). */
const SHOWN = 20;

/**
 * `verify [--since T]`: read-only reconciliation of Marketo activities, the ledger and Salesforce
 * Tasks. Exit 0 when clean, 1 on any discrepancy (2 for usage errors, from main).
 */
export async function runVerifyCommand(
  local: LocalEnvironment,
  options: { since?: string | undefined; now?: Date } = {},
): Promise<CommandResult> {
  const now = options.now ?? new Date();
  const since = options.since === undefined ? undefined : parseSince(options.since, now);
  const clients = vendorClients(local.platform, local.credentials);
  const deps = activityDeps(local.platform, clients);
  const report = await verifyTasks(deps, since ? { since } : {});
  const calls = {
    marketo: clients.marketo.callCounts().total,
    salesforce: clients.salesforce.callCounts().total,
  };
  return {
    exitCode: report.clean ? 0 : 1,
    lines: formatVerifyReport(report, calls),
    summary: { command: 'verify', ...report, calls },
  };
}

export function formatVerifyReport(
  r: VerifyReport,
  calls: { marketo: number; salesforce: number },
): string[] {
  const c = r.counts;
  const n = (v: number) => v.toLocaleString('en-US');
  const untilFrom = {
    option: 'given',
    watermark: 'the last completed cycle',
    now: 'now: no completed cycle yet',
  }[r.window.untilFrom];
  const skipped = Object.entries(c.skipped)
    .map(([k, v]) => `${k} ${n(v ?? 0)}`)
    .join(', ');
  const lines = [
    `Verify ${r.window.since} → ${r.window.until} (until ${untilFrom}), upsert mode ${r.upsertMode}`,
    `  activities       ${n(c.activities)} of the enabled types, ${n(c.eligible)} due a Task${skipped ? `; not due: ${skipped}` : ''}`,
    `  found            ${n(c.tasks)} Tasks with a Marketo activity id, ${n(c.ledgerEntries)} ledger entries`,
    `  pending          ${n(c.pending)} waiting for their person to reach Salesforce`,
    `  missing          ${n(c.missing)}`,
    `  duplicates       ${n(c.duplicates)}`,
    `  orphan Tasks     ${n(c.orphanTasks)}`,
    `  orphan ledger    ${n(c.orphanLedgerEntries)}`,
    `  wrong WhoId      ${n(c.wrongWhoId)}`,
    `  API calls        Marketo ${calls.marketo}, Salesforce ${calls.salesforce}; ${(r.durationMs / 1000).toFixed(1)} s`,
    r.clean
      ? 'Clean: every eligible activity has exactly one Task on the right record.'
      : 'DISCREPANCIES FOUND:',
  ];
  const section = <T>(title: string, items: T[], total: number, show: (item: T) => string) => {
    if (total === 0) return;
    lines.push(`  ${title} (${total}${total > SHOWN ? `, first ${SHOWN}; all ids in --json` : ''}):`);
    for (const item of items.slice(0, SHOWN)) lines.push(`    ${show(item)}`);
  };
  section(
    'missing',
    r.missing,
    c.missing,
    (m) => `${m.marketoGUID}  lead ${m.leadId}  ${m.activityDate}${m.ledger ? `  ledger ${m.ledger}` : ''}`,
  );
  section('duplicates', r.duplicates, c.duplicates, (d) => `${d.marketoGUID}  Tasks ${d.taskIds.join(', ')}`);
  section(
    'orphan Tasks',
    r.orphanTasks,
    c.orphanTasks,
    (o) => `Task ${o.taskId}  activity id ${o.marketoGUID}`,
  );
  section(
    'orphan ledger entries',
    r.orphanLedgerEntries,
    c.orphanLedgerEntries,
    (o) => `${o.marketoGUID}  Task ${o.taskId ?? '?'} does not exist`,
  );
  section(
    'wrong WhoId',
    r.wrongWhoId,
    c.wrongWhoId,
    (w) => `${w.marketoGUID}  Task ${w.taskId} on ${w.whoId ?? 'nobody'}, expected ${w.expected}`,
  );
  return lines;
}
