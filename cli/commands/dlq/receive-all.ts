import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { type DlqContext, PEEK_VISIBILITY_SECONDS } from './dlq-context.js';

/**
 * Receives every message of one dead-letter queue (up to `limit`), each once, keeping them hidden
 * until `handBack` so a message is not returned twice. `each` may consume a message (delete it);
 * it returns true then, and the message is not handed back.
 */
export async function receiveAll(
  ctx: DlqContext,
  dlqUrl: string,
  options: { limit?: number; each?: (m: Message) => Promise<boolean> },
): Promise<{ messages: Message[]; hidden: number; handBack: () => Promise<void> }> {
  const { sqs } = ctx;
  const seen = new Map<string, Message>();
  const kept: Message[] = [];
  const before = await counts(sqs, dlqUrl);
  if (before.visible + before.inFlight + before.delayed === 0)
    return { messages: [], hidden: 0, handBack: async () => undefined };
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  while (seen.size < limit) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: ctx.visibilitySeconds ?? PEEK_VISIBILITY_SECONDS,
        // Long polling (even 1 s) asks every SQS server, so an empty answer means empty.
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    const fresh = (out.Messages ?? []).filter((m) => m.MessageId && !seen.has(m.MessageId));
    // Empty (long polling asks every server), or only repeats (our visibility ran out on a long
    // listing, so everything has been seen): done.
    if (fresh.length === 0) break;
    for (const m of fresh) {
      seen.set(m.MessageId as string, m);
      const consumed = options.each ? await options.each(m) : false;
      if (!consumed) kept.push(m);
    }
  }
  return {
    messages: [...seen.values()],
    // In flight before we started: looked at by another process, or left by one that stopped.
    hidden: before.inFlight,
    handBack: () => makeVisible(sqs, dlqUrl, kept),
  };
}

/** Approximate counts (exact on fauxqs; in AWS they lag a little, and a receive settles the rest). */
async function counts(
  sqs: SQSClient,
  queueUrl: string,
): Promise<{ visible: number; inFlight: number; delayed: number }> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0),
  };
}

/** Visibility 0 for every message given (ChangeMessageVisibilityBatch, 10 at a time). */
async function makeVisible(sqs: SQSClient, queueUrl: string, messages: Message[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    const chunk = messages.slice(i, i + 10);
    const out = await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((m, j) => ({
          Id: `v${j}`,
          ReceiptHandle: m.ReceiptHandle,
          VisibilityTimeout: 0,
        })),
      }),
    );
    if (out.Failed?.length) {
      process.stderr.write(
        `warning: ${out.Failed.length} dead letter(s) could not be handed back at once; they reappear within ${PEEK_VISIBILITY_SECONDS} s\n`,
      );
    }
  }
}
