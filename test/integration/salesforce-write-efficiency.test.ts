import { afterEach, describe, expect, it } from 'vitest';
import {
  type Embedded,
  expectedTasks,
  reconcile,
  startEmbedded,
  tasksByActivity,
} from '../helpers/embedded.js';

let e: Embedded | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

const clean = { missing: 0, duplicates: 0, wrongWho: 0, unexpected: 0 };

/** Measured counts, not timings: Salesforce calls per cycle (auth excluded, as Salesforce counts them). */
describe('Salesforce calls per cycle on the embedded default', () => {
  it('makes exactly ceil(N / 200) collection calls for N Tasks below the Bulk threshold', async () => {
    e = await startEmbedded({
      world: { activities: 3_000 },
      settings: (s) => ({ ...s, salesforce: { bulkThreshold: 1_000_000 } }),
    });

    const run = await e.runCycle();

    const expected = expectedTasks(e);
    expect(reconcile(expected, tasksByActivity(e))).toEqual({ expected: expected.size, ...clean });
    expect(run.written).toBe(expected.size);
    expect(run.read).toBe(run.written + (run.skipped.noSalesforceRecord ?? 0));
    const sizes = e.local.salesforceSandbox!.stats.recordsPerCall('upsert');
    // Plus the org's time zone (Organization.TimeZoneSidKey), read once per process for ActivityDate.
    expect(run.calls.salesforce).toBe(Math.ceil(run.written / 200) + 1);
    expect(sizes.slice(0, -1).every((n) => n === 200)).toBe(true);
    expect(run.bulkJobs).toBeUndefined();
  });

  it('writes a large cycle with one Bulk API 2.0 job in at most 6 calls, every Task exactly once', async () => {
    e = await startEmbedded({
      world: { activities: 3_000 },
      settings: (s) => ({ ...s, salesforce: { bulkThreshold: 200 } }),
    });

    const run = await e.runCycle();

    const expected = expectedTasks(e);
    expect(reconcile(expected, tasksByActivity(e))).toEqual({ expected: expected.size, ...clean });
    expect(run).toMatchObject({ status: 'completed', written: expected.size, failed: 0, bulkJobs: 1 });
    expect(run.read).toBe(run.written + (run.skipped.noSalesforceRecord ?? 0));
    const sf = e.local.salesforceSandbox!;
    expect(sf.bulkJobs()).toEqual([
      expect.objectContaining({ state: 'JobComplete', numberRecordsFailed: 0 }),
    ]);
    // The first write batch may come before the run has read 200 activities: ≤ 1 collection call.
    expect(sf.stats.countByKind().upsert ?? 0).toBeLessThanOrEqual(1);
    const bulk = run.calls.salesforce - (sf.stats.countByKind().upsert ?? 0) - 1; // the org time-zone read
    expect(bulk).toBeLessThanOrEqual(6); // create, upload, close, status poll(s), successfulResults
  });
});
