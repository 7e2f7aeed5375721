import { afterEach, describe, expect, it } from 'vitest';
import { runVerifyCommand } from '../../cli/commands/verify.js';
import { KEY_PREFIX } from '../../sandboxes/salesforce/salesforce-ids.js';
import { verifyTasks } from '../../shared/activities/verify-tasks.js';
import { DynamoDbLedgerStore } from '../../shared/adapters/dynamodb/ledger-store.js';
import { createScheduleActivitySync } from '../../shared/runtime/activity-handlers.js';
import { activityDeps, vendorClients } from '../../shared/runtime/activity-runtime.js';
import { type Embedded, expectedTasks, startEmbedded } from '../helpers/embedded.js';

let e: Embedded | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

const SMALL = { people: 100, activities: 500 };
const none = { missing: 0, duplicates: 0, orphanTasks: 0, orphanLedgerEntries: 0, wrongWhoId: 0 };

async function ledgerSize(env: Embedded): Promise<number> {
  let n = 0;
  for await (const _ of new DynamoDbLedgerStore(
    env.local.platform.doc,
    env.local.platform.tables.ledger,
  ).scanAll())
    n++;
  return n;
}

function deps(env: Embedded) {
  return activityDeps(env.local.platform, vendorClients(env.local.platform, env.local.credentials));
}

describe('sync verify on the embedded default', () => {
  it('is clean after a cycle: every eligible activity counted, skipped ones not missing, exit 0', async () => {
    e = await startEmbedded({ world: SMALL });
    const run = await e.runCycle();

    const result = await runVerifyCommand(e.local);

    const window = result.summary.window as { since: string; until: string };
    const expected = expectedTasks(e, {
      sinceMs: Date.parse(window.since),
      untilMs: Date.parse(window.until),
    });
    expect(result.exitCode).toBe(0);
    expect(result.summary).toMatchObject({
      command: 'verify',
      clean: true,
      counts: { ...none, eligible: expected.size, tasks: expected.size },
      window: { untilFrom: 'watermark' },
    });
    const counts = result.summary.counts as { activities: number; skipped: Record<string, number> };
    expect(counts.skipped.noSalesforceRecord).toBe(run.skipped.noSalesforceRecord);
    expect(counts.activities).toBe(run.read);
    expect(result.lines.at(-1)).toMatch(/^Clean/);
  });

  it('finds each injected discrepancy by id (deleted, duplicated, orphan, moved Task) and changes nothing', async () => {
    e = await startEmbedded({ world: SMALL });
    // Activities inside the overlap keep a done ledger entry (a later cycle re-reads them).
    const recent = e.world.appendActivities(5, {
      from: Date.now() - 10 * 60_000,
      to: Date.now() - 60_000,
      typeIds: [10],
    });
    await e.runCycle();
    const store = e.local.salesforceSandbox!.state;
    const ours = [...store.tasks.values()].filter((t) => typeof t.Marketo_Activity_Id__c === 'string');
    const deleted = ours.find((t) => recent.some((a) => a.marketoGUID === t.Marketo_Activity_Id__c))!;
    const [duplicated, moved] = ours.filter((t) => t !== deleted) as [(typeof ours)[0], (typeof ours)[0]];
    const otherWho = ours.find((t) => t.WhoId !== moved.WhoId)!.WhoId as string;
    // 1. A Task deleted in Salesforce.
    store.tasks.delete(deleted.Id);
    // 2. A second Task for one activity (as a non-unique field would allow).
    const dupId = store.ids.next(KEY_PREFIX.Task);
    store.tasks.set(dupId, { ...duplicated, Id: dupId });
    // 3. A Task whose activity id matches no Marketo activity.
    const orphanId = store.ids.next(KEY_PREFIX.Task);
    store.tasks.set(orphanId, { ...moved, Id: orphanId, Marketo_Activity_Id__c: 'not-a-marketo-activity' });
    // 4. A Task moved to another person.
    store.tasks.set(moved.Id, { ...moved, WhoId: otherWho });
    const tasksBefore = JSON.stringify([...store.tasks.values()]);
    const ledgerBefore = await ledgerSize(e);
    const writesBefore = store.writeLog.length;

    const result = await runVerifyCommand(e.local);

    expect(result.exitCode).toBe(1);
    expect(result.summary).toMatchObject({
      clean: false,
      counts: { missing: 1, duplicates: 1, orphanTasks: 1, orphanLedgerEntries: 1, wrongWhoId: 1 },
      missing: [{ marketoGUID: deleted.Marketo_Activity_Id__c, ledger: 'done' }],
      duplicates: [
        { marketoGUID: duplicated.Marketo_Activity_Id__c, taskIds: [duplicated.Id, dupId].sort() },
      ],
      orphanTasks: [{ taskId: orphanId, marketoGUID: 'not-a-marketo-activity' }],
      orphanLedgerEntries: [{ marketoGUID: deleted.Marketo_Activity_Id__c, taskId: deleted.Id }],
      wrongWhoId: [
        {
          marketoGUID: moved.Marketo_Activity_Id__c,
          taskId: moved.Id,
          whoId: otherWho,
          expected: moved.WhoId,
        },
      ],
    });
    expect(result.lines).toContain('DISCREPANCIES FOUND:');
    // Read-only: nothing written anywhere.
    expect(JSON.stringify([...store.tasks.values()])).toBe(tasksBefore);
    expect(store.writeLog.length).toBe(writesBefore);
    expect(await ledgerSize(e)).toBe(ledgerBefore);
  });

  it('runs in the scheduled step behind activities.verify.nightly, up to the last completed cycle only', async () => {
    e = await startEmbedded({
      world: SMALL,
      settings: (s) => ({ ...s, activities: { ...s.activities, verify: { nightly: true, days: 90 } } }),
    });
    await e.runCycle();
    const now = Date.now();
    // Activities newer than the last cycle: the next cycle writes them, so they are not missing.
    e.world.appendActivities(25, { from: now - 500, to: now, typeIds: [2, 10] });
    const on = deps(e);
    const off = {
      ...on,
      settings: {
        ...on.settings,
        activities: { ...on.settings.activities, verify: { nightly: false, days: 90 } },
      },
    };

    const started = await createScheduleActivitySync(on)();
    const skipped = await createScheduleActivitySync(off, { takeOverAfterMs: 0 })();
    const toNow = await verifyTasks(on, { until: new Date(now + 1_000) });

    expect(started.verify).toMatchObject({ ...none, eligible: expect.any(Number) });
    expect(skipped.verify).toBeUndefined();
    const report = await on.runs.get('activities', started.runId);
    expect(report?.counts).toMatchObject({
      'verify.runs': 1,
      'verify.eligible': started.verify!.eligible,
    });
    expect(report?.counts['verify.missing'] ?? 0).toBe(0);
    expect((await on.runs.get('activities', skipped.runId))?.counts).not.toHaveProperty(['verify.runs']);
    expect(toNow.counts.missing).toBeGreaterThan(0);
    expect(toNow.counts.missing).toBe(toNow.counts.eligible - started.verify!.eligible);
  });

  it('checks ledger mode by the Task ids the ledger recorded', async () => {
    e = await startEmbedded({
      world: SMALL,
      settings: (s) => ({ ...s, salesforce: { ...s.salesforce, upsertMode: 'ledger' } }),
      salesforce: { taskActivityIdMode: 'plain-field' },
    });
    await e.runCycle();
    const clean = await verifyTasks(deps(e));
    const store = e.local.salesforceSandbox!.state;
    const task = [...store.tasks.values()].find((t) => typeof t.Marketo_Activity_Id__c === 'string')!;
    // The activity id cleared by hand: only the ledger still links the Task to its activity.
    store.tasks.set(task.Id, { ...task, Marketo_Activity_Id__c: null });

    const cleared = await verifyTasks(deps(e));

    expect(clean).toMatchObject({ clean: true, upsertMode: 'ledger', counts: none });
    expect(cleared).toMatchObject({ clean: true, counts: { ...none, tasks: clean.counts.tasks } });
  });
});
