import {
  DeleteMessageCommand,
  type Message,
  type MessageAttributeValue,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { isConditionalCheckFailed } from '../../../shared/adapters/dynamodb/conditional-check.js';
import type { QueueKey } from '../../../shared/adapters/sqs/queue-definitions.js';
import { REDRIVEN_FROM_ATTRIBUTE } from '../../../shared/runtime/failure-recorder.js';
import type { CommandResult } from '../command-result.js';
import { deadLetterView, inRange } from './dead-letter-view.js';
import type { DlqContext, DlqQueue } from './dlq-context.js';
import { receiveAll } from './receive-all.js';

/**
 * Sends each selected dead letter back to its source queue, then deletes it from the DLQ. The
 * failure record notes the send before and after, so a re-run (or a run after a crash) never
 * sends a message whose copy is known to be out: it only deletes the DLQ copy. Only a crash
 * between SendMessage and noting its result can send a copy twice, which is harmless: every
 * consumer is idempotent (ledger / upsert on the external id, chain checkpoints, opt-out events).
 */
export async function redriveDeadLetters(
  ctx: DlqContext,
  queues: DlqQueue[],
  since: Date | undefined,
): Promise<CommandResult> {
  const result = {
    redriven: 0,
    /** DLQ copies of messages already sent back by an earlier (interrupted) redrive: deleted, not re-sent. */
    alreadySent: 0,
    /** Sent again because an earlier redrive died between sending and noting it. */
    resentAfterUnknownOutcome: 0,
    /** Left in the DLQ by --since. */
    skipped: 0,
  };
  const byQueue: Record<string, number> = {};
  const moved: { queue: QueueKey; messageId: string; newMessageId: string }[] = [];
  for (const q of queues) {
    byQueue[q.key] = 0;
    const { handBack } = await receiveAll(ctx, q.dlqUrl, {
      each: async (m) => {
        const id = m.MessageId as string;
        const record = await ctx.failures.get(q.key, id);
        if (!inRange(deadLetterView(q.key, m, record), since)) {
          result.skipped++;
          return false;
        }
        if (record?.redrive?.newMessageId) {
          await deleteFromDlq(ctx, q, m);
          result.alreadySent++;
          return true;
        }
        if (record?.redrive?.state === 'sending') result.resentAfterUnknownOutcome++;
        try {
          await ctx.failures.redriveStarted(q.key, id);
        } catch (err) {
          if (!isConditionalCheckFailed(err)) throw err;
          // Another redrive sent it meanwhile.
          await deleteFromDlq(ctx, q, m);
          result.alreadySent++;
          return true;
        }
        const sent = await ctx.sqs.send(
          new SendMessageCommand({
            QueueUrl: q.url,
            MessageBody: m.Body ?? '',
            MessageAttributes: {
              ...passOn(m.MessageAttributes),
              [REDRIVEN_FROM_ATTRIBUTE]: { DataType: 'String', StringValue: id },
            },
          }),
        );
        if (!sent.MessageId) throw new Error(`SendMessage to ${q.url} returned no MessageId for ${id}`);
        await ctx.hooks?.afterSend?.(id);
        await ctx.failures.redriveSent(q.key, id, sent.MessageId);
        await ctx.hooks?.afterRecord?.(id);
        await deleteFromDlq(ctx, q, m);
        result.redriven++;
        byQueue[q.key] = (byQueue[q.key] ?? 0) + 1;
        moved.push({ queue: q.key, messageId: id, newMessageId: sent.MessageId });
        return true;
      },
    });
    await handBack();
  }
  return {
    exitCode: 0,
    lines: [
      `Redriven ${result.redriven} message(s) to their source queues (${Object.entries(byQueue)
        .map(([k, n]) => `${k} ${n}`)
        .join(
          ', ',
        )}); ${result.alreadySent} already sent earlier (DLQ copy deleted), ${result.resentAfterUnknownOutcome} re-sent after an interrupted redrive, ${result.skipped} left by --since.`,
      ...moved.map((m) => `  ${m.queue.padEnd(11)} ${m.messageId} → ${m.newMessageId}`),
      ...(result.redriven > 0
        ? [
            'They are processed by the next `sync activities` run (fetch, write) or `sync serve` (unsubscribe); in AWS at once.',
          ]
        : []),
    ],
    summary: {
      command: 'dlq redrive',
      ...result,
      byQueue,
      ...(since ? { since: since.toISOString() } : {}),
      messages: moved,
    },
  };
}

async function deleteFromDlq(ctx: DlqContext, q: DlqQueue, m: Message): Promise<void> {
  await ctx.sqs.send(new DeleteMessageCommand({ QueueUrl: q.dlqUrl, ReceiptHandle: m.ReceiptHandle }));
}

/** Message attributes as SendMessage takes them (our own redrive marker is set afresh). */
function passOn(
  attributes: Record<string, MessageAttributeValue> | undefined,
): Record<string, MessageAttributeValue> {
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, v] of Object.entries(attributes ?? {})) {
    if (name === REDRIVEN_FROM_ATTRIBUTE) continue;
    out[name] = {
      DataType: v.DataType,
      ...(v.StringValue !== undefined ? { StringValue: v.StringValue } : {}),
      ...(v.BinaryValue !== undefined ? { BinaryValue: v.BinaryValue } : {}),
    };
  }
  return out;
}
