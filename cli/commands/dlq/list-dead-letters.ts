import type { CommandResult } from '../command-result.js';
import { type DeadLetterView, deadLetterView, failedAt, formatView, inRange } from './dead-letter-view.js';
import { type DlqContext, type DlqQueue, PEEK_VISIBILITY_SECONDS } from './dlq-context.js';
import { receiveAll } from './receive-all.js';

/** list shows at most this many dead letters per queue (counts are exact up to it). */
export const LIST_LIMIT = 1_000;

async function peekQueue(
  ctx: DlqContext,
  q: DlqQueue,
  limit?: number,
): Promise<{ views: DeadLetterView[]; hidden: number }> {
  const { messages, hidden, handBack } = await receiveAll(
    ctx,
    q.dlqUrl,
    limit === undefined ? {} : { limit },
  );
  try {
    const records = await ctx.failures.getMany(
      messages.map((m) => ({ queue: q.key, messageId: m.MessageId as string })),
    );
    const views = messages.map((m) => deadLetterView(q.key, m, records.get(`${q.key}#${m.MessageId}`)));
    return { views, hidden };
  } finally {
    await handBack();
  }
}

export async function listDeadLetters(
  ctx: DlqContext,
  queues: DlqQueue[],
  since: Date | undefined,
): Promise<CommandResult> {
  const all: DeadLetterView[] = [];
  const byQueue: Record<string, number> = {};
  let truncated = false;
  let hidden = 0;
  for (const q of queues) {
    const peeked = await peekQueue(ctx, q, LIST_LIMIT);
    const { views } = peeked;
    hidden += peeked.hidden;
    if (views.length >= LIST_LIMIT) truncated = true;
    const selected = views.filter((v) => inRange(v, since));
    byQueue[q.key] = selected.length;
    all.push(...selected);
  }
  all.sort((a, b) => (failedAt(a) ?? '').localeCompare(failedAt(b) ?? ''));
  const lines = [
    `Dead letters: ${all.length} (${Object.entries(byQueue)
      .map(([k, n]) => `${k} ${n}`)
      .join(
        ', ',
      )})${since ? ` first failing since ${since.toISOString()}` : ''}${truncated ? ` (first ${LIST_LIMIT} per queue)` : ''}`,
    ...(hidden > 0
      ? [
          `${hidden} more hidden: being looked at or redriven by another process, or left by one that stopped; they reappear within ${PEEK_VISIBILITY_SECONDS} s.`,
        ]
      : []),
    ...all.flatMap(formatView),
  ];
  return {
    exitCode: 0,
    lines,
    summary: {
      command: 'dlq list',
      total: all.length,
      byQueue,
      hidden,
      ...(since ? { since: since.toISOString() } : {}),
      truncated,
      messages: all,
    },
  };
}
