import type { Message } from '@aws-sdk/client-sqs';
import type { QueueKey } from '../../../shared/adapters/sqs/queue-definitions.js';
import { redact } from '../../../shared/observability/logger.js';
import type { BodySummary, FailureRecord, RedriveState } from '../../../shared/ports/failure-store.js';
import { REDRIVEN_FROM_ATTRIBUTE, summariseBody } from '../../../shared/runtime/failure-recorder.js';

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

export function deadLetterView(
  queue: QueueKey,
  m: Message,
  record: FailureRecord | undefined,
): DeadLetterView {
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
export const failedAt = (v: DeadLetterView): string | null => v.firstFailedAt ?? v.sentAt;
export const inRange = (v: DeadLetterView, since: Date | undefined): boolean =>
  since === undefined || (failedAt(v) ?? '') >= since.toISOString();

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
export const SHOW_BODY_LINES = 60;

export function clip(lines: string[], max: number): string[] {
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
