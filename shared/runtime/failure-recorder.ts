import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { DynamoDbFailureStore } from '../adapters/dynamodb/failure-store.js';
import type { TableKey } from '../adapters/dynamodb/table-definitions.js';
import type { QueueKey } from '../adapters/sqs/queue-definitions.js';
import { redact } from '../observability/logger.js';
import type { BodySummary, FailureInput, FailureStore } from '../ports/failure-store.js';
import {
  MarketoApiError,
  MarketoAuthError,
  MarketoResponseValidationError,
  MarketoTransportError,
} from '../ports/marketo-errors.js';
import { SalesforceApiError, SalesforceBulkJobError } from '../ports/salesforce-errors.js';
import { once } from './once.js';

/**
 * Keeps why a message failed, so a dead-lettered message can be explained (`sync dlq`). Called by
 * the one SQS consumer wrapper (sqs-batch.ts) for every failed record; best effort: a recorder
 * that throws or hangs never changes how the message fails.
 */
export interface FailureRecorder {
  record(queue: QueueKey, record: SQSRecord, err: unknown): Promise<void>;
}

/** Message attribute set on a redriven copy: the MessageId of the dead-lettered original. */
export const REDRIVEN_FROM_ATTRIBUTE = 'syncRedrivenFrom';

const MAX_MESSAGE_CHARS = 1_000;

/**
 * The error as an operator needs it: name, message (emails hashed, cut to 1,000 characters),
 * and the vendor's code and request id from the error or its causes.
 */
export function describeFailure(
  err: unknown,
): Pick<FailureInput, 'error' | 'vendorCode' | 'requestId' | 'retryable'> {
  const top =
    err instanceof Error
      ? { name: err.name, message: err.message }
      : { name: 'NonError', message: String(err) };
  const out: ReturnType<typeof describeFailure> = {
    error: {
      name: top.name,
      message: String(redact('message', top.message)).slice(0, MAX_MESSAGE_CHARS),
    },
  };
  const seen = new Set<unknown>();
  for (let e: unknown = err; e instanceof Error && !seen.has(e); e = e.cause) {
    seen.add(e);
    const v = vendorDetails(e);
    out.vendorCode ??= v.vendorCode;
    out.requestId ??= v.requestId;
    out.retryable ??= v.retryable;
  }
  for (const k of ['vendorCode', 'requestId', 'retryable'] as const) if (out[k] === undefined) delete out[k];
  return out;
}

function vendorDetails(e: Error): { vendorCode?: string; requestId?: string; retryable?: boolean } {
  if (e instanceof MarketoApiError)
    return { vendorCode: e.code, ...opt('requestId', e.requestId), retryable: e.retryable };
  if (e instanceof MarketoAuthError) return { ...opt('vendorCode', e.code ?? httpCode(e.status)) };
  if (e instanceof MarketoResponseValidationError) return { ...opt('requestId', e.requestId) };
  if (e instanceof MarketoTransportError)
    return { vendorCode: httpCode(e.status) ?? e.failure, retryable: !e.ambiguous };
  if (e instanceof SalesforceBulkJobError)
    return { vendorCode: e.errorCode, requestId: e.jobId, retryable: e.retryable };
  if (e instanceof SalesforceApiError) return { vendorCode: e.errorCode, retryable: e.retryable };
  // The write step's per-record refusals (TransientWriteError): the Salesforce statusCodes.
  const codes = (e as { codes?: unknown }).codes;
  if (Array.isArray(codes) && codes.every((c) => typeof c === 'string') && codes.length > 0)
    return { vendorCode: codes.join(','), retryable: true };
  return {};
}

const httpCode = (status: number | undefined) => (status === undefined ? undefined : `HTTP ${status}`);
const opt = <K extends string>(key: K, value: string | undefined) =>
  (value === undefined ? {} : { [key]: value }) as Partial<Record<K, string>>;

const SAFE_TEXT = /^[\w:.#,+-]{1,80}$/;
const safeText = (v: unknown): string | undefined =>
  typeof v === 'string' && SAFE_TEXT.test(v) ? v : undefined;
const int = (v: unknown): number | undefined => (Number.isInteger(v) ? (v as number) : undefined);

/**
 * What a message holds, without its content: kind, run, counts and ids we generated. Never an
 * email, a name or an attribute value (a write message carries activity attributes; an unsubscribe
 * carries an email address).
 */
export function summariseBody(body: string): BodySummary {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { kind: 'unparsable', bytes: Buffer.byteLength(body) };
  }
  const m = (json ?? {}) as Record<string, unknown>;
  const bytes = Buffer.byteLength(body);
  const fields: Record<string, unknown> = { kind: safeText(m.kind) ?? 'unknown', bytes };
  switch (m.kind) {
    case 'fetchPage':
      Object.assign(fields, {
        runId: safeText(m.runId),
        streamKey: safeText(m.streamKey),
        windowIndex: int(m.windowIndex),
        page: int(m.page),
        from: safeText(m.from),
      });
      break;
    case 'writeTasks': {
      const activities = Array.isArray(m.activities) ? (m.activities as Record<string, unknown>[]) : [];
      const types: Record<string, number> = {};
      const leads = new Set<unknown>();
      const dates: string[] = [];
      for (const a of activities) {
        const name = typeof a?.activityTypeName === 'string' ? a.activityTypeName.slice(0, 80) : 'unknown';
        types[name] = (types[name] ?? 0) + 1;
        leads.add(a?.leadId);
        const d = safeText(a?.activityDate);
        if (d) dates.push(d);
      }
      dates.sort();
      const byCount = Object.fromEntries(
        Object.entries(types).sort(([a, x], [b, y]) => y - x || a.localeCompare(b)),
      );
      Object.assign(fields, {
        runId: safeText(m.runId),
        activities: activities.length,
        leads: leads.size,
        types: byCount,
        firstActivityAt: dates[0],
        lastActivityAt: dates.at(-1),
      });
      break;
    }
    case 'unsubscribe':
      Object.assign(fields, {
        eventId: safeText(m.eventId),
        hasEmail: typeof m.email === 'string',
        leadId: int(m.leadId),
        at: safeText(m.at),
      });
      break;
  }
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as BodySummary;
}

/** The record of one failed receive, from the SQS record and the error. */
export function failureInput(queue: QueueKey, record: SQSRecord, err: unknown): FailureInput {
  const sent = Number(record.attributes.SentTimestamp);
  const from = record.messageAttributes?.[REDRIVEN_FROM_ATTRIBUTE]?.stringValue;
  return {
    queue,
    messageId: record.messageId,
    attempts: Number(record.attributes.ApproximateReceiveCount ?? '1'),
    ...describeFailure(err),
    body: summariseBody(record.body),
    ...(Number.isFinite(sent) && sent > 0 ? { sentAt: new Date(sent).toISOString() } : {}),
    ...(from ? { redrivenFrom: from } : {}),
    ...(record.eventSourceARN ? { sourceArn: record.eventSourceARN } : {}),
  };
}

/** FailureRecorder over the failures table. */
export class StoreFailureRecorder implements FailureRecorder {
  constructor(private readonly store: () => FailureStore) {}

  async record(queue: QueueKey, record: SQSRecord, err: unknown): Promise<void> {
    await this.store().record(failureInput(queue, record, err));
  }
}

/** The recorder over the failures table of `tables` (resolved on first failure, so a missing binding only logs). */
export function failureRecorderFor(
  doc: DynamoDBDocumentClient,
  tables: Pick<Record<TableKey, string>, 'failures'>,
): FailureRecorder {
  return new StoreFailureRecorder(once(() => new DynamoDbFailureStore(doc, tables.failures)));
}
