import {
  ChangeMessageVisibilityCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/**
 * Watches one SQS client (every sender, event source and deferrer of an embedded environment share
 * it): how often each message was received, and every park — a ChangeMessageVisibility (the
 * visibility deferrer) or a re-send carrying `parkedUntil` with a delay (the unsubscribe consumer
 * parks outside the receive count). A park until a vendor's reset is hours long in real time; the
 * chaos suite runs the vendors' clocks ahead instead of waiting, and `parkSeconds` maps the park
 * the product asked for to the real seconds it lasts here.
 */

export interface Park {
  queue: string;
  /** Seconds the product asked for. */
  requested: number;
  /** Seconds applied (after `parkSeconds`). */
  applied: number;
}

export interface SqsObserver {
  /** Highest ApproximateReceiveCount seen per queue name (e.g. `sync-write`). */
  maxReceives(queue: string): number;
  /** Receives per queue name (a redelivered message counts each time). */
  receives(queue: string): number;
  parks: Park[];
  restore(): void;
}

const queueName = (url: string | undefined) => url?.split('/').at(-1) ?? 'unknown';

/** The `parkedUntil` (epoch ms) of a re-sent, parked message body; undefined for any other body. */
function parkedUntilOf(body: string | undefined): number | undefined {
  if (!body?.includes('parkedUntil')) return undefined;
  try {
    const parsed = JSON.parse(body) as { parkedUntil?: unknown };
    return typeof parsed.parkedUntil === 'string' ? Date.parse(parsed.parkedUntil) : undefined;
  } catch {
    return undefined;
  }
}

export function observeSqs(
  client: SQSClient,
  options: { parkSeconds?: (requested: number) => number } = {},
): SqsObserver {
  const original = client.send.bind(client);
  const maxByQueue = new Map<string, number>();
  const receivesByQueue = new Map<string, number>();
  const parks: Park[] = [];
  const patched = async (command: unknown, ...rest: unknown[]): Promise<unknown> => {
    if (command instanceof ChangeMessageVisibilityCommand) {
      const requested = command.input.VisibilityTimeout ?? 0;
      const applied = options.parkSeconds
        ? Math.max(1, Math.round(options.parkSeconds(requested)))
        : requested;
      parks.push({ queue: queueName(command.input.QueueUrl), requested, applied });
      command = new ChangeMessageVisibilityCommand({ ...command.input, VisibilityTimeout: applied });
    }
    if (command instanceof SendMessageBatchCommand && options.parkSeconds) {
      const map = options.parkSeconds;
      const queue = queueName(command.input.QueueUrl);
      let parked = false;
      const entries = (command.input.Entries ?? []).map((entry): SendMessageBatchRequestEntry => {
        const until = parkedUntilOf(entry.MessageBody);
        if (until === undefined) return entry;
        const requested = Math.max(1, Math.round((until - Date.now()) / 1000));
        const applied = Math.max(1, Math.round(map(requested)));
        if (!parked) parks.push({ queue, requested, applied });
        parked = true;
        const body = JSON.parse(entry.MessageBody ?? '{}') as Record<string, unknown>;
        body.parkedUntil = new Date(Date.now() + applied * 1000).toISOString();
        return { ...entry, MessageBody: JSON.stringify(body), DelaySeconds: Math.min(900, applied) };
      });
      if (parked) {
        command = new SendMessageBatchCommand({ ...command.input, Entries: entries });
      }
    }
    const out = await (original as (c: unknown, ...r: unknown[]) => Promise<unknown>)(command, ...rest);
    if (command instanceof ReceiveMessageCommand) {
      const queue = queueName(command.input.QueueUrl);
      const messages = (out as { Messages?: Message[] }).Messages ?? [];
      receivesByQueue.set(queue, (receivesByQueue.get(queue) ?? 0) + messages.length);
      for (const m of messages) {
        const n = Number(m.Attributes?.ApproximateReceiveCount ?? '1');
        if (n > (maxByQueue.get(queue) ?? 0)) maxByQueue.set(queue, n);
      }
    }
    return out;
  };
  (client as unknown as { send: typeof patched }).send = patched;
  return {
    maxReceives: (queue) => maxByQueue.get(queue) ?? 0,
    receives: (queue) => receivesByQueue.get(queue) ?? 0,
    parks,
    restore() {
      (client as unknown as { send: typeof original }).send = original;
    },
  };
}
