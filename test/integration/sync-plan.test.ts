import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { runPlanCommand } from '../../cli/commands/plan.js';
import type { CyclePlan } from '../../shared/activities/plan-activity-cycle.js';
import { QUEUES, type QueueKey } from '../../shared/adapters/sqs/queue-definitions.js';
import { type Embedded, startEmbedded } from '../helpers/embedded.js';

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

describe('sync plan on the embedded default', () => {
  it('writes nothing, and its estimate is near what the following cycle reads and spends (first run and after)', async () => {
    e = await startEmbedded();
    const figures: Record<string, unknown>[] = [];
    for (const run of ['back-fill', 'incremental']) {
      const before = await snapshot(e);
      const result = await runPlanCommand(e.local);
      expect(await snapshot(e)).toEqual(before);

      const plan = result.summary as unknown as CyclePlan;
      const cycle = await e.runCycle();
      figures.push({
        run,
        estimated: { activities: plan.activities, ...plan.calls },
        actual: { activities: cycle.read, ...cycle.calls },
        estimateCost: plan.estimateCost,
      });
      process.stdout.write(`${JSON.stringify(figures.at(-1))}\n`);
      if (run === 'back-fill') {
        expect(plan.streams.every((s) => s.origin === 'lookback')).toBe(true);
        // Activities: the sample is deterministic (1,966 estimated, 2,000 read). Marketo calls vary
        // run to run with the concurrency (pages re-read, lead look-ups per write batch): measured
        // 25 estimated vs 25–28 spent, so 10 % does not hold every time; 15 % does. Salesforce calls
        // depend on how the writes race the reads (staged or direct; 11–21 measured for 20
        // estimated) and are reported, not asserted.
        expect(within(plan.activities, cycle.read)).toBeLessThanOrEqual(0.1);
        expect(within(plan.calls.marketo, cycle.calls.marketo)).toBeLessThanOrEqual(0.15);
      } else {
        expect(plan.streams.every((s) => s.origin === 'cursor')).toBe(true);
      }
      expect(plan.quota.marketo.daily).toBe(50_000);
      expect(plan.quota.salesforce?.limit).toBeGreaterThan(0);
    }
  }, 300_000);
});
