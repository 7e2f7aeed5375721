import type { ActivityDeps } from '../activities/activity-deps.js';
import { type FlushDeps, flushOnSignal } from '../activities/bulk-flush.js';
import {
  type DeletionOutcome,
  deleteTasksOfDeletedLeadsForRun,
} from '../activities/delete-tasks-of-deleted-leads.js';
import { exportActivityWindow } from '../activities/export-activity-window.js';
import { fetchActivityPage } from '../activities/fetch-activity-page.js';
import { fetchQueueMessageSchema, flushMessageSchema, parseMessage } from '../activities/messages.js';
import { type StartedCycle, startActivityCycle } from '../activities/start-activity-cycle.js';
import { type VerifyReport, verifyForRun } from '../activities/verify-tasks.js';
import { type WriteResult, writeActivityBatch } from '../activities/write-activity-tasks.js';
import { withCallsCounted } from './call-accounting.js';
import { type ScheduledRun, scheduledRunOf } from './function-builder.js';
import { emitFetch, emitFlush, emitWrite } from './metric-emitters.js';
import { type SqsConsumer, sqsConsumerFor } from './sqs-batch.js';

/**
 * The activity pipeline's steps as the functions (and the CLI's local event source) run them:
 * schedule → fetch → write → flush, each one use case.
 */

/** Fetch queue → one activity page (or one export step) per message, handed to the write queue, checkpointed. */
export const fetchActivityPageConsumer: SqsConsumer<ActivityDeps> =
  (deps, _records, metrics) => async (record) => {
    const msg = parseMessage(fetchQueueMessageSchema, 'fetch', record.body);
    const outcome =
      msg.kind === 'exportWindow'
        ? await exportActivityWindow(deps, msg)
        : await fetchActivityPage(deps, msg);
    emitFetch(metrics, [outcome]);
    return outcome;
  };

/**
 * Write queue → Tasks. The whole batch is written at once (full 200-record collections, or staged
 * for Bulk API 2.0); each record then reports its own message's result.
 */
export const writeActivityTasksConsumer: SqsConsumer<ActivityDeps> = async (deps, records, metrics) => {
  const results = await writeActivityBatch(deps, [...records]).catch(
    (error: unknown) => new Map<string, WriteResult>(records.map((r) => [r.messageId, { ok: false, error }])),
  );
  emitWrite(
    metrics,
    [...results.values()].flatMap((r) => (r.ok ? [r.outcome] : [])),
  );
  return async (record) => {
    const result = results.get(record.messageId);
    if (!result) throw new Error(`The write step returned no result for message ${record.messageId}`);
    if (!result.ok) throw result.error;
    return result.outcome;
  };
};

/**
 * Flush queue → staged Tasks written by Bulk API 2.0 (or collections below the threshold).
 * Signals are interchangeable: however many a batch holds, it runs one flush, and every signal
 * shares its result.
 */
export const flushStagedTasksConsumer: SqsConsumer<FlushDeps> = (deps, _records, metrics) => {
  let flush: ReturnType<typeof flushOnSignal> | undefined;
  return async (record) => {
    const msg = parseMessage(flushMessageSchema, 'flush', record.body);
    flush ??= flushOnSignal(deps, msg).then((outcome) => {
      emitFlush(metrics, outcome);
      return outcome;
    });
    return flush;
  };
};

export type ScheduledCycle = StartedCycle & { deletions?: DeletionOutcome; verify?: VerifyReport['counts'] };

/**
 * Scheduler → one activity cycle: claim each stream, enqueue the first page of each window; then,
 * as the CLI cycle does, delete the Tasks of leads Marketo deleted (types with onLeadDeleted:
 * deleteTask only; no call otherwise). With settings activities.verify.nightly, then a read-only
 * verify of the last days (counts into the run report). The cycle is already under way: a failed
 * deletion or verify only logs (the deletion reads the feed again from its position next run).
 */
export async function scheduleActivitySync(
  deps: ActivityDeps,
  run: Pick<ScheduledRun, 'runId'> & { takeOverAfterMs?: number },
): Promise<ScheduledCycle> {
  const cycle = await startActivityCycle(deps, {
    runId: run.runId,
    ...(run.takeOverAfterMs !== undefined && { takeOverAfterMs: run.takeOverAfterMs }),
  });
  const deletions = await deleteTasksOfDeletedLeadsForRun(deps, cycle.runId).catch((error: unknown) => {
    deps.logger.error('Deleting the Tasks of deleted leads failed; the next run tries again', {
      error: error instanceof Error ? { name: error.name, message: error.message } : 'unknown',
    });
    return undefined;
  });
  const verify = deps.settings.activities.verify.nightly ? await verifyForRun(deps, cycle.runId) : undefined;
  return {
    ...cycle,
    ...(deletions ? { deletions } : {}),
    ...(verify ? { verify: verify.counts } : {}),
  };
}

/** The consumers outside Lambda (CLI, tests): the same consumer, without the function's middleware. */
export const createFetchActivityPage = sqsConsumerFor(fetchActivityPageConsumer, 'fetch');
export const createWriteActivityTasks = sqsConsumerFor(writeActivityTasksConsumer, 'write');
export const createFlushStagedTasks = sqsConsumerFor(flushStagedTasksConsumer, 'flush');

/** The scheduled step outside Lambda (tests): a run named now, its vendor calls counted as the function counts them. */
export const createScheduleActivitySync =
  (deps: ActivityDeps, options: { takeOverAfterMs?: number } = {}) =>
  async (): Promise<ScheduledCycle> => {
    const run = scheduledRunOf({}, () => deps.now?.() ?? new Date());
    return withCallsCounted(deps, run.runId, () => scheduleActivitySync(deps, { ...run, ...options }));
  };
