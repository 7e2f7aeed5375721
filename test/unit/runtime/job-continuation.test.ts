import { describe, expect, it, vi } from 'vitest';
import { HOLD_MARGIN_MS } from '../../../shared/domain/run-hold.js';
import {
  continuationCursorId,
  type JobContinuation,
  JobContinuationCursorError,
  jobHoldUntil,
  runJobOrContinuation,
  runUnderHold,
} from '../../../shared/runtime/job-continuation.js';
import { InMemoryCursorStore } from '../../helpers/in-memory/cursor-store.js';

/** The hold under job 4's runs (shared/runtime/job-continuation.ts) on the in-memory cursor store. */

const ID = continuationCursorId('tasks');
const T0 = Date.parse('2026-12-05T10:00:00Z');

function counted(store = new InMemoryCursorStore()) {
  const calls = { get: 0, put: 0 };
  const get = store.getValue.bind(store);
  const put = store.putValue.bind(store);
  store.getValue = async <T>(id: string) => {
    calls.get++;
    return get<T>(id);
  };
  store.putValue = async <T>(id: string, value: T, version: number | undefined) => {
    calls.put++;
    return put(id, value, version);
  };
  return { store, calls };
}

const options = (onlyIfOpen: boolean, now = () => T0) => ({
  job: 'tasks' as const,
  runId: 'run-1',
  budgetMs: 720_000,
  onlyIfOpen,
  now,
});

describe('runUnderHold', () => {
  it('a tick with nothing open reads once and writes nothing', async () => {
    const { store, calls } = counted();
    const work = vi.fn();

    const outcome = await runUnderHold(store, options(true), work);

    expect(outcome).toEqual({ status: 'idle', reason: 'nothing-open' });
    expect(calls).toEqual({ get: 1, put: 0 });
    expect(work).not.toHaveBeenCalled();
  });

  it('holds the job for its budget plus the margin while it works, and leaves it open when not complete', async () => {
    const store = new InMemoryCursorStore();
    let during: JobContinuation | undefined;

    const outcome = await runUnderHold(store, options(false), async () => {
      during = (await store.getValue<JobContinuation>(ID))?.value;
      return { result: 'r', complete: false };
    });

    expect(during).toEqual({
      open: true,
      heldBy: 'run-1',
      heldUntil: new Date(T0 + 720_000 + HOLD_MARGIN_MS).toISOString(),
    });
    expect(outcome).toEqual({ status: 'ran', result: 'r', released: true });
    expect((await store.getValue<JobContinuation>(ID))?.value).toEqual({ open: true });
  });

  it('holds for at least the function timeout (15 minutes) whatever the budget', () => {
    expect(jobHoldUntil(T0, 60_000)).toBe(new Date(T0 + 15 * 60_000).toISOString());
    expect(jobHoldUntil(T0, 840_000)).toBe(new Date(T0 + 840_000 + HOLD_MARGIN_MS).toISOString());
  });

  it('a run that died holding the job is continued by the first tick after its hold (open while held)', async () => {
    const store = new InMemoryCursorStore();
    // A daily run on a job not open dies (a timeout) without giving the hold back.
    const died = runUnderHold(store, options(false), () => new Promise<never>(() => undefined));
    void died;
    await vi.waitFor(async () =>
      expect((await store.getValue<JobContinuation>(ID))?.value.heldBy).toBe('run-1'),
    );

    const whileHeld = await runUnderHold(
      store,
      options(true, () => T0 + 60_000),
      vi.fn(),
    );
    const work = vi.fn(async () => ({ result: 'r', complete: true }));
    const after = await runUnderHold(
      store,
      { ...options(true, () => T0 + 16 * 60_000), runId: 'tick' },
      work,
    );

    expect(whileHeld).toEqual({ status: 'idle', reason: 'held' });
    expect(after).toEqual({ status: 'ran', result: 'r', released: true });
    expect((await store.getValue<JobContinuation>(ID))?.value).toEqual({ open: false });
  });

  it('says so when the hold expired and another invocation took the job meanwhile (its state kept)', async () => {
    const store = new InMemoryCursorStore();
    const outcome = await runUnderHold(store, options(false), async () => {
      const item = await store.getValue<JobContinuation>(ID);
      await store.putValue(
        ID,
        { open: true, heldBy: 'other', heldUntil: '2026-12-05T10:30:00.000Z' },
        item?.version,
      );
      return { result: 'r', complete: true };
    });

    expect(outcome).toEqual({ status: 'ran', result: 'r', released: false });
    expect((await store.getValue<JobContinuation>(ID))?.value.heldBy).toBe('other');
  });

  it('refuses a cursor that is not a continuation, naming what to do', async () => {
    const store = new InMemoryCursorStore();
    await store.putValue(ID, { open: 'yes' }, undefined);

    await expect(runUnderHold(store, options(true), vi.fn())).rejects.toThrow(JobContinuationCursorError);
    await expect(runUnderHold(store, options(true), vi.fn())).rejects.toThrow(/delete the item/);
  });
});

describe('runJobOrContinuation', () => {
  it('warns when the run outlived its hold', async () => {
    const store = new InMemoryCursorStore();
    const logger = { info: vi.fn(), warn: vi.fn() };

    await runJobOrContinuation(
      store,
      logger,
      {
        service: 'sync-sales-activity',
        job: 'tasks',
        continuationJob: 'tasks-continue',
        run: { runId: 'r' },
        budgetMs: 1,
      },
      async () => {
        const item = await store.getValue<JobContinuation>(ID);
        await store.putValue(ID, { open: false }, item?.version);
        return { result: 1, complete: true };
      },
    );

    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn.mock.calls[0]?.[1]).toEqual({ job: 'tasks', runId: 'r' });
  });
});
