import { chainId } from '../domain/activity-chain.js';
import {
  ExportAllowanceSpentError,
  ExportQueueFullError,
  type ExportStatus,
} from '../ports/marketo-export-api.js';
import { packIntoMessages } from '../ports/pack-into-messages.js';
import type { ActivityDeps } from './activity-deps.js';
import { requireQueueUrl } from './activity-deps.js';
import {
  completeStreamWindow,
  type FetchOutcome,
  ledgerFromOf,
  toWriteActivity,
} from './fetch-activity-page.js';
import type { ExportMessage, FetchMessage, WriteActivity, WriteMessage } from './messages.js';
import { resolveLeads } from './resolve-leads.js';

/**
 * Back-fill by Marketo Bulk Activity Extract, one step per fetch-queue message: create and enqueue
 * the window's export job, poll it (re-sent delayed by `activities.backfill.pollSeconds`), then read
 * its file in ranges of `chunkBytes`, each range's activities handed to the write queue exactly as
 * the REST fetch step hands a page (same messages, same write path, same ledger).
 *
 * Resumable: the job id and the file offset are checkpointed in the cursor store under
 * exportStateId(...) with conditional writes, so a redelivered or restarted step continues the same
 * job from the last range handed off (a range handed off twice is absorbed by the ledger).
 * Quota-aware: when Marketo answers 1029 "Export daily quota exceeded", or the job fails, the window
 * is read by REST paging instead (a paging chain from the window's start), and the run report says why.
 */

type Deps = Omit<ActivityDeps, 'ledger'>;

export interface ExportWindowState {
  exportId?: string;
  status?: ExportStatus;
  /** Next byte of the file to read (a record boundary), and the header read at offset 0. */
  offset: number;
  columns?: string[];
  /** Activities handed to the write queue so far. */
  read: number;
  done?: boolean;
  /** Why the window went to REST paging instead. */
  fallback?: FallbackCause;
}

type FallbackCause = 'noBulkClient' | 'jobEnded' | 'allowanceSpent';

export const exportStateId = (runId: string, streamKey: string, windowIndex: number) =>
  `export#${runId}#${streamKey}#${windowIndex}`;

export async function exportActivityWindow(deps: Deps, msg: ExportMessage): Promise<FetchOutcome> {
  const id = exportStateId(msg.runId, msg.streamKey, msg.windowIndex);
  const [stored, cursor] = await Promise.all([
    deps.cursors.getValue<ExportWindowState>(id),
    deps.cursors.getStream(msg.streamKey),
  ]);
  if (cursor?.activeRunId !== msg.runId) {
    if (stored?.value.done) return { status: 'recovered' };
    deps.logger.info('Export step for a run that no longer owns the stream; dropped', { window: id });
    return { status: 'stale' };
  }
  let state: ExportWindowState = stored?.value ?? { offset: 0, read: 0 };
  let version = stored?.version;
  /** Checkpoint; false when another delivery of this step got there first. */
  const save = async (next: ExportWindowState): Promise<boolean> => {
    if (!(await deps.cursors.putValue(id, next, version))) return false;
    version = (version ?? 0) + 1;
    state = next;
    return true;
  };
  if (state.done) {
    await finishWindow(deps, msg);
    return { status: 'recovered' };
  }
  if (state.fallback) {
    await continueAfterFallback(deps, msg, state.fallback);
    return { status: 'recovered' };
  }
  const api = deps.marketo.bulkExport;
  if (!api)
    return fallBack(deps, msg, state, save, 'noBulkClient', 'the Marketo client offers no bulk export');
  const { pollSeconds, chunkBytes } = deps.settings.activities.backfill;
  const later = async (delaySeconds: number) => {
    await deps.sender.send(requireQueueUrl(deps, 'fetch'), [msg], { delaySeconds });
    return { status: 'advanced', read: 0, done: false } as const;
  };
  try {
    if (!state.exportId) {
      const job = await api.createActivityExport({
        startAt: new Date(msg.from),
        endAt: new Date(msg.until),
        activityTypeIds: msg.types.map((t) => t.id),
      });
      if (!(await save({ ...state, exportId: job.exportId, status: job.status }))) {
        // Another delivery created its own job first: this one is not needed.
        await api.cancelActivityExport(job.exportId);
        return { status: 'stale' };
      }
      await deps.runs.add('activities', msg.runId, { exportJobs: 1 });
    }
    const exportId = state.exportId as string;
    if (state.status === 'Created') {
      const job = await api.enqueueActivityExport(exportId);
      if (!(await save({ ...state, status: job.status }))) return { status: 'stale' };
      return later(pollSeconds);
    }
    if (state.status !== 'Completed') {
      const job = await api.activityExportStatus(exportId);
      if (job.status === 'Failed' || job.status === 'Cancelled')
        return fallBack(
          deps,
          msg,
          state,
          save,
          'jobEnded',
          `export job ${exportId} ended ${job.status}${job.errorMsg ? ` (${job.errorMsg})` : ''}`,
        );
      if (job.status !== 'Completed') {
        if (job.status !== state.status && !(await save({ ...state, status: job.status })))
          return { status: 'stale' };
        return later(pollSeconds);
      }
      if (!(await save({ ...state, status: 'Completed' }))) return { status: 'stale' };
    }
    return await readRange(deps, msg, state, save, exportId, chunkBytes, ledgerFromOf(deps.settings, cursor));
  } catch (err) {
    if (err instanceof ExportQueueFullError) {
      deps.logger.info('Marketo bulk export queue full; trying again later', { window: id });
      return later(pollSeconds);
    }
    if (err instanceof ExportAllowanceSpentError) {
      if (state.exportId) await api.cancelActivityExport(state.exportId).catch(() => undefined);
      return fallBack(
        deps,
        msg,
        state,
        save,
        'allowanceSpent',
        'the Marketo daily bulk export allowance is spent (1029 Export daily quota exceeded); it resets at 00:00 Central Time',
      );
    }
    throw err;
  }
}

/** One range of the completed file: its activities to the write queue, then the checkpoint. */
async function readRange(
  deps: Deps,
  msg: ExportMessage,
  state: ExportWindowState,
  save: (next: ExportWindowState) => Promise<boolean>,
  exportId: string,
  chunkBytes: number,
  ledgerFrom: string | undefined,
): Promise<FetchOutcome> {
  const api = deps.marketo.bulkExport!;
  const chunk = await api.readActivityExport(exportId, {
    offset: state.offset,
    maxBytes: chunkBytes,
    ...(state.columns ? { columns: state.columns } : {}),
  });
  const fromMs = Date.parse(msg.from);
  const untilMs = Date.parse(msg.until);
  const names = new Map(msg.types.map((t) => [t.id, t.name]));
  const inWindow: WriteActivity[] = [];
  for (const a of chunk.activities) {
    const at = Date.parse(a.activityDate);
    const name = names.get(a.activityTypeId);
    // The same half-open window as the REST fetch step: [from, until).
    if (at < fromMs || at >= untilMs || name === undefined) continue;
    inWindow.push(toWriteActivity(a, name));
  }
  if (inWindow.length > 0) {
    // The range's people resolved here, once, into the lead cache: a stream's windows run one after
    // another, whereas the write step's concurrent invocations would each miss the same new person.
    if (deps.settings.activities.leadCacheTtlSeconds > 0)
      await resolveLeads(deps, [...new Set(inWindow.map((a) => a.leadId))], msg.runId);
    const messages = packIntoMessages<WriteActivity>(
      inWindow,
      (part): WriteMessage => ({
        kind: 'writeTasks',
        runId: msg.runId,
        activities: part,
        ...(ledgerFrom ? { ledgerFrom } : {}),
      }),
    );
    await deps.sender.send(requireQueueUrl(deps, 'write'), messages);
  }
  const next = {
    ...state,
    offset: chunk.nextOffset,
    columns: chunk.columns,
    read: state.read + inWindow.length,
    done: chunk.done,
  };
  const saved = await save(next);
  await deps.runs.add(
    'activities',
    msg.runId,
    saved ? { read: inWindow.length, exportRanges: 1 } : { duplicateFetches: 1 },
  );
  if (!saved) return { status: 'stale' };
  if (chunk.done) await finishWindow(deps, msg);
  else await deps.sender.send(requireQueueUrl(deps, 'fetch'), [msg]);
  return { status: 'advanced', read: inWindow.length, done: chunk.done };
}

/**
 * The window is read by REST paging instead, from its start: nothing of it has been handed off (a
 * job is only read once completed, and a completed job never falls back), so the REST chain continues
 * exactly where the export path ended — the previous window's end.
 */
async function fallBack(
  deps: Deps,
  msg: ExportMessage,
  state: ExportWindowState,
  save: (next: ExportWindowState) => Promise<boolean>,
  /** The run report's counter `exportFallback.<cause>`. */
  cause: FallbackCause,
  reason: string,
): Promise<FetchOutcome> {
  if (!(await save({ ...state, fallback: cause }))) return { status: 'stale' };
  deps.logger.warn('Back-fill window read by REST paging instead of a bulk export', {
    stream: msg.streamKey,
    windowIndex: msg.windowIndex,
    reason,
  });
  await deps.runs.add('activities', msg.runId, { [`exportFallback.${cause}`]: 1 });
  await continueAfterFallback(deps, msg, cause);
  return { status: 'advanced', read: 0, done: false };
}

/**
 * After a fallback: this window by REST paging; when the allowance is spent, every later window too
 * (a create would only be refused again until midnight), else the next window by export.
 */
async function continueAfterFallback(deps: Deps, msg: ExportMessage, cause: FallbackCause): Promise<void> {
  await startRestChain(deps, msg);
  if (cause !== 'allowanceSpent') return startNextExport(deps, msg);
  for (const [i, w] of msg.later.entries())
    await startRestChain(deps, {
      ...msg,
      windowIndex: msg.windowIndex + 1 + i,
      from: w.from,
      until: w.until,
    });
}

/** A window read by export is done: record it, then start the stream's next export window. */
async function finishWindow(deps: Deps, msg: ExportMessage): Promise<void> {
  await completeStreamWindow(deps, msg);
  await startNextExport(deps, msg);
}

async function startNextExport(deps: Deps, msg: ExportMessage): Promise<void> {
  const [next, ...later] = msg.later;
  if (!next) return;
  const step: ExportMessage = {
    ...msg,
    windowIndex: msg.windowIndex + 1,
    from: next.from,
    until: next.until,
    later,
  };
  await deps.sender.send(requireQueueUrl(deps, 'fetch'), [step]);
}

/** The window's REST paging chain and its first step (createChain keeps an existing chain). */
async function startRestChain(deps: Deps, msg: ExportMessage): Promise<void> {
  await deps.cursors.createChain({
    id: chainId(msg.runId, msg.streamKey, msg.windowIndex),
    runId: msg.runId,
    streamKey: msg.streamKey,
    windowIndex: msg.windowIndex,
    resumeFrom: msg.from,
  });
  const step: FetchMessage = {
    kind: 'fetchPage',
    runId: msg.runId,
    streamKey: msg.streamKey,
    types: msg.types,
    windowIndex: msg.windowIndex,
    from: msg.from,
    until: msg.until,
    page: 0,
  };
  await deps.sender.send(requireQueueUrl(deps, 'fetch'), [step]);
}
