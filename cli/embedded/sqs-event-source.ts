import { setTimeout as sleep } from 'node:timers/promises';
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { lambdaContext } from './lambda-context.js';
import { queueArn } from './local-sqs.js';
import { recordsToDelete } from './records-to-delete.js';
import { toSqsRecord } from './sqs-record.js';

export { type DrainOptions, DrainTimeoutError, drainUntilIdle } from './drain-until-idle.js';
export { toSqsRecord } from './sqs-record.js';

/** The logger calls the event source makes (a Powertools Logger fits). */
/** Structural subset of Powertools' Logger (which fits it). */
export interface EventSourceLogger {
  debug(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

// biome-ignore lint/suspicious/noConfusingVoidType: same as aws-lambda's SQSHandler: a handler may return nothing.
export type SqsBatchHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

export interface SqsEventSourceOptions {
  client: SQSClient;
  queueUrl: string;
  handler: SqsBatchHandler;
  /** Messages per invocation: 1–10, or up to 10,000 with a batching window (as Lambda). Default 10. */
  batchSize?: number;
  /**
   * Like Lambda's MaximumBatchingWindowInSeconds: after the first messages arrive, keep receiving
   * for up to this long until the batch is full. Default 0 (hand over what one receive returned).
   * Keep it well under the queue's visibility timeout: the first messages' clock is running.
   */
  maxBatchingWindowMs?: number;
  /** Parallel pollers, each invoking the handler one batch at a time. Default 1. */
  concurrency?: number;
  /** Long-poll wait per ReceiveMessage, 0–20 s. Default 1 (keeps stop() quick). */
  waitTimeSeconds?: number;
  /** eventSourceARN for the records; read from the queue (QueueArn) when omitted. */
  queueArn?: string;
  logger: EventSourceLogger;
  /** Lambda function name reported in the context. Default 'local-<queue name>'. */
  functionName?: string;
  /** What `context.getRemainingTimeInMillis()` counts down from. Default 30 s. */
  functionTimeoutSeconds?: number;
  /**
   * Test hook, called after the handler with the records about to be deleted. Throwing here
   * simulates a crash between side effects and deletion: nothing is deleted, so the batch comes
   * back after the visibility timeout.
   */
  beforeDelete?: (records: SQSRecord[]) => Promise<void>;
}

export interface SqsEventSourceStats {
  /** Batches handed to the handler. */
  invocations: number;
  /** Messages received (a redelivered message counts each time). */
  received: number;
  /** Messages deleted after the handler succeeded for them. */
  deleted: number;
  /** Messages the handler reported in batchItemFailures (left for redelivery). */
  itemFailures: number;
  /** Invocations whose handler threw or returned an invalid response (whole batch left). */
  handlerErrors: number;
  /** Invocations abandoned by `beforeDelete` (simulated crashes). */
  crashes: number;
  /** Messages whose deletion SQS refused (they will be redelivered). */
  deleteFailures: number;
  /** ReceiveMessage calls that failed (the poller backs off and retries). */
  receiveErrors: number;
  /** Batches being handled right now (a redelivered copy can be done while its first attempt still runs). */
  active: number;
}

export interface SqsEventSource {
  readonly stats: Readonly<SqsEventSourceStats>;
  /**
   * Stops polling. Receives already under way complete and their batches are handled (and
   * deleted) first, so stopping never strands messages in flight.
   */
  stop(): Promise<void>;
}

/**
 * A local stand-in for the Lambda SQS event source mapping with ReportBatchItemFailures:
 * long-polls the queue, invokes `handler` with real SQSRecords, deletes the messages that did
 * not fail; a throwing handler deletes nothing (the batch returns after the visibility timeout,
 * and reaches the DLQ after maxReceiveCount receives).
 */
export async function startSqsEventSource(options: SqsEventSourceOptions): Promise<SqsEventSource> {
  const { client, queueUrl, handler, logger } = options;
  const batchSize = options.batchSize ?? 10;
  const concurrency = options.concurrency ?? 1;
  const waitTimeSeconds = options.waitTimeSeconds ?? 1;
  const windowMs = options.maxBatchingWindowMs ?? 0;
  const maxBatch = windowMs > 0 ? 10_000 : 10;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > maxBatch) {
    throw new RangeError(
      `batchSize must be 1–${maxBatch} (${windowMs > 0 ? 'with a batching window' : 'one ReceiveMessage'}), got ${batchSize}`,
    );
  }
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  const eventSourceArn = options.queueArn ?? (await queueArn(client, queueUrl));
  const queueName = eventSourceArn.split(':').at(-1) ?? 'queue';
  const region = eventSourceArn.split(':')[3] ?? 'us-east-1';
  const functionName = options.functionName ?? `local-${queueName}`;
  const stats: SqsEventSourceStats = {
    invocations: 0,
    received: 0,
    deleted: 0,
    itemFailures: 0,
    handlerErrors: 0,
    crashes: 0,
    deleteFailures: 0,
    receiveErrors: 0,
    active: 0,
  };
  const abort = new AbortController();

  /** DeleteMessageBatch takes at most 10 entries: a batch gathered in a window is deleted in parts. */
  async function deleteRecords(records: SQSRecord[]): Promise<void> {
    for (let i = 0; i < records.length; i += 10) await deleteUpTo10(records.slice(i, i + 10));
  }

  async function deleteUpTo10(records: SQSRecord[]): Promise<void> {
    let pending = records;
    for (let attempt = 1; pending.length > 0; attempt++) {
      const out = await client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: pending.map((r, i) => ({ Id: `d${i}`, ReceiptHandle: r.receiptHandle })),
        }),
      );
      const failed = out.Failed ?? [];
      stats.deleted += pending.length - failed.length;
      const retry: SQSRecord[] = [];
      for (const f of failed) {
        const record = pending[Number(f.Id?.slice(1))];
        if (!record) continue;
        if (f.SenderFault || attempt >= 3) {
          stats.deleteFailures++;
          logger.error('DeleteMessageBatch entry failed; the message will be redelivered', {
            queue: queueName,
            messageId: record.messageId,
            code: f.Code,
            senderFault: f.SenderFault,
          });
        } else retry.push(record);
      }
      pending = retry;
    }
  }

  async function handleBatch(messages: Message[]): Promise<void> {
    stats.active++;
    try {
      await handleBatchInner(messages);
    } finally {
      stats.active--;
    }
  }

  async function handleBatchInner(messages: Message[]): Promise<void> {
    const records = messages.map((m) => toSqsRecord(m, eventSourceArn));
    stats.received += records.length;
    stats.invocations++;
    let response: unknown;
    try {
      response = await handler(
        { Records: records },
        lambdaContext(functionName, options.functionTimeoutSeconds ?? 30, region),
      );
    } catch (err) {
      stats.handlerErrors++;
      logger.warn('Handler threw; the whole batch will be redelivered after the visibility timeout', {
        queue: queueName,
        messages: records.length,
        error: err instanceof Error ? { name: err.name, message: err.message } : String(err),
      });
      return;
    }
    const toDelete = recordsToDelete(records, response);
    if (toDelete === 'all-failed') {
      stats.handlerErrors++;
      logger.error(
        'Invalid batchItemFailures (id not in the batch, empty or malformed); whole batch failed',
        {
          queue: queueName,
        },
      );
      return;
    }
    stats.itemFailures += records.length - toDelete.length;
    if (options.beforeDelete) {
      try {
        await options.beforeDelete(toDelete);
      } catch (err) {
        stats.crashes++;
        logger.warn('Simulated crash before delete; the batch will be redelivered', {
          queue: queueName,
          error: err instanceof Error ? err.message : String(err),
        });
        return;
      }
    }
    if (toDelete.length > 0) await deleteRecords(toDelete);
  }

  /** The batching window: receive more (short polls) until the batch is full or the window ends. */
  async function fillBatch(messages: Message[]): Promise<void> {
    const deadline = Date.now() + windowMs;
    while (messages.length < batchSize && Date.now() < deadline && !abort.signal.aborted) {
      let more: Message[];
      try {
        const out = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: Math.min(10, batchSize - messages.length),
            WaitTimeSeconds: 0,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
        );
        more = out.Messages ?? [];
      } catch {
        return; // hand over what we have; the next poll reports receive errors
      }
      if (more.length === 0) {
        await sleep(Math.min(50, Math.max(0, deadline - Date.now())));
        continue;
      }
      for (const m of more) {
        // A window longer than the visibility timeout can receive a message again: keep one copy,
        // with the newest receipt handle (the only one that can still delete it).
        const i = messages.findIndex((held) => held.MessageId === m.MessageId);
        if (i >= 0) messages[i] = m;
        else messages.push(m);
      }
    }
  }

  async function poll(): Promise<void> {
    let backoffMs = 100;
    while (!abort.signal.aborted) {
      let messages: Message[];
      try {
        const out = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: Math.min(10, batchSize),
            WaitTimeSeconds: waitTimeSeconds,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          // Not aborted on stop: a long poll cut short client-side still receives server-side,
          // leaving messages invisible with nobody to handle them. stop() waits ≤ waitTimeSeconds.
        );
        messages = out.Messages ?? [];
        backoffMs = 100;
      } catch (err) {
        if (abort.signal.aborted) return;
        stats.receiveErrors++;
        logger.warn('ReceiveMessage failed; backing off', {
          queue: queueName,
          backoffMs,
          error: err instanceof Error ? { name: err.name, message: err.message } : String(err),
        });
        await sleep(backoffMs, undefined, { signal: abort.signal }).catch(() => undefined);
        backoffMs = Math.min(backoffMs * 2, 5_000);
        continue;
      }
      if (messages.length === 0) continue;
      if (messages.length < batchSize && windowMs > 0) await fillBatch(messages);
      try {
        await handleBatch(messages);
      } catch (err) {
        // Delete (or record building) failed: the messages simply come back, as in Lambda.
        logger.error('Batch bookkeeping failed; messages will be redelivered', {
          queue: queueName,
          error: err instanceof Error ? { name: err.name, message: err.message } : String(err),
        });
      }
    }
  }

  logger.debug('SQS event source started', { queue: queueName, batchSize, concurrency });
  const pollers = Array.from({ length: concurrency }, () => poll());
  let stopping: Promise<void> | undefined;
  return {
    stats,
    stop() {
      stopping ??= (async () => {
        abort.abort();
        await Promise.all(pollers);
      })();
      return stopping;
    },
  };
}
