import { setTimeout as sleepMs } from 'node:timers/promises';
import {
  type MessageAttributeValue,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { type FailedEntry, MessageSendError, MessageTooLargeError } from '../../ports/message-errors.js';
import type { MessageAttributes, MessageSender, SendOptions } from '../../ports/message-sender.js';
import { toMessageJson } from '../../ports/pack-into-messages.js';
import { SQS_MAX_BATCH_BYTES, SQS_MAX_BATCH_ENTRIES } from '../../ports/vendor-limits.js';

export interface SqsMessageSenderOptions {
  client: SQSClient;
  /** Attempts per entry listed in `Failed` (first send included). Default 4. */
  maxAttempts?: number;
  /** Backoff before retry n is `baseDelayMs × 2^(n-1)` with full jitter. Default 100 ms. */
  baseDelayMs?: number;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
}

interface PreparedEntry {
  readonly index: number;
  readonly entry: SendMessageBatchRequestEntry;
  readonly bytes: number;
}

const encoder = new TextEncoder();
const utf8Length = (s: string): number => encoder.encode(s).byteLength;

function toSqsAttributes(
  attributes: MessageAttributes | undefined,
): Record<string, MessageAttributeValue> | undefined {
  if (!attributes || Object.keys(attributes).length === 0) return undefined;
  return Object.fromEntries(
    Object.entries(attributes).map(([name, value]) => [
      name,
      typeof value === 'number'
        ? { DataType: 'Number', StringValue: String(value) }
        : { DataType: 'String', StringValue: value },
    ]),
  );
}

/** Size as SQS counts it: body plus each attribute's name, type and value. */
function attributesBytes(attributes: Record<string, MessageAttributeValue> | undefined): number {
  let total = 0;
  for (const [name, value] of Object.entries(attributes ?? {})) {
    total += utf8Length(name) + utf8Length(value.DataType ?? '') + utf8Length(value.StringValue ?? '');
  }
  return total;
}

/** Greedy batches of ≤ 10 entries and ≤ 256 KiB, in order. */
function intoBatches(entries: readonly PreparedEntry[]): PreparedEntry[][] {
  const batches: PreparedEntry[][] = [];
  let current: PreparedEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    if (current.length === SQS_MAX_BATCH_ENTRIES || bytes + entry.bytes > SQS_MAX_BATCH_BYTES) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += entry.bytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * MessageSender over SendMessageBatch. Every partial failure is a failure: entries in `Failed`
 * (or missing from `Successful`) are retried with backoff; sender faults are not retried.
 * Whatever still failed is reported in one MessageSendError after every batch was tried.
 */
export class SqsMessageSender implements MessageSender {
  readonly #client: SQSClient;
  readonly #maxAttempts: number;
  readonly #baseDelayMs: number;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(options: SqsMessageSenderOptions) {
    this.#client = options.client;
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 4);
    this.#baseDelayMs = options.baseDelayMs ?? 100;
    this.#sleep = options.sleep ?? ((ms) => sleepMs(ms));
  }

  async send(queueUrl: string, bodies: unknown[], options: SendOptions = {}): Promise<void> {
    const attributes = toSqsAttributes(options.messageAttributes);
    const attrBytes = attributesBytes(attributes);
    const prepared = bodies.map((body, index): PreparedEntry => {
      let json: string;
      try {
        json = toMessageJson(body);
      } catch (cause) {
        throw new TypeError(
          `Message body at index ${index} serialises to nothing (undefined or a function)`,
          { cause },
        );
      }
      const bytes = utf8Length(json) + attrBytes;
      if (bytes > SQS_MAX_BATCH_BYTES) throw new MessageTooLargeError(index, bytes, SQS_MAX_BATCH_BYTES);
      return {
        index,
        bytes,
        entry: {
          Id: `m${index}`,
          MessageBody: json,
          ...(options.delaySeconds === undefined ? {} : { DelaySeconds: options.delaySeconds }),
          ...(attributes ? { MessageAttributes: attributes } : {}),
        },
      };
    });

    let sent = 0;
    const failures: FailedEntry[] = [];
    const batches = intoBatches(prepared);
    for (const [i, batch] of batches.entries()) {
      try {
        const result = await this.#sendBatch(queueUrl, batch);
        sent += result.sent;
        failures.push(...result.failures);
      } catch (err) {
        // The call itself failed (after the SDK's own retries): later batches are not attempted.
        const unsentCount = batches.slice(i).reduce((n, b) => n + b.length, 0);
        throw new MessageSendError(queueUrl, sent, failures, { cause: err, unsentCount });
      }
    }
    if (failures.length > 0) throw new MessageSendError(queueUrl, sent, failures);
  }

  async #sendBatch(
    queueUrl: string,
    batch: readonly PreparedEntry[],
  ): Promise<{ sent: number; failures: FailedEntry[] }> {
    let pending = [...batch];
    let sent = 0;
    const failures: FailedEntry[] = [];
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > 1) await this.#sleep(Math.random() * this.#baseDelayMs * 2 ** (attempt - 2));
      const out = await this.#client.send(
        new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending.map((p) => p.entry) }),
      );
      const succeeded = new Set((out.Successful ?? []).map((s) => s.Id));
      sent += pending.filter((p) => succeeded.has(p.entry.Id)).length;
      const failedById = new Map((out.Failed ?? []).map((f) => [f.Id, f]));
      const retry: PreparedEntry[] = [];
      for (const p of pending) {
        if (succeeded.has(p.entry.Id)) continue;
        const failed = failedById.get(p.entry.Id);
        const failure: FailedEntry = {
          index: p.index,
          code: failed?.Code ?? 'MissingFromResponse',
          message: failed?.Message ?? 'Entry in neither Successful nor Failed',
          senderFault: failed?.SenderFault === true,
        };
        if (failure.senderFault || attempt >= this.#maxAttempts) failures.push(failure);
        else retry.push(p);
      }
      pending = retry;
    }
    return { sent, failures };
  }
}
