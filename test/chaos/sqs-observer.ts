import {
  ChangeMessageVisibilityCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/**
 * Watches one SQS client (every sender, event source and deferrer of an embedded environment share
 * it): how often each message was received, and every park (ChangeMessageVisibility — nothing but
 * the visibility deferrer sends one). A park until a vendor's reset is hours long in real time; the
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
