import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPT_OUT_CONTINUATION_JOB, OPT_OUT_FULL_JOB } from '../../../shared/config/job-schedule.js';
import { type MetricDefinition, type MetricsSink, noMetrics } from '../../../shared/observability/metrics.js';
import { FULL_CURSOR_ID, type FullAlignmentCursor } from '../../../shared/optouts/full-alignment.js';
import type { OptOutDeps } from '../../../shared/optouts/opt-out-deps.js';
import {
  OPT_OUT_CURSOR_ID,
  type OptOutCursor,
  type OptOutRunReport,
  reconcileOptOuts,
} from '../../../shared/optouts/reconcile.js';
import { UnknownJobError } from '../../../shared/runtime/job-continuation.js';
import { reconcileOptOutsJob } from '../../../shared/runtime/opt-out-handlers.js';
import { type Harness, startHarness, uniqueEmail } from './harness.js';

/**
 * The continuation schedule (job `optouts-continue`, every 15 minutes) on the embedded default: it
 * resumes an open night no invocation holds, leaves a held one alone, never starts a night, and
 * metrics count a night once, when it completes.
 */

const continuation = { runId: 'tick', job: OPT_OUT_CONTINUATION_JOB };

function recordingSink(): MetricsSink & { added: [string, number][] } {
  const added: [string, number][] = [];
  return { added, add: (m: MetricDefinition, v: number) => added.push([m.name, v]) };
}

describe('opt-out night continuation (embedded default)', () => {
  let h: Harness;
  const cursor = async () => (await h.deps.cursors.getValue<OptOutCursor>(OPT_OUT_CURSOR_ID))?.value;

  beforeAll(async () => {
    h = await startHarness({ people: 40 });
    await reconcileOptOuts(h.deps);
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('a tick with no open night does nothing', async () => {
    const before = await h.deps.cursors.getValue<OptOutCursor>(OPT_OUT_CURSOR_ID);

    const result = await reconcileOptOutsJob(h.deps, continuation);

    expect(result).toEqual({ status: 'idle' });
    expect((await h.deps.cursors.getValue<OptOutCursor>(OPT_OUT_CURSOR_ID))?.version).toBe(before?.version);
  });

  it('a night cut short is released by its invocation and finished by the next tick, metrics once', async () => {
    const e = uniqueEmail('continued');
    const p = h.person({ email: e, sfContacts: [e] });
    h.world.recordLeadChange(p.leads[0]!.id, { unsubscribed: true, at: Date.now() });
    const sink = recordingSink();

    // The scheduled night stops after one chunk (its budget spent).
    const first = (await reconcileOptOutsJob(h.deps, { runId: 'night-1' }, sink, {
      maxChunks: 1,
    })) as OptOutRunReport;
    const released = await cursor();
    expect(first.status).toBe('continued');
    expect(released?.night?.heldUntil).toBeUndefined();
    expect(sink.added).toEqual([]);

    // Ticks continue it until it completes (each invocation here has a one-chunk budget too).
    const ticks: Awaited<ReturnType<typeof reconcileOptOutsJob>>[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await reconcileOptOutsJob(h.deps, continuation, sink, { maxChunks: 1 });
      ticks.push(r);
      if (r.status !== 'continued') break;
      expect(sink.added).toEqual([]); // a running total is not emitted
    }

    const last = ticks.at(-1) as OptOutRunReport;
    expect(last.status).toBe('completed');
    expect(last.runId).toBe(first.runId);
    expect(last.invocations).toBe(ticks.length + 1);
    expect(h.sfOptOut('Contact', p.sfContactIds[0]!)).toBe(true);
    expect((await cursor())?.night).toBeUndefined();
    expect(sink.added.filter(([name]) => name.includes('OptOutsApplied')).length).toBeGreaterThan(0);
    expect(await reconcileOptOutsJob(h.deps, continuation)).toEqual({ status: 'idle' });
  });

  it('leaves a night held by a running invocation alone, and takes it once the hold has expired', async () => {
    const e = uniqueEmail('held');
    const p = h.person({ email: e, sfContacts: [e] });
    h.world.recordLeadChange(p.leads[0]!.id, { unsubscribed: true, at: Date.now() });
    await reconcileOptOuts(h.deps, { maxChunks: 1 });
    const item = await h.deps.cursors.getValue<OptOutCursor>(OPT_OUT_CURSOR_ID);
    const night = item?.value.night;
    expect(night).toBeDefined();
    // Another invocation is running it (its hold ends in 10 minutes).
    const heldUntil = new Date(Date.now() + 10 * 60_000).toISOString();
    expect(
      await h.deps.cursors.putValue(
        OPT_OUT_CURSOR_ID,
        { ...item?.value, night: { ...night, heldUntil } },
        item?.version,
      ),
    ).toBe(true);

    const whileHeld = await reconcileOptOutsJob(h.deps, continuation);
    const later = { ...h.deps, now: () => new Date(Date.now() + 11 * 60_000) };
    const afterHold = await reconcileOptOutsJob(later, continuation);

    expect(whileHeld).toEqual({ status: 'idle' });
    expect(afterHold.status).toBe('completed');
    expect(h.sfOptOut('Contact', p.sfContactIds[0]!)).toBe(true);
  });

  it('a tick that loses the night to another invocation ends quietly (no error, no retry)', async () => {
    const e = uniqueEmail('busy');
    const p = h.person({ email: e, sfContacts: [e] });
    h.world.recordLeadChange(p.leads[0]!.id, { unsubscribed: true, at: Date.now() });
    await reconcileOptOuts(h.deps, { maxChunks: 1 });
    const cursors = h.deps.cursors;
    // Another invocation writes the checkpoint between this tick's read and its write.
    const racing: OptOutDeps = {
      ...h.deps,
      cursors: Object.assign(Object.create(cursors) as typeof cursors, { putValue: async () => false }),
    };

    const result = await reconcileOptOutsJob(racing, continuation);

    expect(result).toEqual({ status: 'idle' });
    expect((await cursor())?.night).toBeDefined();
    // The night is finished by the next tick.
    expect((await reconcileOptOutsJob(h.deps, continuation)).status).toBe('completed');
    expect((await cursor())?.night).toBeUndefined();
    expect(h.sfOptOut('Contact', p.sfContactIds[0]!)).toBe(true);
  });

  it('job optouts-full starts the first-enable alignment in AWS; ticks continue it to the end, never while held', async () => {
    // A year-old Marketo unsubscribe its Salesforce Lead never learnt: older than any night's window.
    const e = uniqueEmail('full.lambda');
    const p = h.person({ email: e, sfLeads: [e] });
    h.world.recordLeadChange(p.leads[0]!.id, { unsubscribed: true, at: Date.now() - 400 * 86_400_000 });
    const fullCursor = () => h.deps.cursors.getValue<FullAlignmentCursor>(FULL_CURSOR_ID);

    // Invoked by hand, with a one-chunk budget: it starts, checkpoints and releases its hold.
    // The invocation's idGap (as `--id-gap`): the harness's leads start at id 1,000.
    const first = await reconcileOptOutsJob(
      h.deps,
      { runId: 'manual', job: OPT_OUT_FULL_JOB, idGap: 1500 },
      noMetrics,
      { maxChunks: 1 },
    );
    const released = await fullCursor();
    // Another invocation holds it: a tick leaves it alone.
    const heldUntil = new Date(Date.now() + 10 * 60_000).toISOString();
    const open = released?.value.open;
    expect(open).toBeDefined();
    expect(
      await h.deps.cursors.putValue(FULL_CURSOR_ID, { open: { ...open!, heldUntil } }, released?.version),
    ).toBe(true);
    const whileHeld = await reconcileOptOutsJob(h.deps, continuation, noMetrics, { maxChunks: 3 });
    const heldVersion = (await fullCursor())?.version;
    // Once the hold has expired, ticks continue it until it completes.
    const later = { ...h.deps, now: () => new Date(Date.now() + 11 * 60_000) };
    const ticks: Awaited<ReturnType<typeof reconcileOptOutsJob>>[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await reconcileOptOutsJob(later, continuation, noMetrics, { maxChunks: 3 });
      ticks.push(r);
      if (r.status !== 'continued') break;
    }

    expect(first).toMatchObject({ kind: 'optouts-full', status: 'continued' });
    expect(released?.value.open?.heldUntil).toBeUndefined();
    expect(released?.value.open?.idGap).toBe(1500);
    expect(whileHeld).toEqual({ status: 'idle' });
    expect(heldVersion).toBe((released?.version ?? 0) + 1);
    const last = ticks.at(-1);
    expect(last).toMatchObject({ kind: 'optouts-full', status: 'completed' });
    expect(last && 'runId' in last && last.runId).toBe(first.status !== 'idle' && first.runId);
    expect(h.sfOptOut('Lead', p.sfLeadIds[0]!)).toBe(true);
    expect((await fullCursor())?.value.open).toBeUndefined();
    expect(await reconcileOptOutsJob(h.deps, continuation)).toEqual({ status: 'idle' });
  });

  it('refuses a job it does not run, and runs nothing', async () => {
    const nightly = (await h.deps.cursors.getValue<OptOutCursor>(OPT_OUT_CURSOR_ID))?.version;

    const refused = reconcileOptOutsJob(h.deps, { runId: 'typo', job: 'optouts-ful' });

    await expect(refused).rejects.toThrow(UnknownJobError);
    await expect(refused).rejects.toThrow(/"optouts-ful" is none of them/);
    expect((await h.deps.cursors.getValue<OptOutCursor>(OPT_OUT_CURSOR_ID))?.version).toBe(nightly);
  });
});
