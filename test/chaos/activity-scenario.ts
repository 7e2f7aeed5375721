import { mulberry32 } from '../../sandboxes/world.js';
import type { ActivityDeps } from '../../shared/activities/activity-deps.js';
import { nextChicagoMidnight } from '../../shared/adapters/marketo/retry-policy.js';
import { SALESFORCE_LIMIT_PAUSE_MS } from '../../shared/ports/resume-at.js';
import {
  type Embedded,
  expectedTasks,
  reconcile,
  startEmbedded,
  TEST_WINDOW_MS,
  tasksByActivity,
} from '../helpers/embedded.js';
import { type ChaosClock, chaosGovernor, chaosMarketoClient } from './chaos-clients.js';
import type { ChaosConfig } from './chaos-config.js';
import type { ScenarioRow } from './chaos-report.js';
import { diagnose } from './diagnostics.js';
import { ProcessFaults, SimulatedKillError } from './process-faults.js';
import { observeSqs } from './sqs-observer.js';
import {
  armMarketo,
  armMarketoOnce,
  armSalesforce,
  armSalesforceOnce,
  churnMarketoTokens,
  countSalesforceFaults,
  type MarketoFaultKind,
  marketoAuthAnswers,
  marketoInjected,
  marketoLimitBreaches,
  type SalesforceFaultKind,
  vendorCalls,
} from './vendor-faults.js';

/** What one activity scenario injects; the pipeline, sandboxes and reconciliation are the same for all. */
export interface ActivityScenario {
  name: string;
  /** Activities the seeded world generates (about 70 % are of enabled types and get a Task). */
  activities: number;
  marketo?: readonly MarketoFaultKind[];
  salesforce?: readonly SalesforceFaultKind[];
  /** Expire and revoke Marketo access tokens while the run goes on (real 601/602 answers). */
  tokenChurn?: boolean;
  /** Paging tokens expire after this long (a token held across a retry stops being accepted). */
  pagingTokenTtlMs?: number;
  /** The org runs out of daily API requests for a while (every call refused) once the writes have started. */
  limitEpisodeMs?: number;
  /** Calls left in the instance's daily quota, seconds before midnight in Chicago (then a new day's quota). */
  dailyQuota?: number;
  process?: { kill?: boolean; stall?: boolean; crashBeforeDelete?: boolean };
  /** Ledger mode: the org cannot make the Task field an External ID (create + ledger). */
  ledgerMode?: boolean;
  /** Tasks of a cycle that has read this many activities go through Bulk API 2.0 (setting salesforce.bulkThreshold). */
  bulkThreshold?: number;
  visibilitySeconds: number;
}

/** A park until Salesforce's limit frees up (an hour) lasts this long here. */
export const LIMIT_PAUSE_SECONDS = 2;
/**
 * The quota scenario's Marketo clock starts this long before midnight in Chicago, and jumps to
 * SECONDS_LEFT before it the moment the quota is spent: the park lasts seconds, whenever that is.
 */
const SECONDS_BEFORE_MIDNIGHT_AT_START = 300;
const SECONDS_LEFT_WHEN_SPENT = 4;
const MAX_CYCLES = 8;
/** Every kind of the scenario also fires once; each is armed this long after the previous one fired. */
const ONCE_SPACING_MS = 100;
/** Forced process faults start after this many calls through the faulted dependencies. */
const FORCED_AFTER_CALLS = 60;

const add = (into: Record<string, number>, from: Record<string, number>) => {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
};

/** The activity pipeline (schedule → fetch → write, as `sync activities`) under one scenario's faults. */
export async function runActivityScenario(
  scenario: ActivityScenario,
  config: ChaosConfig,
  seed: number,
): Promise<ScenarioRow> {
  const started = Date.now();
  const { rate } = config;
  // The Marketo clock (sandbox, client, governor): real time, or in the quota scenario minutes
  // before midnight in Chicago.
  const quota = scenario.dailyQuota !== undefined;
  const midnight = nextChicagoMidnight(Date.now() + SECONDS_BEFORE_MIDNIGHT_AT_START * 1000);
  const frame = { offsetMs: quota ? midnight - SECONDS_BEFORE_MIDNIGHT_AT_START * 1000 - Date.now() : 0 };
  const clock: ChaosClock = { now: () => Date.now() + frame.offsetMs };
  const e: Embedded = await startEmbedded({
    world: {
      seed,
      people: Math.max(300, Math.round(scenario.activities / 8)),
      activities: scenario.activities,
      // Ends an hour ago (late-committed activities are all visible) and lies inside the 90-day look-back.
      now: Date.now() - 3600_000,
      days: 89,
    },
    marketo: {
      seed,
      clock: () => clock.now(),
      limits: {
        windowMs: TEST_WINDOW_MS,
        callsPerWindow: 100,
        maxConcurrent: 10,
        ...(quota ? { dailyQuotaReset: 'chicagoMidnight' as const } : {}),
      },
      ...(scenario.pagingTokenTtlMs ? { paging: { tokenTtlMs: scenario.pagingTokenTtlMs } } : {}),
    },
    salesforce: {
      randomSeed: seed,
      ...(scenario.ledgerMode ? { taskActivityIdMode: 'plain-field' as const } : {}),
    },
    settings: (s) => ({
      ...s,
      salesforce: {
        ...s.salesforce,
        ...(scenario.ledgerMode ? { upsertMode: 'ledger' as const } : {}),
        ...(scenario.bulkThreshold ? { bulkThreshold: scenario.bulkThreshold } : {}),
      },
    }),
    visibilitySeconds: scenario.visibilitySeconds,
  });
  const timers: NodeJS.Timeout[] = [];
  const stoppers: (() => void)[] = [];
  try {
    const mk = e.local.marketoSandbox!;
    const sf = e.local.salesforceSandbox!;
    const { platform } = e.local;
    // Parks are hours long: a Salesforce limit park (an hour) lasts LIMIT_PAUSE_SECONDS; a Marketo
    // quota park (until midnight on the shifted clock) lasts until that midnight comes here.
    const sqs = observeSqs(platform.sqs, {
      parkSeconds: (requested) =>
        Math.abs(requested - SALESFORCE_LIMIT_PAUSE_MS / 1000) <= 2
          ? LIMIT_PAUSE_SECONDS
          : requested - Math.floor(frame.offsetMs / 1000),
    });
    if (scenario.marketo?.length) armMarketo(mk, scenario.marketo, rate);
    const sfFaults = scenario.salesforce?.length
      ? armSalesforce(sf, scenario.salesforce, rate)
      : countSalesforceFaults(sf);
    const once = rate > 0; // CHAOS_RATE=0: a clean baseline, nothing injected at all
    const processFaults = scenario.process
      ? new ProcessFaults({
          rate,
          random: mulberry32(seed ^ 0x5eed),
          kill: scenario.process.kill ?? false,
          ...(scenario.process.stall ? { stallMs: scenario.visibilitySeconds * 1000 + 700 } : {}),
        })
      : undefined;
    const events: Record<string, number> = {};
    const random = mulberry32(seed ^ 0xc10c);
    if (scenario.tokenChurn && rate > 0) stoppers.push(churnMarketoTokens(mk, rate, random));
    if (scenario.limitEpisodeMs) {
      const episode = scenario.limitEpisodeMs;
      // From Salesforce's first API call on (the writes have started) until a call has been refused
      // and episodeMs have passed.
      let since: number | undefined;
      let before = sf.apiUsage();
      const watch = setInterval(() => {
        if (since === undefined) {
          if (!sf.stats.requests.some((r) => r.kind !== 'oauth')) return;
          before = sf.apiUsage();
          sf.setApiUsage(before.limit, before.limit);
          events['sf daily limit spent (episode)'] = 1;
          since = Date.now();
          return;
        }
        const refused = sf.stats.requests.some((r) => r.status === 403 && r.fault === undefined);
        if (!refused || Date.now() - since < episode) return;
        clearInterval(watch);
        sf.setApiUsage(before.used, before.limit);
      }, 5);
      timers.push(watch);
    }

    const governor = chaosGovernor(platform.doc, platform.tables.governor, e.settings, clock);
    const marketo = chaosMarketoClient({
      credentials: e.local.credentials,
      governor,
      logger: platform.logger,
      seed,
      clock,
    });
    const wrapDeps = (deps: ActivityDeps): ActivityDeps => {
      deps.marketo = marketo;
      // Lambda ends an attempt at its timeout (a sixth of the visibility timeout), so a claim left
      // by an attempt that stopped between create and record (120 s as deployed) outlives its
      // message's receives only here, where visibility is scaled down: scale the lease with it,
      // still longer than the longest attempt (a stall is the visibility timeout + 0.7 s).
      deps.claimLeaseMs = 2 * scenario.visibilitySeconds * 1000;
      return processFaults ? faultDeps(processFaults, deps) : deps;
    };
    const crash = scenario.process?.crashBeforeDelete ? processFaults?.crashBeforeDelete() : undefined;
    const beforeDelete = crash ? { fetch: crash, write: crash } : undefined;

    if (once) {
      stoppers.push(
        armMarketoOnce(mk, scenario.marketo ?? [], {
          spacingMs: ONCE_SPACING_MS,
          pagingEndpoint: '/rest/v1/activities.json',
        }),
        armSalesforceOnce(sf, scenario.salesforce ?? [], ONCE_SPACING_MS),
      );
      processFaults?.forceOnce(
        [
          ...(scenario.process?.kill ? (['kill before', 'kill after'] as const) : []),
          ...(scenario.process?.stall ? (['stall'] as const) : []),
          ...(scenario.process?.crashBeforeDelete ? (['crash before delete'] as const) : []),
        ],
        FORCED_AFTER_CALLS,
      );
    }
    if (quota) {
      // Other integrations on the instance spent today's quota but for the last few calls; when
      // those are gone too, the clock moves on to seconds before midnight.
      mk.spendDailyQuota(mk.limits.dailyQuota - (scenario.dailyQuota ?? 0));
      const watch = setInterval(() => {
        if (mk.dailyUsed() < mk.limits.dailyQuota) return;
        clearInterval(watch);
        frame.offsetMs = midnight - SECONDS_LEFT_WHEN_SPENT * 1000 - Date.now();
      }, 5);
      timers.push(watch);
    }
    const notes: string[] = [];
    for (let cycle = 0; cycle < MAX_CYCLES; cycle++) {
      try {
        const run = await e.runCycle({
          governor,
          wrapDeps,
          timeoutMs: config.full ? 1_200_000 : 240_000,
          ...(beforeDelete ? { beforeDelete } : {}),
        });
        if (run.status === 'completed') break;
        notes.push(`cycle ${cycle + 1} incomplete`);
      } catch (err) {
        // The command itself failed (a kill outside an SQS handler, a vendor error its retries did
        // not absorb): as an operator or a scheduler would, run it again.
        if (cycle === MAX_CYCLES - 1) throw err;
        const what = err instanceof SimulatedKillError ? 'kill of the CLI cycle' : 'CLI cycle failed';
        notes.push(
          `cycle ${cycle + 1} ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`,
        );
        events[what] = (events[what] ?? 0) + 1;
      }
    }
    for (const t of timers) clearInterval(t);

    const expected = expectedTasks(e, { sinceMs: 0, untilMs: Date.now() });
    const actual = tasksByActivity(e);
    const r = reconcile(expected, actual);
    let tasks = 0;
    for (const guid of expected.keys()) tasks += actual.get(guid)?.length ?? 0;
    const depths = await Promise.all([e.local.queueDepth('fetch'), e.local.queueDepth('write')]);
    const faults: Record<string, number> = {};
    add(faults, marketoInjected(mk));
    if (scenario.tokenChurn) add(faults, marketoAuthAnswers(mk));
    if (quota)
      faults['mk 607 (quota spent)'] = Object.values(mk.stats.byEndpoint).reduce(
        (n, results) => n + (results['607'] ?? 0),
        0,
      );
    add(faults, sfFaults.counts);
    const overLimit = sf.stats.requests.filter((r) => r.status === 403 && r.fault === undefined).length;
    if (overLimit) faults['sf REQUEST_LIMIT_EXCEEDED (limit spent)'] = overLimit;
    if (processFaults) add(faults, processFaults.counts);
    add(faults, events);
    const breaches = marketoLimitBreaches(mk);
    const parks = sqs.parks.filter(
      (p) => p.queue.startsWith('sync-fetch') || p.queue.startsWith('sync-write'),
    );
    const deadLetters = depths.reduce((n, d) => n + d.dlq, 0);
    if (deadLetters > 0 || r.missing > 0 || r.duplicates > 0 || process.env.CHAOS_DEBUG) {
      const missing = [...expected.keys()].filter((g) => !actual.has(g));
      notes.push(...(await diagnose(platform, { world: e.world, missing })));
      if (processFaults) notes.push(`process faults: ${processFaults.log.join(', ')}`);
    }
    if (quota) notes.push(`Marketo clock ${Math.round(frame.offsetMs / 1000)} s ahead (midnight in Chicago)`);
    sqs.restore();
    return {
      scenario: scenario.name,
      seed,
      faults,
      calls: vendorCalls(mk, sf),
      activities: expected.size,
      tasks,
      duplicates: r.duplicates,
      missing: r.missing,
      wrongWho: r.wrongWho,
      unexpected: r.unexpected,
      optOutChanges: 0,
      optOutsLost: 0,
      falseOptOuts: 0,
      deadLetters,
      limitBreaches: breaches['606'] + breaches['615'],
      maxReceives: Math.max(sqs.maxReceives('sync-fetch'), sqs.maxReceives('sync-write')),
      parks: parks.length,
      durationMs: Date.now() - started,
      ...(notes.length ? { notes } : {}),
    };
  } finally {
    for (const t of timers) clearInterval(t);
    for (const stop of stoppers) stop();
    await e.stop();
  }
}

/** Leaves these alone: configuration and plumbing, not calls with side effects. */
const PLAIN = new Set(['settings', 'logger', 'queueUrls', 'now']);
/**
 * Ledger-mode claims are leases of 120 s: a kill that leaks one is healed when the lease runs out,
 * which needs the production visibility timeout (540 s), not the seconds used here.
 */
const NOT_KILLED = new Set(['claim', 'release']);

/** Every dependency of the pipeline behind process faults (stores, queue sender, vendor clients). */
export function faultDeps(faults: ProcessFaults, deps: ActivityDeps): ActivityDeps {
  return new Proxy(deps, {
    get(obj, prop) {
      const value: unknown = Reflect.get(obj, prop, obj);
      if (typeof prop !== 'string' || PLAIN.has(prop) || typeof value !== 'object' || value === null)
        return value;
      return faults.wrap(prop, value, NOT_KILLED);
    },
  });
}
