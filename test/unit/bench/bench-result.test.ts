import { describe, expect, it } from 'vitest';
import { lambdaUsage } from '../../../bench/bench-result.js';

const functions = [
  { entry: 'schedule-activity-sync', memoryMb: 512 },
  {
    entry: 'fetch-activity-page',
    memoryMb: 512,
    consumes: { queue: 'fetch' as const, batchSize: 1, maxBatchingWindowMs: 0 },
  },
  {
    entry: 'write-activity-tasks',
    memoryMb: 1024,
    consumes: { queue: 'write' as const, batchSize: 10, maxBatchingWindowMs: 0 },
  },
  {
    entry: 'flush-staged-tasks',
    memoryMb: 2048,
    consumes: { queue: 'flush' as const, batchSize: 10, maxBatchingWindowMs: 0 },
  },
  {
    entry: 'apply-unsubscribe',
    memoryMb: 512,
    consumes: { queue: 'unsubscribe' as const, batchSize: 10, maxBatchingWindowMs: 0 },
  },
];

describe('lambdaUsage', () => {
  const run = (bulkJobs?: number) =>
    lambdaUsage(
      {
        startedAt: 0,
        wallMs: 20_600,
        scheduleMs: 500,
        summary: bulkJobs === undefined ? {} : { bulkJobs },
        sqs: {
          invocations: [
            { queue: 'fetch', messages: 1, startedAt: 1_000, endedAt: 2_000 },
            { queue: 'fetch', messages: 1, startedAt: 2_000, endedAt: 5_000 },
            { queue: 'fetch', messages: 1, startedAt: 3_000 }, // never deleted: billed at the median
            { queue: 'write', messages: 10, startedAt: 4_000, endedAt: 10_000 },
          ],
          activity: {
            fetch: { firstReceiveAt: 1_000, lastSettledAt: 5_000 },
            write: { firstReceiveAt: 4_000, lastSettledAt: 10_000 },
          },
        },
      },
      functions,
    );

  it('bills each consumer invocation from receive to delete at the function memory, and the schedule step once', () => {
    expect(run()).toEqual([
      { entry: 'schedule-activity-sync', memoryMb: 512, invocations: 1, gbSeconds: 0.25 },
      // 1 s + 3 s + median 2 s, at 0.5 GB
      { entry: 'fetch-activity-page', memoryMb: 512, invocations: 3, gbSeconds: 3 },
      { entry: 'write-activity-tasks', memoryMb: 1024, invocations: 1, gbSeconds: 6 },
    ]);
  });

  it('bills the in-process Bulk flush (after the queues drained) as one flush invocation per job', () => {
    const flush = run(2).find((f) => f.entry === 'flush-staged-tasks');
    // wall end 20.6 s − last settle 10 s − 0.6 s drain idle = 10 s, in 2 jobs, at 2 GB
    expect(flush).toEqual({ entry: 'flush-staged-tasks', memoryMb: 2048, invocations: 2, gbSeconds: 20 });
  });
});
