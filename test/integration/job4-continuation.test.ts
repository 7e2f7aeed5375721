import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runVerifyJobCommand } from '../../cli/commands/verify-jobs.js';
import { seedSalesActivity } from '../../sandboxes/salesforce/sales-activity-seed.js';
import { DynamoDbCursorStore } from '../../shared/adapters/dynamodb/cursor-store.js';
import { DynamoDbRunReportStore } from '../../shared/adapters/dynamodb/run-report-store.js';
import type { CampaignSyncDeps } from '../../shared/campaigns/sync-campaigns.js';
import {
  CAMPAIGNS_CONTINUATION_JOB,
  SALES_ACTIVITY_CONTINUATION_JOB,
} from '../../shared/config/job-schedule.js';
import { recordJobCompleted } from '../../shared/observability/metrics.js';
import { type CampaignRun, campaignJob } from '../../shared/runtime/campaign-runtime.js';
import {
  continuationCursorId,
  type IdleRun,
  type JobContinuation,
  UnknownJobError,
} from '../../shared/runtime/job-continuation.js';
import type { JobHost } from '../../shared/runtime/job-run.js';
import { type SalesActivityRun, salesActivityJob } from '../../shared/runtime/sales-activity-runtime.js';
import type { SalesActivityDeps } from '../../shared/salesactivity/sync-sales-activity.js';
import type { SalesActivityVerifyReport } from '../../shared/salesactivity/verify-sales-activity.js';
import { type Embedded, startEmbedded } from '../helpers/embedded.js';

/**
 * Job 4's continuation ticks (jobs `tasks-continue`, `campaigns-continue`, every 15 minutes) on the
 * embedded default, through the functions' job handlers: a tick runs the job only when its last run
 * left a back-fill open and no invocation holds it; JobCompleted is emitted once, by the run that
 * finishes the back-fill.
 */

vi.mock('../../shared/observability/metrics.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../shared/observability/metrics.js')>()),
  recordJobCompleted: vi.fn(),
}));

let e: Embedded | undefined;
beforeEach(() => vi.mocked(recordJobCompleted).mockClear());
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

const hostOf = (emb: Embedded): JobHost => ({
  platform: emb.local.platform,
  credentials: async () => emb.local.credentials,
});
const cursorsOf = (emb: Embedded) =>
  new DynamoDbCursorStore(emb.local.platform.doc, emb.local.platform.tables.cursors);
const continuationOf = async (emb: Embedded, job: 'tasks' | 'campaigns') =>
  cursorsOf(emb).getValue<JobContinuation>(continuationCursorId(job));
const runsOf = (emb: Embedded, kind: 'tasks' | 'campaigns') =>
  new DynamoDbRunReportStore(emb.local.platform.doc, emb.local.platform.tables.runs).recent(kind, 50);

/** A budget spent before the first send: each run sends one chunk (300 records), checkpoints, stops. */
const tinyTasks = (deps: SalesActivityDeps): SalesActivityDeps => ({ ...deps, budgetMs: 0 });
const tinyCampaigns = (deps: CampaignSyncDeps): CampaignSyncDeps => ({
  ...deps,
  budgetMs: 0,
  chunkRows: 300,
});

const tick = { runId: 'tick', job: SALES_ACTIVITY_CONTINUATION_JOB };
const isIdle = (r: SalesActivityRun | CampaignRun | IdleRun): r is IdleRun => 'status' in r;

async function startTasks(): Promise<Embedded> {
  e = await startEmbedded();
  seedSalesActivity(e.local.salesforceSandbox!.state, { now: Date.now(), tasks: 1_200, events: 100 });
  return e;
}

/** Job 4a's verify over the whole look-back: every eligible record has exactly one activity. */
async function verifyTasks(emb: Embedded): Promise<SalesActivityVerifyReport> {
  return (await runVerifyJobCommand(emb.local, 'tasks')).summary as unknown as SalesActivityVerifyReport;
}

describe('job 4 continuation ticks (embedded default)', () => {
  it('a tick with nothing open does nothing: no run, no write, no metric', async () => {
    const emb = await startTasks();
    const sf = emb.local.salesforceSandbox!.state;
    const activities = emb.world.activities.length;

    const tasks = await salesActivityJob(hostOf(emb), tick);
    const campaigns = await campaignJob(hostOf(emb), { runId: 'tick', job: CAMPAIGNS_CONTINUATION_JOB });

    expect(tasks).toEqual({ status: 'idle', reason: 'nothing-open' });
    expect(campaigns).toEqual({ status: 'idle', reason: 'nothing-open' });
    expect(await continuationOf(emb, 'tasks')).toBeUndefined();
    expect(await continuationOf(emb, 'campaigns')).toBeUndefined();
    expect(await runsOf(emb, 'tasks')).toEqual([]);
    expect(await runsOf(emb, 'campaigns')).toEqual([]);
    expect(emb.world.activities.length).toBe(activities);
    expect(sf.campaigns.CampaignMember.size).toBe(0);
    expect(recordJobCompleted).not.toHaveBeenCalled();
  });

  it('tasks: a back-fill stopped by its budget is finished by ticks, each record exactly once, JobCompleted once', async () => {
    const emb = await startTasks();

    const scheduled = await salesActivityJob(hostOf(emb), { runId: 'daily', job: 'tasks' }, undefined, {
      wrapDeps: tinyTasks,
    });
    expect(isIdle(scheduled) ? undefined : scheduled.report.complete).toBe(false);
    expect((await continuationOf(emb, 'tasks'))?.value).toEqual({ open: true });
    expect(recordJobCompleted).not.toHaveBeenCalled();

    const ticks: (SalesActivityRun | IdleRun)[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await salesActivityJob(hostOf(emb), { ...tick, runId: `tick-${i}` }, undefined, {
        wrapDeps: tinyTasks,
      });
      ticks.push(r);
      if (isIdle(r)) break;
    }

    const ran = ticks.filter((r): r is SalesActivityRun => !isIdle(r));
    expect(ran.length).toBeGreaterThan(2);
    expect(ran.slice(0, -1).every((r) => !r.report.complete)).toBe(true);
    expect(ran.at(-1)?.report.complete).toBe(true);
    expect(ticks.at(-1)).toEqual({ status: 'idle', reason: 'nothing-open' });
    expect((await continuationOf(emb, 'tasks'))?.value).toEqual({ open: false });
    expect(recordJobCompleted).toHaveBeenCalledTimes(1);
    expect(recordJobCompleted).toHaveBeenCalledWith('tasks');
    // Every working invocation is a run in the runs table; the idle tick is not.
    expect((await runsOf(emb, 'tasks')).length).toBe(1 + ran.length);
    const verified = await verifyTasks(emb);
    expect(verified.counts.eligible).toBeGreaterThan(900);
    expect(verified.counts).toMatchObject({
      exactlyOne: verified.counts.eligible,
      missing: 0,
      duplicates: 0,
      wrongLead: 0,
    });
    const added = [scheduled, ...ran].reduce((n, r) => n + (isIdle(r) ? 0 : r.report.added), 0);
    expect(added).toBe(verified.counts.eligible);
  });

  it('tasks: a held job is left alone by ticks and by the daily run, and taken once the hold has expired', async () => {
    const emb = await startTasks();
    await salesActivityJob(hostOf(emb), { runId: 'daily', job: 'tasks' }, undefined, { wrapDeps: tinyTasks });
    const item = await continuationOf(emb, 'tasks');
    // Another invocation runs the job (its hold ends in 10 minutes).
    const heldUntil = new Date(Date.now() + 10 * 60_000).toISOString();
    expect(
      await cursorsOf(emb).putValue<JobContinuation>(
        continuationCursorId('tasks'),
        { open: true, heldBy: 'other', heldUntil },
        item?.version,
      ),
    ).toBe(true);
    const activities = emb.world.activities.length;

    const whileHeld = await salesActivityJob(hostOf(emb), tick, undefined, { wrapDeps: tinyTasks });
    const dailyWhileHeld = await salesActivityJob(hostOf(emb), { runId: 'daily-2', job: 'tasks' });
    const activitiesWhileHeld = emb.world.activities.length;
    const afterHold = await salesActivityJob(hostOf(emb), tick, undefined, {
      wrapDeps: tinyTasks,
      now: () => Date.now() + 11 * 60_000,
    });

    expect(whileHeld).toEqual({ status: 'idle', reason: 'held' });
    expect(dailyWhileHeld).toEqual({ status: 'idle', reason: 'held' });
    expect(activitiesWhileHeld).toBe(activities);
    expect((await runsOf(emb, 'tasks')).length).toBe(2);
    expect(isIdle(afterHold)).toBe(false);
    expect(emb.world.activities.length).toBeGreaterThan(activities);
    // Taken and given back: no hold left, still open (one chunk a run).
    expect((await continuationOf(emb, 'tasks'))?.value).toEqual({ open: true });
  });

  it('tasks: a tick that loses the hold to another invocation ends quietly; the next tick continues', async () => {
    const emb = await startTasks();
    await salesActivityJob(hostOf(emb), { runId: 'daily', job: 'tasks' }, undefined, { wrapDeps: tinyTasks });
    const { doc, tables } = emb.local.platform;
    // Another invocation writes the continuation cursor between this tick's read and its hold.
    let raced = false;
    const racingDoc = Object.assign(Object.create(doc) as DynamoDBDocumentClient, {
      send: async (command: { input: { TableName?: string } }) => {
        if (
          !raced &&
          command.constructor.name === 'PutCommand' &&
          command.input.TableName === tables.cursors
        ) {
          raced = true;
          const other = await cursorsOf(emb).getValue<JobContinuation>(continuationCursorId('tasks'));
          await cursorsOf(emb).putValue(
            continuationCursorId('tasks'),
            { open: true, heldBy: 'other', heldUntil: new Date(Date.now() - 1).toISOString() },
            other?.version,
          );
        }
        return (doc.send as (c: unknown) => Promise<unknown>).call(doc, command);
      },
    });
    const activities = emb.world.activities.length;

    const lost = await salesActivityJob(
      { ...hostOf(emb), platform: { ...emb.local.platform, doc: racingDoc } },
      tick,
      undefined,
      { wrapDeps: tinyTasks },
    );

    expect(raced).toBe(true);
    expect(lost).toEqual({ status: 'idle', reason: 'lost-race' });
    expect(emb.world.activities.length).toBe(activities);
    expect((await runsOf(emb, 'tasks')).length).toBe(1);
    const next = await salesActivityJob(hostOf(emb), tick, undefined, { wrapDeps: tinyTasks });
    expect(isIdle(next)).toBe(false);
  });

  it('tasks: a run that fails gives the hold back and leaves the job open for the next tick', async () => {
    const emb = await startTasks();
    await salesActivityJob(hostOf(emb), { runId: 'daily', job: 'tasks' }, undefined, { wrapDeps: tinyTasks });
    const failing = (deps: SalesActivityDeps): SalesActivityDeps => ({
      ...tinyTasks(deps),
      source: {
        ...deps.source,
        readEligible: async () => {
          throw new Error('Salesforce is down');
        },
      },
    });

    await expect(salesActivityJob(hostOf(emb), tick, undefined, { wrapDeps: failing })).rejects.toThrow(
      'Salesforce is down',
    );

    expect((await continuationOf(emb, 'tasks'))?.value).toEqual({ open: true });
    // The next tick (every invocation has its own run id).
    const next = await salesActivityJob(hostOf(emb), { ...tick, runId: 'tick-2' }, undefined, {
      wrapDeps: tinyTasks,
    });
    expect(isIdle(next)).toBe(false);
  });

  it('two ticks at once: one runs the job, the other does nothing', async () => {
    const emb = await startTasks();
    await salesActivityJob(hostOf(emb), { runId: 'daily', job: 'tasks' }, undefined, { wrapDeps: tinyTasks });

    const both = await Promise.all([
      salesActivityJob(hostOf(emb), { ...tick, runId: 'a' }, undefined, { wrapDeps: tinyTasks }),
      salesActivityJob(hostOf(emb), { ...tick, runId: 'b' }, undefined, { wrapDeps: tinyTasks }),
    ]);

    expect(both.filter(isIdle)).toHaveLength(1);
    expect(['held', 'lost-race']).toContain(both.find(isIdle)?.reason);
    const verified = await verifyTasks(emb);
    expect(verified.counts.duplicates).toBe(0);
  });

  it.each([
    ['sync-sales-activity', () => salesActivityJob(hostOf(e!), { runId: 'x', job: 'campaigns-continue' })],
    ['sync-campaigns', () => campaignJob(hostOf(e!), { runId: 'x', job: 'tasks' })],
  ] as const)('%s refuses a job it does not run, touching nothing', async (_fn, invoke) => {
    const emb = await startTasks();

    await expect(invoke()).rejects.toThrow(UnknownJobError);
    await expect(invoke()).rejects.toThrow(/is none of them\. Nothing was run\./);
    expect(await continuationOf(emb, 'tasks')).toBeUndefined();
    expect(await continuationOf(emb, 'campaigns')).toBeUndefined();
    expect(await runsOf(emb, 'tasks')).toEqual([]);
    expect(await runsOf(emb, 'campaigns')).toEqual([]);
  });

  it('campaigns: a back-fill stopped by its budget is finished by ticks, one member per person per Campaign, JobCompleted once', async () => {
    e = await startEmbedded();
    const emb = e;
    const host = hostOf(emb);
    const campaignTick = { runId: 'tick', job: CAMPAIGNS_CONTINUATION_JOB };

    const scheduled = await campaignJob(host, { runId: 'daily', job: 'campaigns' }, undefined, {
      wrapDeps: tinyCampaigns,
    });
    expect(isIdle(scheduled) ? undefined : scheduled.report.complete).toBe(false);
    expect((await continuationOf(emb, 'campaigns'))?.value).toEqual({ open: true });

    const ticks: (CampaignRun | IdleRun)[] = [];
    for (let i = 0; i < 30; i++) {
      const r = await campaignJob(host, { ...campaignTick, runId: `tick-${i}` }, undefined, {
        wrapDeps: tinyCampaigns,
      });
      ticks.push(r);
      if (isIdle(r)) break;
    }

    const ran = ticks.filter((r): r is CampaignRun => !isIdle(r));
    expect(ran.length).toBeGreaterThan(2);
    expect(ran.at(-1)?.report.complete).toBe(true);
    expect(ticks.at(-1)).toEqual({ status: 'idle', reason: 'nothing-open' });
    expect(recordJobCompleted).toHaveBeenCalledTimes(1);
    expect(recordJobCompleted).toHaveBeenCalledWith('campaigns');
    expect((await runsOf(emb, 'campaigns')).length).toBe(1 + ran.length);
    const verified = await runVerifyJobCommand(emb.local, 'campaigns');
    expect(verified.exitCode).toBe(0);
    const sf = emb.local.salesforceSandbox!.state;
    const pairs = [...sf.campaigns.CampaignMember.values()].map(
      (m) => `${m.CampaignId}|${m.ContactId ?? m.LeadId}`,
    );
    expect(pairs.length).toBeGreaterThan(500);
    expect(new Set(pairs).size).toBe(pairs.length);
  });
});
