import type { Message } from '@aws-sdk/client-sqs';
import type { CommandResult } from '../command-result.js';
import { clip, deadLetterView, formatView, maskBody, SHOW_BODY_LINES } from './dead-letter-view.js';
import type { DlqContext, DlqQueue } from './dlq-context.js';
import { receiveAll } from './receive-all.js';

export async function showDeadLetter(
  ctx: DlqContext,
  queues: DlqQueue[],
  messageId: string,
): Promise<CommandResult> {
  for (const q of queues) {
    let found: Message | undefined;
    const { handBack } = await receiveAll(ctx, q.dlqUrl, {
      each: async (m) => {
        if (m.MessageId === messageId) found = m;
        return false;
      },
    });
    await handBack();
    if (!found) continue;
    const record = await ctx.failures.get(q.key, messageId);
    const v = deadLetterView(q.key, found, record);
    const body = maskBody(found.Body ?? '');
    return {
      exitCode: 0,
      lines: [
        ...formatView(v),
        `            failures recorded ${record?.failures ?? 0}, last ${record?.lastFailedAt ?? '?'}, sent ${v.sentAt ?? '?'}`,
        'Body (emails hashed):',
        ...clip(JSON.stringify(body, null, 2).split('\n'), SHOW_BODY_LINES),
      ],
      summary: {
        command: 'dlq show',
        found: true,
        inDeadLetterQueue: true,
        ...v,
        record: record ?? null,
        body,
      },
    };
  }
  // Not (or no longer) in a dead-letter queue: the failure record may still explain it.
  for (const q of queues) {
    const record = await ctx.failures.get(q.key, messageId);
    if (!record) continue;
    return {
      exitCode: 0,
      lines: [
        `${messageId} is not in the ${q.key} dead-letter queue (redriven, or it succeeded on a later attempt).`,
        record.error
          ? `Last failure ${record.lastFailedAt}: ${record.error.name}: ${record.error.message}`
          : 'No failure was recorded for it.',
        ...(record.redrive ? [`Redrive: ${record.redrive.state} ${record.redrive.newMessageId ?? ''}`] : []),
      ],
      summary: { command: 'dlq show', found: true, inDeadLetterQueue: false, queue: q.key, record },
    };
  }
  return {
    exitCode: 1,
    lines: [`No dead letter and no failure record with message id ${messageId}.`],
    summary: { command: 'dlq show', found: false, messageId },
  };
}
