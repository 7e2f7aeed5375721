import { afterEach, describe, expect, it } from 'vitest';
import { runTasksCommand } from '../../cli/commands/tasks.js';
import { seedSalesActivity } from '../../sandboxes/salesforce/sales-activity-seed.js';
import { DynamoDbRunReportStore } from '../../shared/adapters/dynamodb/run-report-store.js';
import type { SalesActivityDeps } from '../../shared/salesactivity/sync-sales-activity.js';
import { type Embedded, startEmbedded } from '../helpers/embedded.js';

/** Job 4a on the embedded default: Salesforce Tasks/Events → Marketo custom activities. */

let e: Embedded | undefined;
const ownTaskIds: string[] = [];
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

async function start(): Promise<Embedded> {
  e = await startEmbedded();
  const sf = e.local.salesforceSandbox!.state;
  seedSalesActivity(sf, { now: Date.now(), tasks: 150, events: 40 });
  // Tasks this product wrote (job 1): closed, carrying the Marketo activity id.
  const who = [...sf.leads.keys()][0]!;
  ownTaskIds.length = 0;
  for (let i = 0; i < 5; i++) {
    const saved = sf.create(
      'Task',
      {
        WhoId: who,
        Subject: `Opened Email: ${i}`,
        Status: 'Completed',
        Priority: 'Normal',
        ActivityDate: new Date().toISOString().slice(0, 10),
        Marketo_Activity_Id__c: `guid-own-${i}`,
      },
      { client: 'test', autoAssign: undefined, kind: 'test' },
    );
    ownTaskIds.push(String(saved.id));
  }
  // A converted Lead's activity resolves through its Contact (here: by the person's email).
  const converted = [...sf.tasks.values()].find((t) => t.IsClosed && String(t.WhoId ?? '').startsWith('00Q'));
  sf.convertLead(String(converted?.WhoId));
  return e;
}

/** Eligible records → the Marketo lead that must carry each (the newest lead linked to the WhoId). */
function expected(emb: Embedded, nowMs: number): Map<string, number> {
  const sf = emb.local.salesforceSandbox!.state;
  const leadFor = (whoId: string) =>
    emb.world.leads
      .filter((l) => l.sfdcLeadId === whoId || l.sfdcContactId === whoId)
      .reduce<number | undefined>((best, l) => (best === undefined || l.id > best ? l.id : best), undefined);
  const out = new Map<string, number>();
  for (const t of sf.tasks.values()) {
    if (!t.IsClosed || t.Marketo_Activity_Id__c || typeof t.WhoId !== 'string') continue;
    const lead = leadFor(t.WhoId);
    if (lead !== undefined) out.set(t.Id, lead);
  }
  for (const ev of sf.events.values()) {
    if (Date.parse(String(ev.EndDateTime).replace('+0000', 'Z')) > nowMs || typeof ev.WhoId !== 'string')
      continue;
    const lead = leadFor(ev.WhoId);
    if (lead !== undefined) out.set(ev.Id, lead);
  }
  return out;
}

/** Custom activities in the Marketo sandbox by primary attribute (the Salesforce record Id). */
function activitiesByRecord(emb: Embedded, typeId: number): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const a of emb.world.activities) {
    if (a.activityTypeId !== typeId) continue;
    const key = String(a.primaryAttributeValue);
    out.set(key, [...(out.get(key) ?? []), a.leadId]);
  }
  return out;
}

describe('tasks (job 4a) on the embedded default', () => {
  it('writes every eligible Task and Event exactly once on the right lead, none for our own Tasks', async () => {
    const emb = await start();
    const before = Date.now();
    const first = await runTasksCommand(emb.local);
    const second = await runTasksCommand(emb.local);

    const want = expected(emb, before);
    const got = activitiesByRecord(emb, first.activityTypeId!);
    expect(want.size).toBeGreaterThan(100);
    expect(got.size).toBe(want.size);
    for (const [recordId, leadId] of want) expect(got.get(recordId), recordId).toEqual([leadId]);
    // Recorded like the scheduled run (kind tasks), so `status` and the run history show it.
    const recorded = await new DynamoDbRunReportStore(
      emb.local.platform.doc,
      emb.local.platform.tables.runs,
    ).get('tasks', first.runId);
    expect(recorded).toMatchObject({ status: 'completed', counts: { written: first.written } });
    expect(ownTaskIds).toHaveLength(5);
    for (const id of ownTaskIds) {
      expect(emb.local.salesforceSandbox!.state.tasks.get(id)?.IsClosed).toBe(true);
      expect(got.has(id)).toBe(false);
    }
    expect(first).toMatchObject({ written: want.size, failed: 0 });
    expect(second.written).toBe(0);
    expect(first.typeActions).toEqual(['created', 'attributesCreated', 'approved']);
    expect(second.typeActions).toEqual([]);
  });

  it('creates no duplicate after a crash between the send and the ledger write', async () => {
    const emb = await start();
    let puts = 0;
    const crashOnce = (deps: SalesActivityDeps): SalesActivityDeps => ({
      ...deps,
      store: {
        ...deps.store,
        getWatermark: () => deps.store.getWatermark(),
        putWatermark: (iso) => deps.store.putWatermark(iso),
        getLedger: (ids) => deps.store.getLedger(ids),
        tryLease: (n, o, t) => deps.store.tryLease(n, o, t),
        releaseLease: (n, o) => deps.store.releaseLease(n, o),
        pendingRecords: () => deps.store.pendingRecords(),
        updatePending: (put, remove) => deps.store.updatePending(put, remove),
        putLedger: async (entries) => {
          puts += 1;
          if (puts === 2) throw new Error('simulated crash after the send');
          return deps.store.putLedger(entries);
        },
      },
    });
    await expect(runTasksCommand(emb.local, { wrapDeps: crashOnce })).rejects.toThrow('simulated crash');
    const after = await runTasksCommand(emb.local);

    const got = activitiesByRecord(emb, after.activityTypeId!);
    const duplicates = [...got.values()].filter((leads) => leads.length > 1).length;
    expect(duplicates).toBe(0);
    expect(after.recoveredByReadBack).toBeGreaterThan(0);
    expect(got.size).toBe(expected(emb, Date.now()).size);
  });

  it('creates and approves the custom activity type once when two runs start together', async () => {
    const emb = await start();
    const stats = emb.local.marketoSandbox!.stats;
    const [a, b] = await Promise.all([runTasksCommand(emb.local), runTasksCommand(emb.local)]);

    expect(stats.count('POST /rest/v1/activities/external/type.json')).toBe(1);
    const approvals = stats.requests.filter((r) => r.path.endsWith('/approve.json')).length;
    expect(approvals).toBe(1);
    expect(a.activityTypeId).toBe(b.activityTypeId);
  });

  it('writes a record skipped for want of a Marketo lead once the lead exists, exactly once, on a later run', async () => {
    const emb = await start();
    const sf = emb.local.salesforceSandbox!.state;
    const ctx = { client: 'test', autoAssign: undefined, kind: 'test' } as const;
    const email = 'later.person@example.test';
    const person = String(sf.create('Lead', { LastName: 'Later', Company: 'Acme', Email: email }, ctx).id);
    const task = sf.tasks.get(
      String(
        sf.create(
          'Task',
          {
            WhoId: person,
            Subject: 'Call later',
            Status: 'Completed',
            Priority: 'Normal',
            TaskSubtype: 'Call',
          },
          ctx,
        ).id,
      ),
    )!;
    // Changed three days ago: only the first run's look-back reads it, never a later run's overlap.
    task.SystemModstamp = new Date(Date.now() - 3 * 86_400_000).toISOString().replace('Z', '+0000');

    const first = await runTasksCommand(emb.local);
    expect(first.skipped.noMarketoLead).toBeGreaterThanOrEqual(1);
    expect(first.pending.waiting).toBe(first.skipped.noMarketoLead);
    const second = await runTasksCommand(emb.local);
    expect(second.read).toBe(0);
    expect(second.pending).toMatchObject({ revisited: first.pending.waiting, written: 0 });
    expect(activitiesByRecord(emb, first.activityTypeId!).has(task.Id)).toBe(false);

    const lead = emb.world.createLead({ email, sfdcType: 'Lead', sfdcLeadId: person });
    const third = await runTasksCommand(emb.local);
    const fourth = await runTasksCommand(emb.local);

    expect(third.pending).toMatchObject({ written: 1, waiting: first.pending.waiting - 1 });
    expect(third.written).toBe(1);
    expect(fourth.written).toBe(0);
    expect(fourth.pending.revisited).toBe(first.pending.waiting - 1);
    expect(activitiesByRecord(emb, first.activityTypeId!).get(task.Id)).toEqual([lead.id]);
  });

  it('continues a back-fill stopped by its time budget on the next runs, each record exactly once', async () => {
    const emb = await startEmbedded();
    e = emb;
    seedSalesActivity(emb.local.salesforceSandbox!.state, { now: Date.now(), tasks: 1_200, events: 100 });
    const before = Date.now();
    // A budget spent before the first send: each run sends one chunk (300), checkpoints, and stops.
    const tiny = (deps: SalesActivityDeps): SalesActivityDeps => ({ ...deps, budgetMs: 0 });
    const runs = [];
    for (let i = 0; i < 10; i++) {
      const run = await runTasksCommand(emb.local, { wrapDeps: tiny });
      runs.push(run);
      if (run.complete) break;
    }
    const want = expected(emb, before);
    expect(want.size).toBeGreaterThan(900);
    // One chunk of 300 records a run; a few of them have no person or no Marketo lead.
    expect(runs[0]?.complete).toBe(false);
    expect(runs[0]?.written).toBeGreaterThan(250);
    expect(runs[0]?.written).toBeLessThanOrEqual(300);
    expect(runs[0]!.remaining).toBeGreaterThan(600);
    expect(runs.at(-1)?.complete).toBe(true);
    expect(runs.length).toBeGreaterThanOrEqual(Math.ceil(want.size / 300));
    expect(runs.length).toBeLessThanOrEqual(Math.ceil(want.size / 300) + 1);
    expect(runs.reduce((n, r) => n + r.written, 0)).toBe(want.size);
    const got = activitiesByRecord(emb, runs[0]!.activityTypeId!);
    expect(got.size).toBe(want.size);
    for (const [recordId, leadId] of want) expect(got.get(recordId), recordId).toEqual([leadId]);
  });
});
