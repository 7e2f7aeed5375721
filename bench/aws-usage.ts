/**
 * Counts what a run would cost on AWS, from the SDK clients the pipeline itself uses: middleware
 * on the DynamoDB client (every item command asks for ConsumedCapacity=TOTAL; dynalite computes
 * it as DynamoDB does, by item size) and on the SQS client (requests by action, billed 64 KB
 * chunks, and Lambda invocations: each non-empty ReceiveMessage of the embedded event source is
 * one invocation of the queue's consumer, lasting until its messages are deleted).
 */
import type { QueueKey } from '../shared/adapters/sqs/queue-definitions.js';
import { sqsBilledRequests } from './figures.js';

/** The slice of an SDK v3 client this file needs (DynamoDBClient, DynamoDBDocumentClient, SQSClient). */
interface MiddlewareClient {
  middlewareStack: {
    add(
      middleware: (
        next: (args: { input: object }) => Promise<{ output: object }>,
        context: { commandName?: string },
      ) => (args: { input: object }) => Promise<{ output: object }>,
      options: { step: 'initialize'; name: string },
    ): void;
  };
}

const READ_COMMANDS = new Set([
  'GetItemCommand',
  'BatchGetItemCommand',
  'QueryCommand',
  'ScanCommand',
  'TransactGetItemsCommand',
]);
const WRITE_COMMANDS = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
  'TransactWriteItemsCommand',
]);

interface Capacity {
  TableName?: string;
  CapacityUnits?: number;
}

export interface DynamoDbUsage {
  readUnits: number;
  writeUnits: number;
  /** Item commands by name. */
  commands: Record<string, number>;
  byTable: Record<string, { readUnits: number; writeUnits: number }>;
  /** Conditional writes refused (DynamoDB still bills them: one write unit each, counted). */
  conditionalCheckFailures: number;
}

/** Adds ConsumedCapacity=TOTAL to every item command of `client` and sums the units into the result. */
export function countDynamoDb(client: MiddlewareClient, tableNames: Record<string, string>): DynamoDbUsage {
  const usage: DynamoDbUsage = {
    readUnits: 0,
    writeUnits: 0,
    commands: {},
    byTable: {},
    conditionalCheckFailures: 0,
  };
  const keyOf = new Map(Object.entries(tableNames).map(([key, name]) => [name, key]));
  const add = (kind: 'read' | 'write', table: string | undefined, units: number) => {
    const key = keyOf.get(table ?? '') ?? table ?? 'unknown';
    const t = usage.byTable[key] ?? { readUnits: 0, writeUnits: 0 };
    if (kind === 'read') {
      usage.readUnits += units;
      t.readUnits += units;
    } else {
      usage.writeUnits += units;
      t.writeUnits += units;
    }
    usage.byTable[key] = t;
  };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? '';
      const kind = READ_COMMANDS.has(name) ? 'read' : WRITE_COMMANDS.has(name) ? 'write' : undefined;
      if (!kind) return next(args);
      usage.commands[name] = (usage.commands[name] ?? 0) + 1;
      const input = args.input as { ReturnConsumedCapacity?: string; TableName?: string };
      input.ReturnConsumedCapacity ??= 'TOTAL';
      try {
        const result = await next(args);
        const consumed = (result.output as { ConsumedCapacity?: Capacity | Capacity[] }).ConsumedCapacity;
        for (const c of consumed === undefined ? [] : Array.isArray(consumed) ? consumed : [consumed])
          add(kind, c.TableName, c.CapacityUnits ?? 0);
        return result;
      } catch (err) {
        if ((err as { name?: string }).name === 'ConditionalCheckFailedException') {
          usage.conditionalCheckFailures += 1;
          add('write', input.TableName, 1);
        }
        throw err;
      }
    },
    { step: 'initialize', name: 'benchConsumedCapacity' },
  );
  return usage;
}

/** One handler invocation of a queue's consumer, as the embedded event source ran it. */
export interface Invocation {
  queue: string;
  messages: number;
  /** When the handler was given the batch (after the batching window, which Lambda does not bill). */
  startedAt: number;
  /** When its messages were deleted; undefined if none was (a failed batch, billed at the median). */
  endedAt?: number;
}

/** How a queue's consumer batches: Lambda invokes at `batchSize` messages or when the window ends. */
export interface Batching {
  batchSize: number;
  windowMs: number;
}

export interface SqsUsage {
  /** API requests by action (CreateQueue/GetQueueAttributes/GetQueueUrl: local bookkeeping, not billed). */
  requests: Record<string, number>;
  /** Billed requests (64 KB chunks) of the actions a deployment makes: send, receive, delete, change visibility. */
  billedRequests: number;
  /** ReceiveMessage calls that returned nothing (in AWS, Lambda's idle long polling: a fixed cost per queue, not per activity). */
  emptyReceives: number;
  /** Handler invocations, complete once `invocations()` is called after the run. */
  invocations(): Invocation[];
  /** First receive and last delete of each queue. */
  activity: Record<string, { firstReceiveAt: number; lastSettledAt: number }>;
}

const NOT_BILLED = new Set(['CreateQueueCommand', 'GetQueueAttributesCommand', 'GetQueueUrlCommand']);

interface SqsEntry {
  MessageBody?: string;
  ReceiptHandle?: string;
}

interface Receive {
  queue: string;
  at: number;
  messages: number;
  invocation?: Invocation;
}

/**
 * Counts SQS requests and the Lambda invocations they imply. `queues` maps queue URL → key. An
 * invocation is the set of receives whose messages one DeleteMessageBatch settles (the embedded
 * event source may receive several times to fill a batch); it started when its batch was
 * complete — full, or its batching window over — and ended at that delete.
 */
export function countSqs(
  client: MiddlewareClient,
  queues: Map<string, QueueKey | string>,
  batching: ReadonlyMap<string, Batching> = new Map(),
): SqsUsage {
  const receives: Receive[] = [];
  const byReceipt = new Map<string, Receive>();
  const settled: Invocation[] = [];
  const activity: SqsUsage['activity'] = {};
  const counters = { billedRequests: 0, emptyReceives: 0 };
  const requests: Record<string, number> = {};
  const queueOf = (url: unknown) => queues.get(String(url)) ?? 'other';
  const settle = (receipts: (string | undefined)[], at: number) => {
    const group = new Set<Receive>();
    for (const r of receipts) {
      const rec = r ? byReceipt.get(r) : undefined;
      if (rec) group.add(rec);
    }
    if (group.size === 0) return;
    const known = [...group].find((g) => g.invocation)?.invocation;
    if (known) {
      // A retried delete of the same batch: it only extends that invocation.
      known.endedAt = Math.max(known.endedAt ?? at, at);
      return;
    }
    const list = [...group];
    const queue = list[0]?.queue ?? 'other';
    const messages = list.reduce((n, g) => n + g.messages, 0);
    const first = Math.min(...list.map((g) => g.at));
    const last = Math.max(...list.map((g) => g.at));
    const b = batching.get(queue);
    const startedAt =
      !b || b.windowMs === 0 || messages >= b.batchSize ? last : Math.min(at, first + b.windowMs);
    const invocation: Invocation = { queue, messages, startedAt, endedAt: at };
    for (const g of list) g.invocation = invocation;
    settled.push(invocation);
    const a = activity[queue];
    if (a) a.lastSettledAt = Math.max(a.lastSettledAt, at);
  };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'unknown';
      const input = args.input as { QueueUrl?: string; MessageBody?: string; Entries?: SqsEntry[] };
      requests[name] = (requests[name] ?? 0) + 1;
      const result = await next(args);
      const at = Date.now();
      if (NOT_BILLED.has(name)) return result;
      switch (name) {
        case 'SendMessageCommand':
          counters.billedRequests += sqsBilledRequests(Buffer.byteLength(input.MessageBody ?? ''));
          break;
        case 'SendMessageBatchCommand':
          counters.billedRequests += sqsBilledRequests(
            (input.Entries ?? []).reduce((s, e) => s + Buffer.byteLength(e.MessageBody ?? ''), 0),
          );
          break;
        case 'ReceiveMessageCommand': {
          const messages = (result.output as { Messages?: { Body?: string; ReceiptHandle?: string }[] })
            .Messages;
          if (!messages?.length) {
            counters.emptyReceives += 1;
            break;
          }
          counters.billedRequests += sqsBilledRequests(
            messages.reduce((s, m) => s + Buffer.byteLength(m.Body ?? ''), 0),
          );
          const rec: Receive = { queue: queueOf(input.QueueUrl), at, messages: messages.length };
          receives.push(rec);
          activity[rec.queue] ??= { firstReceiveAt: at, lastSettledAt: at };
          for (const m of messages) if (m.ReceiptHandle) byReceipt.set(m.ReceiptHandle, rec);
          break;
        }
        case 'DeleteMessageBatchCommand':
          counters.billedRequests += 1;
          settle(
            (input.Entries ?? []).map((e) => e.ReceiptHandle),
            at,
          );
          break;
        case 'DeleteMessageCommand':
          counters.billedRequests += 1;
          settle([(input as { ReceiptHandle?: string }).ReceiptHandle], at);
          break;
        default:
          counters.billedRequests += 1;
      }
      return result;
    },
    { step: 'initialize', name: 'benchSqsUsage' },
  );
  return {
    requests,
    get billedRequests() {
      return counters.billedRequests;
    },
    get emptyReceives() {
      return counters.emptyReceives;
    },
    activity,
    invocations() {
      // Receives no delete ever settled (their batch failed): one invocation each, duration unknown.
      const failed = receives
        .filter((r) => !r.invocation)
        .map((r): Invocation => ({ queue: r.queue, messages: r.messages, startedAt: r.at }));
      return [...settled, ...failed];
    },
  };
}
