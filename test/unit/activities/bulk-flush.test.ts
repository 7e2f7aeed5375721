import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type SalesforceSandbox,
  startSalesforceSandbox,
} from '../../../sandboxes/salesforce/salesforce-sandbox.js';
import {
  type FlushDeps,
  flushOnSignal,
  flushStagedTasks,
  flushUntilEmpty,
  MAX_FLUSH_ATTEMPTS,
} from '../../../shared/activities/bulk-flush.js';
import { SalesforceClient } from '../../../shared/adapters/salesforce/salesforce-client.js';
import { DEFAULT_SETTINGS_INPUT, parseSettings, type Settings } from '../../../shared/config/settings.js';
import { type StagedRow, stagedItemKey } from '../../../shared/domain/staged-row.js';
import { createLogger } from '../../../shared/observability/logger.js';
import type { MessageSender, SendOptions } from '../../../shared/ports/message-sender.js';
import type { SalesforceApi } from '../../../shared/ports/salesforce-api.js';
import { InMemoryLedgerStore } from '../../helpers/in-memory/ledger-store.js';
import { InMemoryRunReportStore } from '../../helpers/in-memory/run-report-store.js';
import { InMemoryStagedTaskStore } from '../../helpers/in-memory/staged-task-store.js';

const RUN = '2026-01-01T00:00:00.000Z#flush';
const LEADS = Array.from({ length: 20 }, (_, i) => ({
  Id: `00Q${String(i).padStart(12, '0')}AAA`,
  LastName: `Lead ${i}`,
  Company: 'Acme',
}));

let sf: SalesforceSandbox;
let deps: FlushDeps & { sent: { body: unknown; options?: SendOptions }[] };

function client(overrides: { pollTimeoutMs?: number } = {}): SalesforceClient {
  return new SalesforceClient({
    loginUrl: sf.loginUrl,
    clientId: sf.clientId,
    clientSecret: sf.clientSecret,
    retry: { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 2 },
    bulk: { pollIntervalMs: 5, pollTimeoutMs: overrides.pollTimeoutMs ?? 10_000 },
  });
}

function settings(bulkThreshold: number): Settings {
  return parseSettings({ ...DEFAULT_SETTINGS_INPUT, salesforce: { bulkThreshold } });
}

beforeEach(async () => {
  sf = await startSalesforceSandbox({ seed: { leads: LEADS }, bulkProcessingDelayMs: 2 });
  const sent: { body: unknown; options?: SendOptions }[] = [];
  const sender: MessageSender = {
    async send(_url, bodies, options) {
      for (const body of bodies) sent.push({ body, ...(options ? { options } : {}) });
    },
  };
  deps = {
    settings: settings(100),
    logger: createLogger('test', { logLevel: 'CRITICAL' }),
    ledger: new InMemoryLedgerStore(),
    runs: new InMemoryRunReportStore(),
    staging: new InMemoryStagedTaskStore(),
    salesforce: client(),
    sender,
    queueUrls: { flush: 'http://flush' },
    sent,
  };
  await deps.runs.start('activities', RUN);
});

afterEach(async () => {
  await sf.stop();
});

function rows(n: number, prefix = 'g', whoId?: (i: number) => string): StagedRow[] {
  return Array.from({ length: n }, (_, i) => {
    const marketoGUID = `${prefix}-${i}`;
    const who = whoId?.(i) ?? LEADS[i % LEADS.length]!.Id;
    return {
      marketoGUID,
      runId: RUN,
      whoId: who,
      leadId: 1000 + i,
      activityTypeName: 'Open Email',
      activityDate: '2026-01-01T10:00:00Z',
      task: {
        WhoId: who,
        Subject: `Opened Email: ${marketoGUID}`,
        Status: 'Completed',
        Priority: 'Normal',
        ActivityDate: '2026-01-01',
        TaskSubtype: 'Task',
        Marketo_Activity_Id__c: marketoGUID,
      },
      attempts: 0,
    };
  });
}

/** Stages rows as write messages would: 250 per item. */
async function stage(all: StagedRow[]): Promise<void> {
  for (let i = 0; i < all.length; i += 250) {
    const part = all.slice(i, i + 250);
    await deps.staging.stage(
      stagedItemKey(
        RUN,
        part.map((r) => r.marketoGUID),
      ),
      part,
    );
  }
}

const counts = async () => (await deps.runs.get('activities', RUN))?.counts ?? {};
const tasksOf = (guid: string) => sf.tasksByActivityId(guid).length;
const calls = () => sf.stats.countByKind();
const bulkCalls = () =>
  Object.entries(calls())
    .filter(([k]) => k.startsWith('bulk'))
    .reduce((n, [, v]) => n + v, 0);

describe('flushStagedTasks', () => {
  it('writes 1,000 staged Tasks in one Bulk job of ≤ 6 calls, settles the ledger and empties staging', async () => {
    await stage(rows(1000));

    const out = await flushStagedTasks(deps);

    expect(out).toMatchObject({ status: 'flushed', via: 'bulk', rows: 1000, written: 1000, failed: 0 });
    expect(sf.bulkJobs()).toHaveLength(1);
    // create, upload, close, one status poll, successfulResults (no failedResults when none failed).
    expect(calls()).toMatchObject({ bulkCreateJob: 1, bulkUpload: 1, bulkClose: 1, bulkResults: 1 });
    expect(bulkCalls()).toBeLessThanOrEqual(6);
    expect(calls().upsert ?? 0).toBe(0);
    expect(sf.state.tasks.size).toBe(1000);
    const ledger = await deps.ledger.getMany(rows(1000).map((r) => r.marketoGUID));
    expect([...ledger.values()].every((e) => e.status === 'done' && e.taskId)).toBe(true);
    expect(await deps.staging.list()).toEqual([]);
    expect(await counts()).toMatchObject({ written: 1000, created: 1000, bulkJobs: 1 });
    expect(await flushStagedTasks(deps)).toMatchObject({ status: 'empty' });
  });

  it('writes fewer staged Tasks than bulkThreshold through collections, in ceil(n / 200) calls', async () => {
    await stage(rows(99, 'small'));
    deps.settings = settings(100);

    const out = await flushStagedTasks(deps);

    expect(out).toMatchObject({ via: 'collections', written: 99 });
    expect(calls().upsert).toBe(1);
    expect(sf.bulkJobs()).toHaveLength(0);
  });

  it('records permanent per-record failures from failedResults, and retries locked rows through collections', async () => {
    const gone = LEADS[10]!.Id; // rows 10, 30, …: none among the first 7 (locked) rows
    await stage(rows(400));
    sf.state.deleteRecord(gone); // its Tasks are refused: ENTITY_IS_DELETED
    sf.faults.inject('UNABLE_TO_LOCK_ROW', { count: 7, on: ['bulkClose'] });
    const refused = rows(400).filter((r) => r.whoId === gone);

    const out = await flushStagedTasks(deps);

    expect(out.failed).toBe(refused.length);
    expect(out.written).toBe(400 - refused.length);
    expect(sf.bulkJobs()[0]!.numberRecordsFailed).toBeGreaterThan(refused.length); // refused + locked
    const locked = (await counts()).retried ?? 0;
    expect(locked).toBeGreaterThan(0);
    expect(sf.stats.recordsPerCall('upsert')).toEqual([locked]); // the locked rows, once, through a collection
    const ledger = await deps.ledger.getMany(refused.map((r) => r.marketoGUID));
    for (const r of refused) {
      expect(ledger.get(r.marketoGUID)).toMatchObject({
        status: 'failed',
        reason: expect.stringMatching(/^ENTITY_IS_DELETED/),
      });
      expect(tasksOf(r.marketoGUID)).toBe(0);
    }
    expect(await counts()).toMatchObject({
      written: 400 - refused.length,
      failed: refused.length,
      retried: 7,
    });
  });

  it('retries the unprocessed rows of a job that stopped midway, and keeps what it processed', async () => {
    await stage(rows(500));
    sf.faults.inject('BULK_JOB_FAILED', { afterRows: 300 });

    const out = await flushStagedTasks(deps);

    expect(sf.bulkJobs()).toEqual([
      expect.objectContaining({ state: 'Failed', numberRecordsProcessed: 300 }),
    ]);
    expect(calls().bulkResults).toBe(2); // successfulResults + unprocessedrecords
    expect(sf.stats.recordsPerCall('upsert')).toEqual([200]);
    expect(out).toMatchObject({ written: 500, failed: 0 });
    expect(rows(500).every((r) => tasksOf(r.marketoGUID) === 1)).toBe(true);
  });

  it('writes every row through collections when the job fails as a whole', async () => {
    await stage(rows(300));
    sf.faults.inject('BULK_JOB_FAILED');

    const out = await flushStagedTasks(deps);

    expect(sf.bulkJobs()).toEqual([expect.objectContaining({ state: 'Failed', numberRecordsProcessed: 0 })]);
    expect(sf.stats.recordsPerCall('upsert')).toEqual([200, 100]);
    expect(out).toMatchObject({ written: 300, failed: 0 });
    expect(sf.state.tasks.size).toBe(300);
  });

  it('falls back to collections when the org refuses the Bulk job itself', async () => {
    await stage(rows(150));
    deps.settings = settings(1);
    sf.faults.inject('HTTP_503', { count: 3, on: ['bulkCreateJob'] });

    const out = await flushStagedTasks(deps);

    expect(out).toMatchObject({ via: 'collections', written: 150 });
    expect(sf.state.tasks.size).toBe(150);
  });

  it('resumes the same job after a crash between job creation and reading its results (one job, one upload)', async () => {
    await stage(rows(600));
    const real = client();
    const crashing: SalesforceApi = {
      ...real,
      upsert: real.upsert.bind(real),
      callCounts: real.callCounts.bind(real),
      limitInfo: real.limitInfo.bind(real),
      create: real.create.bind(real),
      update: real.update.bind(real),
      destroy: real.destroy.bind(real),
      query: real.query.bind(real),
      bulkUpsert: async (...args) => {
        await real.bulkUpsert(...args);
        throw new Error('simulated crash: the process died before reading the results');
      },
    };

    await expect(flushStagedTasks({ ...deps, salesforce: crashing })).rejects.toThrow(/simulated crash/);
    expect(sf.bulkJobs()).toHaveLength(1);
    expect(await deps.ledger.getMany(['g-0'])).toEqual(new Map());

    const out = await flushStagedTasks(deps);

    expect(out).toMatchObject({ status: 'flushed', jobId: sf.bulkJobs()[0]!.id, written: 600 });
    expect(sf.bulkJobs()).toHaveLength(1);
    expect(calls()).toMatchObject({ bulkCreateJob: 1, bulkUpload: 1 });
    expect(rows(600).every((r) => tasksOf(r.marketoGUID) === 1)).toBe(true);
  });

  it('waits for a job still running at the poll timeout, and resumes it by the persisted id', async () => {
    await stage(rows(300));
    sf.faults.setLatency(0);

    const first = await flushStagedTasks({ ...deps, salesforce: client({ pollTimeoutMs: 0 }) });
    expect(first).toMatchObject({ status: 'pending', jobId: sf.bulkJobs()[0]!.id });

    const second = await flushStagedTasks(deps);
    expect(second).toMatchObject({ status: 'flushed', jobId: first.jobId, written: 300 });
    expect(sf.bulkJobs()).toHaveLength(1);
  });

  it('creates no duplicate and counts each Task once after a crash between the upsert and the ledger write', async () => {
    await stage(rows(400));
    const markDone = deps.ledger.markDone.bind(deps.ledger);
    let crashes = 0;
    deps.ledger.markDone = async (entry) => {
      if (crashes++ < 3) throw new Error('simulated crash after the upsert, before the ledger write');
      return markDone(entry);
    };

    const out = await flushUntilEmpty(deps, { timeoutMs: 30_000, pauseMs: 1 });

    expect(out.empty).toBe(true);
    expect(sf.bulkJobs()).toHaveLength(1);
    expect(rows(400).every((r) => tasksOf(r.marketoGUID) === 1)).toBe(true);
    const c = await counts();
    expect((c.written ?? 0) + (c['skipped.alreadyWritten'] ?? 0)).toBe(400);
  });

  it(`records a row failed after ${MAX_FLUSH_ATTEMPTS} flushes that all hit a transient refusal`, async () => {
    await stage(rows(3, 'locked'));
    deps.settings = settings(1000);
    sf.faults.inject('UNABLE_TO_LOCK_ROW', { count: 3 * MAX_FLUSH_ATTEMPTS, on: ['upsert'] });

    const out = await flushUntilEmpty(deps, { timeoutMs: 30_000, pauseMs: 1 });

    expect(out).toMatchObject({ empty: true, flushes: MAX_FLUSH_ATTEMPTS, failed: 3, written: 0 });
    const ledger = await deps.ledger.getMany(['locked-0']);
    expect(ledger.get('locked-0')).toMatchObject({
      status: 'failed',
      reason: `still refused after ${MAX_FLUSH_ATTEMPTS} flushes: UNABLE_TO_LOCK_ROW`,
    });
    expect(await counts()).toMatchObject({ failed: 3, retried: 3 * MAX_FLUSH_ATTEMPTS });
  });

  it('skips rows the ledger already settled (written by an earlier attempt) and counts them as such', async () => {
    const all = rows(10, 'seen');
    await deps.ledger.markDone({ ...all[0]!, taskId: '00T000000000001AAA' });
    await stage(all);
    deps.settings = settings(1000);

    const out = await flushStagedTasks(deps);

    expect(out.written).toBe(9);
    expect(tasksOf('seen-0')).toBe(0);
    expect(await counts()).toMatchObject({ written: 9, 'skipped.alreadyWritten': 1 });
  });

  it('reads the ledger only for rows that keep a done entry (or whose type deletes Tasks of deleted leads)', async () => {
    const all = rows(6, 'lite').map((r, i) => (i < 4 ? { ...r, recordDone: false } : r));
    all[3] = { ...all[3]!, activityTypeName: 'Click Email' };
    deps.settings = parseSettings({
      ...DEFAULT_SETTINGS_INPUT,
      activities: { types: [{ name: 'Open Email' }, { name: 'Click Email', onLeadDeleted: 'deleteTask' }] },
      salesforce: { bulkThreshold: 1000 },
    });
    await stage(all);
    const asked: string[] = [];
    const getMany = deps.ledger.getMany.bind(deps.ledger);
    deps.ledger.getMany = async (guids) => {
      asked.push(...guids);
      return getMany(guids);
    };

    await flushStagedTasks(deps);

    expect(asked.sort()).toEqual(['lite-3', 'lite-4', 'lite-5']);
    expect(all.every((r) => tasksOf(r.marketoGUID) === 1)).toBe(true);
  });

  it('lets one flush at a time hold the lease', async () => {
    await stage(rows(10));
    expect(await deps.staging.acquireFlush('someone-else', { leaseMs: 60_000 })).toBeDefined();

    expect(await flushStagedTasks(deps)).toMatchObject({ status: 'busy' });
    expect(await flushStagedTasks(deps, { takeOverLease: true })).toMatchObject({ status: 'flushed' });
  });
});

describe('flushOnSignal (AWS)', () => {
  it('waits while staging is not quiet, then flushes; signals again while a job is still running', async () => {
    await stage(rows(300));
    let now = Date.now();
    const at = { ...deps, now: () => new Date(now) };

    expect(await flushOnSignal(at, { kind: 'flushTasks', runId: RUN })).toBe('notQuiet');
    expect(sf.bulkJobs()).toHaveLength(0);

    now += 61_000;
    const pending = await flushOnSignal(
      { ...at, salesforce: client({ pollTimeoutMs: 0 }) },
      {
        kind: 'flushTasks',
        runId: RUN,
      },
    );
    expect(pending).toMatchObject({ status: 'pending' });
    expect(deps.sent).toEqual([{ body: { kind: 'flushTasks', runId: RUN }, options: { delaySeconds: 60 } }]);

    expect(await flushOnSignal(at, { kind: 'flushTasks', runId: RUN })).toMatchObject({
      status: 'flushed',
      written: 300,
    });
    expect(deps.sent).toHaveLength(1);
  });
});
