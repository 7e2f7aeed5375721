import { createHash } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { OptOutPolicy } from '../domain/opt-out-policy.js';
import type { MessageSender } from '../ports/message-sender.js';
import type { OptOutStore } from '../ports/opt-out-store.js';
import type { SourceRateDecision, SourceRateLimit, SourceRateLimiter } from '../ports/source-rate-limiter.js';
import { acceptUnsubscribe } from './accept-unsubscribe.js';
import { WebhookSecretConfigError } from './errors.js';
import { sourceAllowList } from './source-allow-list.js';
import { maskedSource, sourceRef } from './source-ref.js';
import { occurredInstant, unsubscribeBodySchema } from './webhook-body.js';
import { SECRET_RETRY_AFTER_SECONDS, secretMatches, type WebhookSecrets } from './webhook-secrets.js';

/**
 * The framework-free core of `POST /webhooks/unsubscribe`, shared by the Lambda (API Gateway HTTP
 * API v2, through middy) and the local `serve` command (node:http). Checks run cheapest first and
 * nothing is written before all of them passed:
 *   403 source not on the optional allow-list → 429 over the optional per-source limit (every request
 *   counted, refused ones too) → 503 the webhook secret itself is misconfigured (an operator error, logged once) → 401
 *   wrong/missing X-Webhook-Secret → 413 body over 16 KiB (before any parsing) → 415 not JSON
 *   → 400 malformed JSON / invalid body (naming the field) → 202 once durably accepted.
 */

export const WEBHOOK_PATH = '/webhooks/unsubscribe';
export const MAX_WEBHOOK_BODY_BYTES = 16 * 1024;
const MAX_IDEMPOTENCY_KEY = 255;

export interface WebhookRequest {
  /** Header names in any case. */
  headers: Readonly<Record<string, string | undefined>>;
  /** Raw body bytes (or a string, counted as UTF-8). */
  body: string | Uint8Array | undefined;
  /** The peer address (API Gateway requestContext.http.sourceIp; the socket's in `serve`). */
  sourceIp?: string;
}

export interface WebhookResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export interface WebhookDeps {
  store: OptOutStore;
  sender: MessageSender;
  unsubscribeQueueUrl: string;
  secrets: WebhookSecrets;
  policy: OptOutPolicy;
  logger: Logger;
  now?: () => Date;
  /** Optional source allow-list (CIDRs); when set, any other source gets 403 before anything else. */
  allowedSources?: readonly string[];
  /**
   * Optional per-source throttle (optOuts.webhookPerSourceLimit): each request from a source is
   * counted before the secret is compared or the body read; over the limit, 429 with Retry-After.
   */
  sourceThrottle?: { limit: SourceRateLimit; limiter: SourceRateLimiter };
}

const allowLists = new WeakMap<readonly string[], (ip: string | undefined) => boolean>();
function sourceAllowed(entries: readonly string[], ip: string | undefined): boolean {
  let check = allowLists.get(entries);
  if (!check) {
    check = sourceAllowList(entries);
    allowLists.set(entries, check);
  }
  return check(ip);
}

const json = (statusCode: number, body: Record<string, unknown>): WebhookResponse => ({
  statusCode,
  headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

const problem = (statusCode: number, error: string, message: string, extra: Record<string, unknown> = {}) =>
  json(statusCode, { error, message, ...extra });

function lowerCaseHeaders(headers: WebhookRequest['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k.toLowerCase()] = v;
  return out;
}

function byteLength(body: WebhookRequest['body']): number {
  if (body === undefined) return 0;
  return typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.byteLength;
}

export function isJsonContentType(value: string | undefined): boolean {
  if (!value) return false;
  const [type, ...params] = value.split(';').map((p) => p.trim().toLowerCase());
  if (type !== 'application/json') return false;
  return params.every((p) => !p.startsWith('charset=') || /^charset="?utf-?8"?$/.test(p));
}

/**
 * Event identity (issue 11): the sender's Idempotency-Key scoped by a hash of the body (the same key
 * with another body is another event), else a hash of the body and the receipt minute (a replay of
 * the same request is one event; the same unsubscribe sent again later — after a resubscribe — is a
 * new one). The body is hashed as received (decoded UTF-8 text).
 */
export function webhookEventId(
  bodyText: string,
  idempotencyKey: string | undefined,
  receivedAt: Date,
): string {
  const hash = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex').slice(0, 40);
  const bodyHash = hash(bodyText);
  if (idempotencyKey !== undefined) return `k-${hash(JSON.stringify([idempotencyKey, bodyHash]))}`;
  return `h-${hash(JSON.stringify([bodyHash, receivedAt.toISOString().slice(0, 16)]))}`;
}

/** The configuration error last logged per secrets source: logged once, again only when it changes. */
const loggedConfigErrors = new WeakMap<WebhookSecrets, string>();

/**
 * A misconfigured webhook secret is the operator's error, not the sender's: 503 with Retry-After
 * (the secret is re-read that often), nothing written, and one error log naming the keys (never a
 * value). The 503 counts in the API's 5xx metric, which alarms.
 */
function secretMisconfigured(deps: WebhookDeps, error: WebhookSecretConfigError): WebhookResponse {
  if (loggedConfigErrors.get(deps.secrets) !== error.message) {
    loggedConfigErrors.set(deps.secrets, error.message);
    deps.logger.error('Configuration error: the webhook secret is missing or malformed', {
      configurationError: true,
      keys: error.keys,
      error: { name: error.name, message: error.message },
    });
  }
  const response = problem(
    503,
    'service_unavailable',
    'The receiver is misconfigured; the operator has been alerted. Retry later.',
  );
  response.headers['retry-after'] = String(SECRET_RETRY_AFTER_SECONDS);
  return response;
}

/**
 * Counts the request against its source's limit; a response (429) when over it. A failing store
 * lets the request through (fail-open, one error log each): Marketo does not retry a webhook (a
 * non-2xx answer only reaches the campaign's "Webhook is Called" trigger: AdobeDocs/marketo-developer.en,
 * help/webhooks/errors.md), so refusing would lose the real-time unsubscribe, while the API stage
 * throttle still bounds every source together.
 */
async function sourceThrottled(
  deps: WebhookDeps,
  sourceIp: string | undefined,
): Promise<WebhookResponse | undefined> {
  const throttle = deps.sourceThrottle;
  if (!throttle) return undefined;
  let decision: SourceRateDecision;
  try {
    decision = await throttle.limiter.hit(sourceRef(sourceIp), throttle.limit, deps.now?.() ?? new Date());
  } catch (error) {
    deps.logger.error('Webhook source limiter unavailable: request let through unthrottled (fail-open)', {
      sourceLimiterFailed: true,
      error: error instanceof Error ? { name: error.name, message: error.message } : 'unknown',
    });
    return undefined;
  }
  if (decision.allowed) return undefined;
  deps.logger.warn('Webhook throttled: too many requests from one source', {
    source: maskedSource(sourceIp),
    limit: throttle.limit,
    retryAfterSeconds: decision.retryAfterSeconds,
  });
  const response = problem(
    429,
    'too_many_requests',
    `Too many requests from this source; retry after ${decision.retryAfterSeconds} seconds.`,
  );
  response.headers['retry-after'] = String(decision.retryAfterSeconds);
  return response;
}

export async function handleUnsubscribeRequest(
  deps: WebhookDeps,
  request: WebhookRequest,
): Promise<WebhookResponse> {
  const headers = lowerCaseHeaders(request.headers);

  if (deps.allowedSources?.length && !sourceAllowed(deps.allowedSources, request.sourceIp)) {
    deps.logger.warn('Webhook refused: source address not on the allow-list');
    return problem(403, 'forbidden_source', 'Requests from this address are not accepted.');
  }

  const throttled = await sourceThrottled(deps, request.sourceIp);
  if (throttled) return throttled;

  const presented = headers['x-webhook-secret'];
  let accepted: string[];
  try {
    accepted = await deps.secrets.accepted();
    if (presented && !secretMatches(presented, accepted)) {
      accepted = await deps.secrets.accepted({ refresh: true });
    }
    loggedConfigErrors.delete(deps.secrets);
  } catch (error) {
    if (!(error instanceof WebhookSecretConfigError)) throw error;
    return secretMisconfigured(deps, error);
  }
  if (!secretMatches(presented, accepted)) {
    deps.logger.warn('Webhook refused: missing or wrong X-Webhook-Secret', { presented: Boolean(presented) });
    return problem(401, 'unauthorized', 'Missing or wrong X-Webhook-Secret header.');
  }

  const declared = Number(headers['content-length']);
  if (byteLength(request.body) > MAX_WEBHOOK_BODY_BYTES || declared > MAX_WEBHOOK_BODY_BYTES) {
    return problem(413, 'payload_too_large', `Body is larger than ${MAX_WEBHOOK_BODY_BYTES} bytes.`);
  }

  if (!isJsonContentType(headers['content-type'])) {
    return problem(415, 'unsupported_media_type', 'Content-Type must be application/json.');
  }

  const idempotencyKey = headers['idempotency-key'];
  if (idempotencyKey !== undefined && !/^[\x21-\x7e]{1,255}$/.test(idempotencyKey)) {
    return problem(
      400,
      'invalid_header',
      `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY} printable ASCII characters without spaces.`,
      { fields: ['Idempotency-Key'] },
    );
  }

  let text: string;
  try {
    const bytes =
      typeof request.body === 'string'
        ? Buffer.from(request.body, 'utf8')
        : (request.body ?? new Uint8Array());
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return problem(400, 'malformed_json', 'Body is not valid UTF-8.');
  }
  if (text.trim() === '') return problem(400, 'malformed_json', 'Body is empty; expected a JSON object.');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not the parser's message: it quotes the body back and names engine internals.
    return problem(400, 'malformed_json', 'Body is not valid JSON.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return problem(400, 'invalid_body', 'Body must be a JSON object like {"email": "...", "leadId": 123}.');
  }
  const result = unsubscribeBodySchema.safeParse(parsed);
  if (!result.success) {
    // Our wording for every issue (the schema's own messages, and a plain one for a wrong type).
    const issues = result.error.issues.map((i) => ({
      field: i.path.join('.') || '(body)',
      message: i.code === 'invalid_type' ? `must be a ${i.expected}` : i.message,
    }));
    return problem(400, 'invalid_body', issues.map((i) => `${i.field}: ${i.message}`).join('; '), {
      fields: [...new Set(issues.map((i) => i.field))],
    });
  }

  const body = result.data;
  const receivedAt = deps.now?.() ?? new Date();
  const exact = occurredInstant(body.occurredAt);
  const at = exact && exact.getTime() < receivedAt.getTime() ? exact : receivedAt;
  const eventId = webhookEventId(text, idempotencyKey, receivedAt);
  const { duplicate } = await acceptUnsubscribe(deps, {
    eventId,
    ...(body.email !== undefined ? { email: body.email } : {}),
    ...(body.leadId !== undefined ? { leadId: body.leadId } : {}),
    ...(body.reason !== undefined ? { reason: body.reason } : {}),
    ...(body.occurredAt !== undefined ? { occurredAt: body.occurredAt } : {}),
    at,
    receivedAt,
  });
  return json(202, { accepted: true, eventId, ...(duplicate ? { duplicate: true } : {}) });
}
