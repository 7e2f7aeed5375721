import type { Activity } from '../domain/activity.js';
import { type ChainState, chainId } from '../domain/activity-chain.js';
import { recordJobCompleted } from '../observability/metrics.js';
import { readFirstMarketoPage } from '../ports/marketo-paging.js';
import { packIntoMessages } from '../ports/pack-into-messages.js';
import type { ActivityDeps } from './activity-deps.js';
import { requireQueueUrl } from './activity-deps.js';
import type { FetchMessage, WriteActivity, WriteMessage } from './messages.js';

export type FetchOutcome =
  /** Page read, handed to the write queue, chain advanced. */
  | { status: 'advanced'; read: number; done: boolean }
  /** A redelivery of a step already checkpointed: the next step was re-sent if needed. */
  | { status: 'recovered' }
  /** The run no longer owns the stream, or another delivery won the step: nothing to do. */
  | { status: 'stale' };

export class ChainNotReadyError extends Error {
  override readonly name = 'ChainNotReadyError';
  constructor(id: string, expected: number, got: number) {
    super(
      `Fetch step ${got} of chain ${id} arrived before step ${expected} was checkpointed; it will be retried.`,
    );
  }
}

/**
 * Fetch step. Order matters for crash safety: hand the page's activities to the write queue,
 * then checkpoint the chain (conditionally: only the holder of this step may advance it), then
 * enqueue the next step. A crash anywhere leads to a redelivery that either repeats the page
 * (writes are idempotent) or finds the checkpoint and only re-sends the next step.
 */
export async function fetchActivityPage(
  deps: Omit<ActivityDeps, 'ledger' | 'leadCache'>,
  msg: FetchMessage,
): Promise<FetchOutcome> {
  const id = chainId(msg.runId, msg.streamKey, msg.windowIndex);
  const [chain, cursor] = await Promise.all([
    deps.cursors.getChain(id),
    deps.cursors.getStream(msg.streamKey),
  ]);
  if (!chain || cursor?.activeRunId !== msg.runId) {
    // A finished stream releases ownership; a delivery of its last step may still come back.
    if (chain?.done) return { status: 'recovered' };
    deps.logger.info('Fetch step for a run that no longer owns the stream; dropped', { chain: id });
    return { status: 'stale' };
  }
  if (msg.page < chain.page) {
    if (msg.page === chain.page - 1) await continueChain(deps, msg, chain);
    return { status: 'recovered' };
  }
  if (msg.page > chain.page) throw new ChainNotReadyError(id, chain.page, msg.page);
  if (chain.done) return { status: 'recovered' };

  const typeIds = msg.types.map((t) => t.id);
  // One page per invocation: the chain's checkpointed token, or a fresh one from its watermark.
  const page = await readFirstMarketoPage({
    marketo: deps.marketo,
    readPage: (nextPageToken) =>
      deps.marketo.getActivities({
        nextPageToken,
        activityTypeIds: typeIds,
        batchSize: deps.settings.marketo.batchSize,
      }),
    since: new Date(chain.resumeFrom),
    resumeToken: chain.token,
    onTokenRefused: (restartFrom) =>
      deps.logger.warn('Paging token rejected; regenerating from the watermark', {
        chain: id,
        resumeFrom: chain.resumeFrom,
        restartFrom: restartFrom.toISOString(),
      }),
  });

  const untilMs = msg.until ? Date.parse(msg.until) : Number.POSITIVE_INFINITY;
  const fromMs = Date.parse(msg.from);
  const names = new Map(msg.types.map((t) => [t.id, t.name]));
  const inWindow: WriteActivity[] = [];
  let passedEnd = false;
  let resumeFrom = Date.parse(chain.resumeFrom);
  for (const a of page.items) {
    const at = Date.parse(a.activityDate);
    if (at >= untilMs) {
      passedEnd = true;
      continue;
    }
    const name = names.get(a.activityTypeId);
    if (at < fromMs || name === undefined) continue;
    inWindow.push(toWriteActivity(a, name));
    if (at > resumeFrom) resumeFrom = at;
  }
  if (inWindow.length > 0) {
    const ledgerFrom = ledgerFromOf(deps.settings, cursor);
    const messages = packIntoMessages<WriteActivity>(
      inWindow,
      (chunk): WriteMessage => ({
        kind: 'writeTasks',
        runId: msg.runId,
        activities: chunk,
        ...(ledgerFrom ? { ledgerFrom } : {}),
      }),
    );
    await deps.sender.send(requireQueueUrl(deps, 'write'), messages);
  }
  const done = !page.moreResult || passedEnd;
  const advanced = await deps.cursors.advanceChain(id, chain.page, {
    token: page.nextPageToken,
    resumeFrom: new Date(resumeFrom).toISOString(),
    done,
  });
  await deps.runs.add('activities', msg.runId, {
    ...(advanced ? { read: inWindow.length, pages: 1 } : { duplicateFetches: 1 }),
  });
  if (!advanced) return { status: 'stale' };
  await continueChain(deps, msg, { ...chain, page: chain.page + 1, done });
  return { status: 'advanced', read: inWindow.length, done };
}

/** Where the stream's next incremental read starts (its run's upper bound less the overlap): WriteMessage.ledgerFrom. */
export function ledgerFromOf(
  settings: ActivityDeps['settings'],
  cursor: { runUntil?: string | undefined } | undefined,
): string | undefined {
  return cursor?.runUntil
    ? new Date(Date.parse(cursor.runUntil) - settings.activities.overlapMinutes * 60_000).toISOString()
    : undefined;
}

/** After a checkpoint: enqueue the next step, or record the finished window. Safe to repeat. */
async function continueChain(
  deps: Omit<ActivityDeps, 'ledger' | 'leadCache'>,
  msg: FetchMessage,
  chain: ChainState,
): Promise<void> {
  if (!chain.done) {
    await deps.sender.send(requireQueueUrl(deps, 'fetch'), [
      { ...msg, page: chain.page } satisfies FetchMessage,
    ]);
    return;
  }
  await completeStreamWindow(deps, msg);
}

/** Records a finished window (REST chain or export job); the stream's last one reports it caught up. */
export async function completeStreamWindow(
  deps: Pick<ActivityDeps, 'cursors' | 'runs' | 'logger'>,
  msg: Pick<FetchMessage, 'streamKey' | 'runId' | 'windowIndex'>,
): Promise<void> {
  const result = await deps.cursors.completeWindow(msg.streamKey, msg.runId, msg.windowIndex);
  if (result === 'streamDone') {
    deps.logger.info('Activity stream caught up', { stream: msg.streamKey, runId: msg.runId });
    await deps.runs.add('activities', msg.runId, { streamsDone: 1 });
    const run = await deps.runs.get('activities', msg.runId);
    if (run && (run.counts.streamsDone ?? 0) >= (run.counts.streamsStarted ?? 0))
      recordJobCompleted('activities');
  }
}

export function toWriteActivity(a: Activity, activityTypeName: string): WriteActivity {
  return {
    marketoGUID: a.marketoGUID,
    leadId: a.leadId,
    activityDate: a.activityDate,
    activityTypeId: a.activityTypeId,
    activityTypeName,
    ...(a.primaryAttributeValue != null ? { primaryAttributeValue: a.primaryAttributeValue } : {}),
    ...(a.attributes?.length ? { attributes: a.attributes } : {}),
    ...(a.campaignId != null ? { campaignId: a.campaignId } : {}),
  };
}
