import { setTimeout as sleep } from 'node:timers/promises';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { queueCounts } from './local-sqs.js';

export interface DrainOptions {
  client: SQSClient;
  queues: string[];
  /** How long every queue must stay empty (visible + in flight + delayed = 0) in a row. */
  idleMs: number;
  timeoutMs: number;
  /** Poll interval for GetQueueAttributes. Default 100 ms. */
  intervalMs?: number;
  onProgress?: (depths: Record<string, { visible: number; inFlight: number; delayed: number }>) => void;
  /** Handlers still running (an attempt whose message was already redelivered and deleted). Default 0. */
  busy?: () => number;
}

export class DrainTimeoutError extends Error {
  override readonly name = 'DrainTimeoutError';
  constructor(
    readonly timeoutMs: number,
    readonly depths: Record<string, { visible: number; inFlight: number; delayed: number }>,
  ) {
    super(
      `Queues not idle after ${timeoutMs} ms: ${JSON.stringify(depths)}. ` +
        'A consumer may be stopped, failing repeatedly, or the visibility timeout is longer than the wait.',
    );
  }
}

/** Resolves once every queue has been empty for `idleMs` in a row; rejects after `timeoutMs`. */
export async function drainUntilIdle(options: DrainOptions): Promise<void> {
  const { client, queues, idleMs, timeoutMs } = options;
  const intervalMs = options.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let idleSince: number | undefined;
  for (;;) {
    const depths: Record<string, { visible: number; inFlight: number; delayed: number }> = {};
    for (const url of queues) depths[url] = await queueCounts(client, url);
    options.onProgress?.(depths);
    const now = Date.now();
    const empty =
      Object.values(depths).every((d) => d.visible + d.inFlight + d.delayed === 0) &&
      (options.busy?.() ?? 0) === 0;
    if (!empty) idleSince = undefined;
    else {
      idleSince ??= now;
      if (now - idleSince >= idleMs) return;
    }
    if (now >= deadline) throw new DrainTimeoutError(timeoutMs, depths);
    await sleep(Math.min(intervalMs, Math.max(0, deadline - now)));
  }
}
