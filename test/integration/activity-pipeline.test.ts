import { afterEach, describe, expect, it } from 'vitest';
import { fault } from '../../sandboxes/marketo/fault-controller.js';
import type { ActivityDeps } from '../../shared/activities/activity-deps.js';
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

describe('activity pipeline on the embedded default', () => {
  it('turns every eligible activity into exactly one Task on the right WhoId, and skips the rest with a reason', async () => {
    e = await startEmbedded();

    const run = await e.runCycle();

    const expected = expectedTasks(e);
    expect(reconcile(expected, tasksByActivity(e))).toEqual({ expected: expected.size, ...clean });
    expect(expected.size).toBeGreaterThan(1000);
    expect(run.status).toBe('completed');
    expect(run.written).toBe(expected.size);
    expect(run.skipped.noSalesforceRecord).toBeGreaterThan(0);
    expect(run.read).toBe(run.written + (run.skipped.noSalesforceRecord ?? 0));
    expect(run.skipped.alreadyWritten ?? 0).toBe(0);
    expect(run.deadLetters).toEqual({ fetch: 0, write: 0 });
    // Task shape per SPEC: completed, dated, subject from the type's template.
    const task = [...e.local.salesforceSandbox!.state.tasks.values()][0]!;
    expect(task).toMatchObject({ Status: 'Completed', Priority: 'Normal' });
    expect(String(task.ActivityDate)).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('writes only new activities on the second cycle, and picks up late-committed ones inside the overlap', async () => {
    e = await startEmbedded();
    await e.runCycle();
    const firstCount = e.local.salesforceSandbox!.state.tasks.size;
    const now = Date.now();
    // New activity after the first run, plus a Send Email dated before the first run's bound that only becomes visible now.
    const fresh = e.world.appendActivities(40, { from: now - 1_000, to: now, typeIds: [2, 10, 11] });
    const lead = e.world.leads.find((l) => l.sfdcType === 'Lead' && !e!.world.deletedLeadIds.has(l.id))!;
    const late = e.world.addActivity({
      leadId: lead.id,
      activityDate: new Date(now - 20 * 60_000).toISOString(),
      activityTypeId: 6,
      primaryAttributeValue: 'Late Newsletter.Email',
      visibleAtMs: now,
    });

    const second = await e.runCycle();

    const expected = expectedTasks(e);
    expect(reconcile(expected, tasksByActivity(e))).toEqual({ expected: expected.size, ...clean });
    expect(e.local.salesforceSandbox!.state.tasks.size - firstCount).toBe(expected.size - firstCount);
    expect(second.written).toBe(expected.size - firstCount);
    expect(tasksByActivity(e).get(late.marketoGUID)?.[0]?.WhoId).toBe(lead.sfdcLeadId);
    expect(fresh.length).toBe(40);
    // The second cycle re-reads only the overlap, not the whole look-back.
    expect(second.read).toBeLessThan(200);
  });

  it('creates no duplicate when the fetch step crashes after sending to the write queue and before its checkpoint', async () => {
    e = await startEmbedded({ world: { activities: 1_200 }, visibilitySeconds: 2 });
    let crashes = 0;
    const wrapDeps = (deps: ActivityDeps): ActivityDeps => {
      const advance = deps.cursors.advanceChain.bind(deps.cursors);
      deps.cursors.advanceChain = async (...args) => {
        if (crashes < 3) {
          crashes++;
          throw new Error('simulated crash between send and checkpoint');
        }
        return advance(...args);
      };
      return deps;
    };

    const run = await e.runCycle({ wrapDeps });

    expect(crashes).toBe(3);
    const expected = expectedTasks(e);
    expect(reconcile(expected, tasksByActivity(e))).toEqual({ expected: expected.size, ...clean });
    expect(run.skipped.alreadyWritten ?? 0).toBeGreaterThan(0);
  });

  it('does not call a cycle complete while a stream whose run died before enqueueing it is still owned; the next run takes it over', async () => {
    e = await startEmbedded({ world: { activities: 800 } });
    // The first run dies right after claiming the second stream: the first stream's pages are
    // queued, the second stream's never are.
    let claims = 0;
    const dieAfterSecondClaim = (deps: ActivityDeps): ActivityDeps => {
      const claim = deps.cursors.claimStream.bind(deps.cursors);
      deps.cursors.claimStream = async (input) => {
        const claimed = await claim(input);
        if (++claims === 2) throw new Error('simulated crash after claiming the second stream');
        return claimed;
      };
      return deps;
    };
    await expect(e.runCycle({ wrapDeps: dieAfterSecondClaim })).rejects.toThrow('simulated crash');

    // The next run continues the queued pages; the orphaned stream is not caught up: incomplete.
    const second = await e.runCycle();
    expect(second.streams.map((s) => s.status)).toEqual(['busy', 'busy']);
    expect(second.status).toBe('incomplete');
    // With nothing queued, the run after it takes the stream over: every activity written once.
    const third = await e.runCycle();
    expect(third.status).toBe('completed');
    const expected = expectedTasks(e);
    expect(reconcile(expected, tasksByActivity(e))).toEqual({ expected: expected.size, ...clean });
  });

  it('creates no duplicate when the write step crashes after the upsert (before settling it, and before SQS delete)', async () => {
    e = await startEmbedded({ world: { activities: 1_200 }, visibilitySeconds: 2 });
    let ledgerCrashes = 0;
    let deleteCrashes = 0;
    const wrapDeps = (deps: ActivityDeps): ActivityDeps => {
      // The Tasks are in Salesforce; the attempt dies before its ledger write (or, for back-filled
      // activities that keep no done entry in externalId mode, before counting them).
      const upsert = deps.salesforce.upsert.bind(deps.salesforce);
      deps.salesforce.upsert = async (...args) => {
        const results = await upsert(...args);
        if (ledgerCrashes < 5) {
          ledgerCrashes++;
          throw new Error('simulated crash after upsert, before the ledger write');
        }
        return results;
      };
      return deps;
    };

    await e.runCycle({
      wrapDeps,
      beforeDelete: {
        write: async () => {
          if (deleteCrashes < 2) {
            deleteCrashes++;
            throw new Error('simulated crash after upsert, before SQS delete');
          }
        },
      },
    });

    expect([ledgerCrashes, deleteCrashes]).toEqual([5, 2]);
    const expected = expectedTasks(e);
    expect(reconcile(expected, tasksByActivity(e))).toEqual({ expected: expected.size, ...clean });
  });

  it('stays duplicate-free in ledger mode (no External ID) through a create whose response is lost', async () => {
    e = await startEmbedded({
      world: { activities: 1_000 },
      visibilitySeconds: 3,
      settings: (s) => ({ ...s, salesforce: { upsertMode: 'ledger' } }),
      salesforce: { taskActivityIdMode: 'plain-field' },
    });
    e.local.salesforceSandbox!.faults.inject('LOSE_RESPONSE', { count: 2, on: ['create'] });

    const run = await e.runCycle();

    const expected = expectedTasks(e);
    expect(reconcile(expected, tasksByActivity(e))).toEqual({ expected: expected.size, ...clean });
    expect(run.written).toBe(expected.size);
    expect(e.local.salesforceSandbox!.stats.countByKind().upsert ?? 0).toBe(0);
  });

  it('stays duplicate-free in ledger mode when SQS redelivers a message while its first attempt still runs', async () => {
    e = await startEmbedded({
      world: { activities: 600 },
      visibilitySeconds: 1,
      settings: (s) => ({ ...s, salesforce: { upsertMode: 'ledger' } }),
      salesforce: { taskActivityIdMode: 'plain-field' },
    });
    // Every Salesforce call outlasts the 1 s visibility timeout: copies of a write message overlap.
    e.local.salesforceSandbox!.faults.setLatency(1_500, 0);

    const run = await e.runCycle({ writeConcurrency: 6 });

    const expected = expectedTasks(e);
    expect(reconcile(expected, tasksByActivity(e))).toEqual({ expected: expected.size, ...clean });
    expect(run.written).toBe(expected.size);
  });

  it('survives Marketo 606, 615, 602, 5xx and dropped connections, and Salesforce lock and session errors', async () => {
    e = await startEmbedded({ world: { activities: 1_500 }, visibilitySeconds: 3 });
    const mk = e.local.marketoSandbox!;
    mk.faults.failNext(2, fault.code('606'), 'activities.json');
    mk.faults.failNext(2, fault.code('615'), 'leads.json');
    mk.faults.failNext(1, fault.code('604'));
    mk.faults.failNext(1, fault.http(500), 'activities.json');
    mk.faults.failNext(1, fault.drop(), 'activities.json');
    mk.faults.failNext(1, fault.pagingTokenRejected(), 'activities.json');
    mk.expireTokens();
    const sf = e.local.salesforceSandbox!;
    sf.faults.inject('UNABLE_TO_LOCK_ROW', { count: 25 });
    sf.faults.inject('INVALID_SESSION_ID', { count: 1 });
    sf.faults.inject('HTTP_503', { count: 2, on: ['upsert'] });

    const run = await e.runCycle();

    const expected = expectedTasks(e);
    expect(reconcile(expected, tasksByActivity(e))).toEqual({ expected: expected.size, ...clean });
    expect(run.retried).toBeGreaterThan(0);
    expect(run.failed).toBe(0);
    expect(mk.faults.fired.length).toBeGreaterThanOrEqual(8);
  });

  it('never lets more Marketo calls through than the budget, in any rolling window or at once', async () => {
    e = await startEmbedded({
      world: { activities: 3_000 },
      settings: (s) => ({ ...s, marketo: { callsPer20s: 20, maxConcurrent: 3, batchSize: 100 } }),
    });

    await e.runCycle({ fetchConcurrency: 6, writeConcurrency: 6 });

    const stats = e.local.marketoSandbox!.stats;
    expect(stats.countedCalls).toBeGreaterThan(40);
    expect(stats.maxInWindowObserved).toBeLessThanOrEqual(20);
    expect(stats.maxConcurrentObserved).toBeLessThanOrEqual(3);
    expect(stats.count('activities.json', '606') + stats.count('activities.json', '615')).toBe(0);
  });
});
