import {
  type CyclePlan,
  type PathReason,
  planActivityCycle,
} from '../../shared/activities/plan-activity-cycle.js';
import type { SalesforceApi, SalesforceLimitInfo } from '../../shared/ports/salesforce-api.js';
import { activityDeps, marketoGovernor, vendorClients } from '../../shared/runtime/activity-runtime.js';
import type { LocalEnvironment } from '../embedded/local-environment.js';
import { formatTable } from '../print.js';
import { WRITE_BATCH_SIZE, WRITE_CONCURRENCY } from './activities.js';
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
  const plan = await planActivityCycle(deps, {
    writeConsumer: { batchMessages: WRITE_BATCH_SIZE, concurrency: WRITE_CONCURRENCY },
    ...(hasLimits(sf) ? { salesforceLimits: () => sf.limits() } : {}),
  });
  return { exitCode: 0, lines: planLines(plan), summary: { command: 'plan', ...plan } };
}

const REASONS: Record<PathReason, (above: number) => string> = {
  incremental: () => 'incremental: REST',
  exportOff: () => 'exportAbove 0: export off',
  noBulkClient: () => 'the Marketo client has no bulk export',
  belowThreshold: (above) => `back-fill ≤ exportAbove ${above}`,
  estimateFailed: () => 'back-fill estimate failed: REST',
  aboveThreshold: (above) => `back-fill > exportAbove ${above}`,
};

const MB = 1024 * 1024;
const mb = (bytes: number) => `${Math.round((bytes / MB) * 10) / 10} MB`;

/** Why a stream takes its path, with the numbers the run compares. */
function pathWhy(s: CyclePlan['streams'][number], exportAbove: number): string {
  const why = REASONS[s.pathReason](exportAbove);
  return s.backfillEstimate === undefined ? why : `${why} (estimate ${s.backfillEstimate})`;
}

export function planLines(plan: CyclePlan): string[] {
  const label = (s: CyclePlan['streams'][number]) =>
    s.types.length > 2 ? `${s.types.length} types (ids ${s.streamKey})` : s.types.join(', ');
  const how = (w: CyclePlan['streams'][number]['windows'][number]) =>
    w.path === 'export'
      ? `export job, ${mb(w.exportBytes ?? 0)} in ${w.ranges} range(s)`
      : w.path === 'restAfterAllowance'
        ? 'REST paging (export allowance spent)'
        : 'REST paging';
  const rows = plan.streams.flatMap((s): (string | number)[][] =>
    s.status === 'busy'
      ? [[label(s), 'busy: an earlier run continues it', 0, '', '']]
      : s.windows.map((w, i) => [
          i === 0 ? label(s) : '',
          `${w.from.slice(0, 16)} → ${w.until.slice(0, 16)}${i === 0 ? ` (${s.origin})` : ''}`,
          w.activities,
          w.exact ? 'counted' : 'estimated',
          `${how(w)}${i === 0 ? `; ${pathWhy(s, plan.exportAbove)}` : ''}`,
        ]),
  );
  const sf = plan.quota.salesforce;
  const m = plan.marketoCalls;
  const l = plan.leads;
  const allowance = plan.exportAllowance;
  return [
    ...formatTable(['types', 'window (UTC)', 'activities', 'how', 'path'], rows),
    '',
    `activities  ${plan.activities}`,
    `Marketo     ${plan.calls.marketo} calls, ${plan.quota.marketo.sharePercent} % of ${plan.quota.marketo.daily} a day: ${m.types} types, ${m.backfillEstimates} back-fill estimate, ${m.paging} paging, ${m.exportJobs} export jobs, ${m.leadLookups} lead look-ups, ${m.revisit} revisit`,
    `leads       ~${l.people} people; lead cache holds ${l.cachedPeople} of the ${l.sampledPeople} sampled linked; ${l.waitingPeople} waiting`,
    `Salesforce  ${plan.calls.salesforce} calls${sf ? `, ${sf.sharePercent} % of ${sf.limit} a day (${sf.used} used)` : ''}`,
    ...(allowance
      ? [
          `export      ${mb(allowance.bytes)} of the ${mb(allowance.limit)} daily export allowance${
            allowance.exceeded
              ? ': the estimate exceeds it; the windows past it fall back to REST paging (Marketo refuses their jobs, 1029)'
              : ' (shared with any other bulk extract today)'
          }`,
        ]
      : []),
    `path        a back-fill (no cursor yet) estimated above activities.backfill.exportAbove (${plan.exportAbove}${plan.exportAbove === 0 ? ': never' : ''}) is read by Bulk Activity Extract jobs, anything else by REST paging`,
    `estimate    cost ${plan.estimateCost.marketo} Marketo + ${plan.estimateCost.salesforce} Salesforce calls: ${plan.method}`,
    ...(plan.typesMissing.length ? [`missing     ${plan.typesMissing.join(', ')} (optional; skipped)`] : []),
  ];
}
