import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { WRITE_BATCH_SIZE, WRITE_CONCURRENCY } from '../../cli/commands/activities.js';
import { planLines, runPlanCommand } from '../../cli/commands/plan.js';
import { DEFAULT_WORLD } from '../../cli/embedded/local-environment.js';
import { type CyclePlan, planActivityCycle } from '../../shared/activities/plan-activity-cycle.js';
import { QUEUES, type QueueKey } from '../../shared/adapters/sqs/queue-definitions.js';
import type { SettingsInput } from '../../shared/config/settings.js';
import { activityDeps, marketoGovernor, vendorClients } from '../../shared/runtime/activity-runtime.js';
import { type Embedded, type EmbeddedOptions, startEmbedded } from '../helpers/embedded.js';

let e: Embedded | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

/** Item counts of every table but the call governor's (which counts the plan's own Marketo calls), queue depths, sandbox writes. */
async function snapshot(emb: Embedded) {
  const { doc, tables } = emb.local.platform;
  const items: Record<string, number> = {};
  for (const [key, table] of Object.entries(tables)) {
    if (key === 'governor' || !table) continue;
    const res = await doc.send(new ScanCommand({ TableName: table, Select: 'COUNT' }));
    items[key] = res.Count ?? 0;
  }
  const queues: Record<string, unknown> = {};
  for (const key of Object.keys(QUEUES) as QueueKey[]) queues[key] = await emb.local.queueDepth(key);
  const sf = emb.local.salesforceSandbox;
  return {
    items,
    queues,
    salesforceWrites: sf?.state.writeLog.length,
    bulkJobs: sf?.bulkJobs().length,
    customTypes: emb.local.marketoSandbox?.customTypes.size,
  };
}

const within = (estimate: number, actual: number) => Math.abs(estimate - actual) / actual;

/** Marketo calls the sandbox counted by what spent them (the plan's own reset away first). */
function spent(emb: Embedded) {
  const stats = emb.local.marketoSandbox!.stats;
  const sum = (match: (endpoint: string) => boolean) =>
    Object.entries(stats.byEndpoint)
      .filter(([endpoint]) => match(endpoint))
      .reduce((n, [, results]) => n + Object.values(results).reduce((a, b) => a + b, 0), 0);
  return {
    leadLookups: sum((p) => p.endsWith('/rest/v1/leads.json')),
    paging: sum((p) => p.endsWith('/activities.json') || p.endsWith('/pagingtoken.json')),
    exportJobs: sum((p) => p.includes('/bulk/v1/activities/export/')),
  };
}

/** Plan, then the cycle it describes, with the sandbox's counts of the cycle alone. */
async function planThenCycle(emb: Embedded) {
  const before = await snapshot(emb);
  const result = await runPlanCommand(emb.local);
  expect(await snapshot(emb)).toEqual(before);
  const plan = result.summary as unknown as CyclePlan;
  emb.local.marketoSandbox!.stats.reset();
  const cycle = await emb.runCycle();
  const figures = {
    estimated: { activities: plan.activities, ...plan.calls, marketoCalls: plan.marketoCalls },
    actual: { activities: cycle.read, ...cycle.calls, marketoCalls: spent(emb) },
    estimateCost: plan.estimateCost,
  };
  process.stdout.write(`${JSON.stringify(figures)}\n`);
  return { plan, lines: result.lines, cycle, actual: figures.actual };
}

function withExport(exportAbove: number) {
  return (input: SettingsInput): SettingsInput => ({
    ...input,
    activities: { ...input.activities, backfill: { exportAbove, pollSeconds: 1, chunkBytes: 16_384 } },
  });
}

describe('sync plan on the embedded default', () => {
  it('writes nothing, and its estimate is near what the following cycle reads and spends (first run and after)', async () => {
    e = await startEmbedded();
    // Back-fill: activities 1,998 estimated vs 2,000 read (the sample is deterministic); Marketo 22
    // estimated vs 22–27 spent: lead look-ups 4 vs 4–5, paging 17 vs 17–21 (short pages and pages
    // re-read under load are not in the model; on 2,000 activities five calls are 20 %). Salesforce
    // calls depend on how the writes race the reads (staged or direct; 11–21 measured for 20
    // estimated) and are reported, not asserted.
    const backfill = await planThenCycle(e);
    expect(backfill.plan.streams.every((s) => s.origin === 'lookback' && s.path === 'rest')).toBe(true);
    expect(backfill.plan.streams.every((s) => s.pathReason === 'exportOff')).toBe(true);
    expect(within(backfill.plan.activities, backfill.cycle.read)).toBeLessThanOrEqual(0.1);
    expect(within(backfill.plan.calls.marketo, backfill.cycle.calls.marketo)).toBeLessThanOrEqual(0.25);
    expect(
      Math.abs(backfill.plan.marketoCalls.leadLookups - backfill.actual.marketoCalls.leadLookups),
    ).toBeLessThanOrEqual(2);

    // Incremental: the people without a Salesforce record are looked up again (one call per 300).
    const incremental = await planThenCycle(e);
    expect(
      incremental.plan.streams.every((s) => s.origin === 'cursor' && s.pathReason === 'incremental'),
    ).toBe(true);
    expect(incremental.plan.leads.waitingPeople).toBeGreaterThan(0);
    expect(incremental.plan.marketoCalls.revisit).toBe(Math.ceil(incremental.plan.leads.waitingPeople / 300));
    expect(incremental.plan.calls.marketo).toBe(incremental.cycle.calls.marketo);
    expect(incremental.plan.quota.marketo.daily).toBe(50_000);
    expect(incremental.plan.quota.salesforce?.limit).toBeGreaterThan(0);
  }, 300_000);

  it("on npm start's 30,000-activity world: Marketo calls within 10 % of the cycle's, lead look-ups only for people not yet looked up", async () => {
    // As `npm start` runs it: the default settings (a back-fill above 100,000 would be exported; this
    // one is estimated below, so REST paging after two calls per stream to estimate it).
    e = await startEmbedded({
      world: DEFAULT_WORLD,
      settings: (input) => {
        const { backfill: _testDefault, ...activities } = input.activities ?? {};
        return { ...input, activities };
      },
    });
    // Measured: Marketo 127 estimated vs 126–130 spent (175 before the look-ups counted the lead
    // cache); lead look-ups 29 vs 22–27 (concurrent write batches look up the same new person).
    const { plan, cycle, actual } = await planThenCycle(e);
    expect(within(plan.calls.marketo, cycle.calls.marketo)).toBeLessThanOrEqual(0.1);
    expect(within(plan.marketoCalls.leadLookups, actual.marketoCalls.leadLookups)).toBeLessThanOrEqual(0.35);
    expect(plan.leads.cachedPeople).toBe(0);
    expect(plan.streams.every((s) => s.path === 'rest' && s.pathReason === 'belowThreshold')).toBe(true);
    expect(plan.marketoCalls.backfillEstimates).toBeGreaterThanOrEqual(2 * plan.streams.length);
    expect(within(plan.leads.people, DEFAULT_WORLD.people ?? 0)).toBeLessThanOrEqual(0.05);
  }, 300_000);

  it('a back-fill above exportAbove: planned as export jobs (calls, ranges, per-range lead look-ups) near what the run spends', async () => {
    e = await startEmbedded({ world: { activities: 2_500, days: 90 }, settings: withExport(10) });
    // Measured: Marketo 77 estimated vs 77 spent; export calls 48 vs 47–48, look-ups 24 vs 23.
    const { plan, lines, cycle, actual } = await planThenCycle(e);
    expect(plan.streams.every((s) => s.path === 'export' && s.pathReason === 'aboveThreshold')).toBe(true);
    // 90 days: three ≤ 31-day jobs per stream.
    expect(plan.streams.flatMap((s) => s.windows).filter((w) => w.path === 'export')).toHaveLength(
      3 * plan.streams.length,
    );
    expect(plan.exportAllowance).toMatchObject({ exceeded: false });
    expect(lines.some((l) => l.includes('export job') && l.includes('back-fill > exportAbove 10'))).toBe(
      true,
    );
    expect(within(plan.calls.marketo, cycle.calls.marketo)).toBeLessThanOrEqual(0.1);
    expect(within(plan.marketoCalls.exportJobs, actual.marketoCalls.exportJobs)).toBeLessThanOrEqual(0.1);
    expect(within(plan.marketoCalls.leadLookups, actual.marketoCalls.leadLookups)).toBeLessThanOrEqual(0.15);
    expect(plan.marketoCalls.backfillEstimates).toBe(2 * plan.streams.length);
  }, 300_000);

  it('says when the export would pass the daily allowance, and plans the windows past it as REST paging', async () => {
    const options: EmbeddedOptions = {
      world: { activities: 2_500, days: 90 },
      settings: withExport(10),
      marketo: { bulkExport: { dailyBytes: 100_000 } },
    };
    e = await startEmbedded(options);
    const { platform } = e.local;
    const clients = vendorClients(platform, e.local.credentials, marketoGovernor(platform));
    const plan = await planActivityCycle(activityDeps(platform, clients), {
      writeConsumer: { batchMessages: WRITE_BATCH_SIZE, concurrency: WRITE_CONCURRENCY },
      exportAllowanceBytes: 100_000,
    });
    const windows = plan.streams.flatMap((s) => s.windows);
    expect(plan.exportAllowance).toMatchObject({ limit: 100_000, exceeded: true });
    expect(windows.some((w) => w.path === 'export')).toBe(true);
    expect(windows.some((w) => w.path === 'restAfterAllowance')).toBe(true);
    expect(planLines(plan).join('\n')).toContain('fall back to REST paging');
    e.local.marketoSandbox!.stats.reset();
    const cycle = await e.runCycle();
    // The run does what the plan said: some windows by export, the rest by REST after the refusal.
    expect(spent(e).exportJobs).toBeGreaterThan(0);
    expect(spent(e).paging).toBeGreaterThan(2 * plan.streams.length);
    process.stdout.write(
      `${JSON.stringify({ allowance: { estimated: plan.calls.marketo, actual: cycle.calls.marketo, spent: spent(e), planned: plan.marketoCalls } })}\n`,
    );
  }, 300_000);
});
