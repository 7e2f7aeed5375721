import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { isConditionalCheckFailed } from '../../shared/adapters/dynamodb/conditional-check.js';
import { DynamoDbFailureStore } from '../../shared/adapters/dynamodb/failure-store.js';
import { tableNamesFromEnv } from '../../shared/adapters/dynamodb/table-definitions.js';
import { QUEUES, type QueueKey } from '../../shared/adapters/sqs/queue-definitions.js';
import { redact } from '../../shared/observability/logger.js';
import type {
  BodySummary,
  FailureRecord,
  FailureStore,
  RedriveState,
} from '../../shared/ports/failure-store.js';
import { createDocumentClient, createSqsClient } from '../../shared/runtime/aws-clients.js';
import { REDRIVEN_FROM_ATTRIBUTE, summariseBody } from '../../shared/runtime/failure-recorder.js';
import type { LocalEnvironment } from '../embedded/local-environment.js';
import type { CommandResult } from './command-result.js';
import { parseSince, SinceUsageError } from './since.js';

/**
 * `dlq list | show <messageId> | redrive [--queue fetch|write|unsubscribe] [--since T]`
 *
 * Works on any SQS API: the embedded default's fauxqs queues, or the deployed queues in AWS.
 * Peeking (list, show) receives dead letters with a short visibility timeout and hands them back
 * at once (visibility 0): nothing consumes the DLQ but this command, so a message is only hidden
 * while it is being looked at, and a crash hides it for PEEK_VISIBILITY_SECONDS at most.
 */

export interface DlqQueue {
  key: QueueKey;
  /** The source queue: where a redrive sends the message back to. */
  url: string;
  dlqUrl: string;
}

export interface DlqContext {
  sqs: SQSClient;
  queues: DlqQueue[];
  failures: FailureStore;
  /** Seconds a dead letter stays hidden while looked at (default PEEK_VISIBILITY_SECONDS). */
  visibilitySeconds?: number;
  /** Test hooks: simulate a crash at a step of a redrive. */
  hooks?: {
    afterSend?: (messageId: string) => Promise<void>;
    afterRecord?: (messageId: string) => Promise<void>;
  };
}

/** Seconds a peeked or redriven message stays hidden if this process dies before handing it back. */
export const PEEK_VISIBILITY_SECONDS = 120;
/** list shows at most this many dead letters per queue (counts are exact up to it). */
export const LIST_LIMIT = 1_000;

export class DlqUsageError extends SinceUsageError {}

export interface DeadLetterView {
  queue: QueueKey;
  messageId: string;
  firstFailedAt: string | null;
  lastFailedAt: string | null;
  /** Receives before it was dead-lettered (from the failure record). */
  attempts: number | null;
  error: { name: string; message: string } | null;
  vendorCode: string | null;
  requestId: string | null;
  body: BodySummary;
  sentAt: string | null;
  redrivenFrom: string | null;
  redrive: RedriveState | null;
}

/** The embedded default (or AWS_ENDPOINT_URL_* servers) as the CLI started it. */
export function dlqContextFromLocal(local: LocalEnvironment): DlqContext {
  const queues: DlqQueue[] = [];
  for (const key of Object.keys(QUEUES) as QueueKey[]) {
    const url = local.platform.queueUrls[key];
    const dlqUrl = local.dlqUrls[key];
    if (url && dlqUrl) queues.push({ key, url, dlqUrl });
  }
  return {
    sqs: local.platform.sqs,
    queues,
    failures: new DynamoDbFailureStore(local.platform.doc, local.platform.tables.failures),
  };
}

/**
 * The deployed queues, when the environment names them as the functions see them
 * (FETCH_QUEUE_URL, WRITE_QUEUE_URL, UNSUBSCRIBE_QUEUE_URL: the stack outputs) plus FAILURES_TABLE.
 * Each dead-letter queue is found from its source queue's redrive policy. Credentials and region
 * come from the standard AWS configuration (AWS_PROFILE, AWS_REGION …); AWS_ENDPOINT_URL_SQS /
 * AWS_ENDPOINT_URL_DYNAMODB point at other servers.
 * Undefined when no queue URL is set: the CLI then uses the embedded default.
 */
export async function dlqContextFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): Promise<DlqContext | undefined> {
  const named = (Object.keys(QUEUES) as QueueKey[]).filter((k) => env[QUEUES[k].envVar]);
  if (named.length === 0) return undefined;
  // The SDK's own AWS_ENDPOINT_URL_* convention; with an endpoint set, queue URLs name queues only.
  const sqs = createSqsClient(
    env.AWS_ENDPOINT_URL_SQS ? { endpoint: env.AWS_ENDPOINT_URL_SQS, useQueueUrlAsEndpoint: false } : {},
  );
  const queues: DlqQueue[] = [];
  for (const key of named) {
    const url = env[QUEUES[key].envVar] as string;
    queues.push({ key, url, dlqUrl: await deadLetterQueueUrl(sqs, url, QUEUES[key].envVar) });
  }
  const doc = createDocumentClient(
    env.AWS_ENDPOINT_URL_DYNAMODB ? { endpoint: env.AWS_ENDPOINT_URL_DYNAMODB } : {},
  );
  return { sqs, queues, failures: new DynamoDbFailureStore(doc, tableNamesFromEnv(env).failures) };
}

/** The DLQ of a queue, from its RedrivePolicy (deadLetterTargetArn → GetQueueUrl). */
export async function deadLetterQueueUrl(sqs: SQSClient, queueUrl: string, label: string): Promise<string> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }),
  );
  const arn = Attributes?.RedrivePolicy
    ? (JSON.parse(Attributes.RedrivePolicy) as { deadLetterTargetArn?: string }).deadLetterTargetArn
    : undefined;
  const m = arn ? /^arn:[\w-]+:sqs:[\w-]+:(\d+):(.+)$/.exec(arn) : null;
  if (!m) {
    throw new Error(
      `${label} (${queueUrl}) has no redrive policy naming a dead-letter queue; is it the stack's queue?`,
    );
  }
  const { QueueUrl } = await sqs.send(
    new GetQueueUrlCommand({ QueueName: m[2], QueueOwnerAWSAccountId: m[1] }),
  );
  if (!QueueUrl) throw new Error(`GetQueueUrl returned nothing for the dead-letter queue ${arn}`);
  return QueueUrl;
}

export interface DlqOptions {
  queue?: string | undefined;
  since?: string | undefined;
  now?: Date;
}

const USAGE =
  'Usage: dlq list | dlq show <messageId> | dlq redrive  [--queue fetch|write|unsubscribe] [--since T]';

export async function runDlqCommand(
  ctx: DlqContext,
  args: readonly string[],
  options: DlqOptions = {},
): Promise<CommandResult> {
  const [sub, ...rest] = args;
  const queues = selectQueues(ctx, options.queue);
  const since = options.since === undefined ? undefined : parseSince(options.since, options.now);
  switch (sub) {
    case 'list':
    case undefined:
      return listDeadLetters(ctx, queues, since);
    case 'show': {
      const id = rest[0];
      if (!id) throw new DlqUsageError(`dlq show needs a message id. ${USAGE}`);
      return showDeadLetter(ctx, queues, id);
    }
    case 'redrive':
      return redriveDeadLetters(ctx, queues, since);
    default:
      throw new DlqUsageError(`Unknown dlq subcommand "${sub}". ${USAGE}`);
  }
}

function selectQueues(ctx: DlqContext, queue: string | undefined): DlqQueue[] {
  if (queue === undefined) return ctx.queues;
  const found = ctx.queues.filter((q) => q.key === queue);
  if (found.length === 0) {
    throw new DlqUsageError(
      `--queue must be one of ${ctx.queues.map((q) => q.key).join(', ')}; got "${queue}". ${USAGE}`,
    );
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// Peeking

/**
 * Receives every message of one dead-letter queue (up to `limit`), each once, keeping them hidden
 * until `handBack` so a message is not returned twice. `each` may consume a message (delete it);
 * it returns true then, and the message is not handed back.
 */
async function receiveAll(
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

function view(queue: QueueKey, m: Message, record: FailureRecord | undefined): DeadLetterView {
  const sent = Number(m.Attributes?.SentTimestamp);
  return {
    queue,
    messageId: m.MessageId as string,
    firstFailedAt: record?.firstFailedAt ?? null,
    lastFailedAt: record?.lastFailedAt ?? null,
    attempts: record?.attempts ?? null,
    error: record?.error ?? null,
    vendorCode: record?.vendorCode ?? null,
    requestId: record?.requestId ?? null,
    body: summariseBody(m.Body ?? ''),
    sentAt: Number.isFinite(sent) && sent > 0 ? new Date(sent).toISOString() : null,
    redrivenFrom: record?.redrivenFrom ?? m.MessageAttributes?.[REDRIVEN_FROM_ATTRIBUTE]?.StringValue ?? null,
    redrive: record?.redrive ?? null,
  };
}

/** When a dead letter counts for --since: its first recorded failure, else when it was sent. */
const failedAt = (v: DeadLetterView): string | null => v.firstFailedAt ?? v.sentAt;
const inRange = (v: DeadLetterView, since: Date | undefined): boolean =>
  since === undefined || (failedAt(v) ?? '') >= since.toISOString();

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
    const views = messages.map((m) => view(q.key, m, records.get(`${q.key}#${m.MessageId}`)));
    return { views, hidden };
  } finally {
    await handBack();
  }
}

async function listDeadLetters(
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

export function formatView(v: DeadLetterView): string[] {
  const reason = v.error
    ? `${v.error.name}: ${v.error.message}`
    : 'no failure record (the consumer died or timed out before recording; search its logs for the message id)';
  const vendor = [v.vendorCode && `vendor code ${v.vendorCode}`, v.requestId && `request ${v.requestId}`]
    .filter(Boolean)
    .join(', ');
  return [
    `${v.queue.padEnd(11)} ${v.messageId}  first failed ${v.firstFailedAt ?? '?'}, ${v.attempts ?? '?'} attempts`,
    `            error  ${reason}${vendor ? ` (${vendor})` : ''}`,
    `            body   ${formatBody(v.body)}`,
    ...(v.redrive
      ? [`            redrive ${v.redrive.state} ${v.redrive.newMessageId ?? ''}`.trimEnd()]
      : []),
  ];
}

function formatBody(b: BodySummary): string {
  return Object.entries(b)
    .map(([k, v]) =>
      typeof v === 'object'
        ? `${k} {${Object.entries(v)
            .map(([n, c]) => `${n}: ${c}`)
            .join(', ')}}`
        : `${k} ${v}`,
    )
    .join(', ');
}

/** Body lines `show` prints (the --json line carries all of it). */
const SHOW_BODY_LINES = 60;

function clip(lines: string[], max: number): string[] {
  return lines.length <= max
    ? lines
    : [...lines.slice(0, max), `… ${lines.length - max} more lines (the whole body is in the --json line)`];
}

/** The body with every email hashed and every secret-looking field redacted (the logger's rules). */
export function maskBody(body: string): unknown {
  try {
    return JSON.parse(body, (key, value: unknown) => redact(key, value));
  } catch {
    return redact('body', body);
  }
}

async function showDeadLetter(
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
    const v = view(q.key, found, record);
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

// ---------------------------------------------------------------------------------------------
// Redrive

/**
 * Sends each selected dead letter back to its source queue, then deletes it from the DLQ. The
 * failure record notes the send before and after, so a re-run (or a run after a crash) never
 * sends a message whose copy is known to be out: it only deletes the DLQ copy. Only a crash
 * between SendMessage and noting its result can send a copy twice, which is harmless: every
 * consumer is idempotent (ledger / upsert on the external id, chain checkpoints, opt-out events).
 */
async function redriveDeadLetters(
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
        if (!inRange(view(q.key, m, record), since)) {
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
