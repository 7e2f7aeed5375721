import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { type ActivityScenario, runActivityScenario } from './activity-scenario.js';
import { chaosConfig, scenarioSeed } from './chaos-config.js';
import { formatTable, rowProblems, type ScenarioRow, writeResults } from './chaos-report.js';
import { OPT_OUT_FAULTS, runOptOutScenario } from './optout-scenario.js';
import { MARKETO_THROTTLE, MARKETO_TRANSIENT, marketoLabel, SALESFORCE_ALL } from './vendor-faults.js';

/**
 * The chaos suite: the whole pipeline on the embedded default (fauxqs, dynalite, the Marketo and
 * Salesforce sandboxes, the same handlers as the Lambda functions) under faults injected at
 * CHAOS_RATE per request, then a reconciliation against the sandboxes' own state. A scenario
 * fails on any duplicate, missing, misattached or lost result, or any dead letter.
 * `npm run test:chaos` is the full size; `npm test` runs the same scenarios small.
 */

const config = chaosConfig();
const full = config.full;
const size = (ci: number, fullSize: number) => (full ? fullSize : ci);
const rows: ScenarioRow[] = [];
/**
 * Queue visibility timeouts: short, so that retries come back within seconds, yet well above an
 * invocation's duration on a busy machine. The embedded event source has no function timeout
 * (Lambda's is under a sixth of the visibility timeout), so a shorter one would redeliver slow
 * invocations and dead-letter copies of work already done: redelivery while running must come
 * from the injected stalls only.
 */
const VISIBILITY = size(8, 15);

console.log(
  `[chaos] size ${full ? 'full' : 'ci'}, rate ${config.rate}, seed ${config.seed} — reproduce with CHAOS_SEED=${config.seed}${config.rate === 0.1 ? '' : ` CHAOS_RATE=${config.rate}`}`,
);

const ACTIVITY_SCENARIOS: ActivityScenario[] = [
  {
    name: 'Marketo: 502/604/608/611, 606/615, tokens expired/revoked, HTTP 500, timeouts, drops, paging token',
    activities: size(1_200, 6_000),
    marketo: [...MARKETO_TRANSIENT, ...MARKETO_THROTTLE],
    tokenChurn: true,
    pagingTokenTtlMs: 4_000,
    visibilitySeconds: VISIBILITY,
  },
  {
    name: 'Marketo: daily quota spent (607), parked until midnight in Chicago',
    activities: size(800, 4_000),
    dailyQuota: 12,
    visibilitySeconds: VISIBILITY,
  },
  {
    name: 'Salesforce (collections): lock rows, session, 503, lost responses, API limit',
    activities: size(1_000, 6_000),
    // sObject Collections at every size (Bulk API 2.0 is the last scenario's path).
    bulkThreshold: 1_000_000,
    salesforce: SALESFORCE_ALL,
    limitEpisodeMs: 1_500,
    visibilitySeconds: VISIBILITY,
  },
  {
    name: 'Salesforce, ledger mode (no External ID): same faults, redelivery while running',
    activities: size(800, 4_000),
    salesforce: SALESFORCE_ALL,
    ledgerMode: true,
    process: { stall: true },
    // A ledger-mode write batch claims its activities one by one (10 messages: seconds).
    visibilitySeconds: size(12, 20),
  },
  {
    name: 'Process: kills between side effects, redelivery while running, crash before delete',
    activities: size(1_000, 6_000),
    process: { kill: true, stall: true, crashBeforeDelete: true },
    visibilitySeconds: VISIBILITY,
  },
  {
    name: 'Everything at once (Tasks through Bulk API 2.0)',
    activities: size(1_200, 28_500),
    // A small run still reaches the Bulk path (the default threshold is 2,000 activities read).
    ...(full ? {} : { bulkThreshold: 200 }),
    marketo: [...MARKETO_TRANSIENT, ...MARKETO_THROTTLE],
    salesforce: [...SALESFORCE_ALL, 'BULK_JOB_FAILED'],
    tokenChurn: true,
    pagingTokenTtlMs: 4_000,
    limitEpisodeMs: 1_500,
    process: { kill: true, stall: true, crashBeforeDelete: true },
    visibilitySeconds: VISIBILITY,
  },
];

const OPT_OUT_SCENARIO = 'Opt-outs: Marketo, Salesforce, webhooks, resubscribes';
/** Scenarios running at once (CI size): enough to overlap their waits, few enough not to starve the event loop. */
const slots = semaphore(full ? 1 : 4);
const order = [...ACTIVITY_SCENARIOS.map((s) => s.name), OPT_OUT_SCENARIO];

/** The table labels of the kinds a scenario injects: each must have fired at least once. */
function injectedKinds(s: ActivityScenario): string[] {
  return [
    ...(s.marketo ?? []).map(marketoLabel),
    ...(s.tokenChurn ? ['mk 601 (token revoked)', 'mk 602 (token expired)'] : []),
    // A Bulk job failing needs a Bulk job: not every small run gets one past the other faults.
    ...(s.salesforce ?? []).filter((k) => k !== 'BULK_JOB_FAILED').map((k) => `sf ${k}`),
    ...(s.process?.kill ? ['kill before a call', 'kill after a call'] : []),
    ...(s.process?.stall ? ['stall past visibility'] : []),
    ...(s.process?.crashBeforeDelete ? ['kill before SQS delete'] : []),
  ];
}

// CI size: concurrent (a small scenario mostly waits — visibility timeouts, parks, midnight — so
// they overlap well). Full size: one after the other (each is busy, and alone on the event loop
// its timing stays what the visibility timeouts assume).
const suite = full ? describe : describe.concurrent;
suite(`chaos suite (${full ? 'full' : 'ci'} size, rate ${config.rate}, seed ${config.seed})`, () => {
  afterAll(() => {
    if (rows.length === 0) return;
    rows.sort((a, b) => order.indexOf(a.scenario) - order.indexOf(b.scenario));
    console.log(`\n${formatTable(config, rows)}\n`);
    for (const r of rows) if (r.notes?.length) console.log(`[chaos] ${r.scenario}: ${r.notes.join('; ')}`);
    if (full) writeResults(join(import.meta.dirname, 'results', 'latest.json'), config, rows);
  });

  ACTIVITY_SCENARIOS.forEach((scenario, index) => {
    it(
      `activities — ${scenario.name}: every eligible activity exactly one Task, nothing dead-lettered`,
      async ({ expect }) => {
        const row = await slots.run(() => runActivityScenario(scenario, config, scenarioSeed(config, index)));
        rows.push(row);

        expect(rowProblems(row), `seed ${row.seed}`).toEqual([]);
        expect(row.tasks).toBe(row.activities);
        expect(row.activities).toBeGreaterThan(scenario.activities / 2);
        if (config.rate > 0)
          for (const kind of injectedKinds(scenario)) expect(row.faults[kind] ?? 0, kind).toBeGreaterThan(0);
        const throttled = scenario.marketo?.some((k) => k === '606' || k === '615') ?? false;
        if (!throttled) expect(row.limitBreaches, 'Marketo 606/615 caused by our own calls').toBe(0);
        if (scenario.dailyQuota !== undefined) {
          expect(row.faults['mk 607 (quota spent)']).toBeGreaterThan(0);
          expect(row.parks, 'work parked until the quota reset').toBeGreaterThan(0);
        }
        // The org over its limit: refused calls (parked when a queue consumer meets them; the CLI's
        // flush of staged Tasks ends its cycle incomplete instead), nothing lost, nothing dead-lettered.
        if (scenario.limitEpisodeMs)
          expect(row.faults['sf REQUEST_LIMIT_EXCEEDED (limit spent)'] ?? 0).toBeGreaterThan(0);
      },
      full ? 1_800_000 : 240_000,
    );
  });

  it(
    'opt-outs — both sides, several records per email, webhooks (duplicated), resubscribe attempts, under every fault: none lost',
    async ({ expect }) => {
      const changes = size(40, 500);
      const row = await slots.run(() =>
        runOptOutScenario(
          { name: OPT_OUT_SCENARIO, changes, visibilitySeconds: size(4, 8) },
          config,
          scenarioSeed(config, ACTIVITY_SCENARIOS.length),
        ),
      );
      rows.push(row);

      expect(rowProblems(row), `seed ${row.seed}`).toEqual([]);
      expect(row.optOutChanges).toBeGreaterThanOrEqual(changes);
      if (config.rate > 0)
        for (const kind of OPT_OUT_FAULTS) expect(row.faults[kind] ?? 0, kind).toBeGreaterThan(0);
    },
    full ? 1_800_000 : 240_000,
  );
});

/** At most `n` tasks at a time, in the order they asked. */
function semaphore(n: number) {
  let free = n;
  const waiting: (() => void)[] = [];
  return {
    async run<T>(task: () => Promise<T>): Promise<T> {
      if (free > 0) free--;
      else await new Promise<void>((resolve) => waiting.push(resolve));
      try {
        return await task();
      } finally {
        const next = waiting.shift();
        if (next) next();
        else free++;
      }
    },
  };
}
