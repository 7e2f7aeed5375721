import { type CyclePlan, planActivityCycle } from '../../shared/activities/plan-activity-cycle.js';
import type { SalesforceApi, SalesforceLimitInfo } from '../../shared/ports/salesforce-api.js';
import { activityDeps, marketoGovernor, vendorClients } from '../../shared/runtime/activity-runtime.js';
import type { LocalEnvironment } from '../embedded/local-environment.js';
import { formatTable } from '../print.js';
import type { CommandResult } from './command-result.js';

type WithLimits = SalesforceApi & { limits(): Promise<SalesforceLimitInfo> };
const hasLimits = (sf: SalesforceApi): sf is WithLimits =>
  typeof (sf as Partial<WithLimits>).limits === 'function';

/**
 * `sync plan`: what the next activity cycle would read and spend, per stream and window. Reads
 * Marketo (types, one page per window), the cursors and Salesforce /limits; writes no sync state
 * (the Marketo call governor counts the plan's own calls, as it counts every call).
 */
export async function runPlanCommand(local: LocalEnvironment): Promise<CommandResult> {
  const { platform } = local;
  const clients = vendorClients(platform, local.credentials, marketoGovernor(platform));
  const deps = activityDeps(platform, clients);
  const sf = clients.salesforce;
  const plan = await planActivityCycle(deps, hasLimits(sf) ? () => sf.limits() : undefined);
  return { exitCode: 0, lines: planLines(plan), summary: { command: 'plan', ...plan } };
}

export function planLines(plan: CyclePlan): string[] {
  const label = (s: CyclePlan['streams'][number]) =>
    s.types.length > 2 ? `${s.types.length} types (ids ${s.streamKey})` : s.types.join(', ');
  const rows = plan.streams.flatMap((s): (string | number)[][] =>
    s.status === 'busy'
      ? [[label(s), 'busy: an earlier run continues it', 0, '']]
      : s.windows.map((w, i) => [
          i === 0 ? label(s) : '',
          `${w.from.slice(0, 16)} → ${w.until.slice(0, 16)}${i === 0 ? ` (${s.origin})` : ''}`,
          w.activities,
          w.exact ? 'counted' : 'estimated',
        ]),
  );
  const sf = plan.quota.salesforce;
  return [
    ...formatTable(['types', 'window (UTC)', 'activities', 'how'], rows),
    '',
    `activities  ${plan.activities}`,
    `Marketo     ${plan.calls.marketo} calls, ${plan.quota.marketo.sharePercent} % of ${plan.quota.marketo.daily} a day`,
    `Salesforce  ${plan.calls.salesforce} calls${sf ? `, ${sf.sharePercent} % of ${sf.limit} a day (${sf.used} used)` : ''}`,
    `estimate    cost ${plan.estimateCost.marketo} Marketo + ${plan.estimateCost.salesforce} Salesforce calls: ${plan.method}`,
    ...(plan.typesMissing.length ? [`missing     ${plan.typesMissing.join(', ')} (optional; skipped)`] : []),
  ];
}
