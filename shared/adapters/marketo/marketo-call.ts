import type { MarketoCallCounts } from '../../ports/marketo-api.js';
import {
  MarketoApiError,
  MarketoAuthError,
  MarketoDailyQuotaError,
  MarketoPagingTokenError,
  MarketoRequestError,
  MarketoResponseValidationError,
  MarketoTransportError,
} from '../../ports/marketo-errors.js';
import type { CallGovernor, Lease } from './call-governor.js';
import { type AccessToken, IDENTITY_ENDPOINT, type MarketoAuth } from './marketo-auth.js';
import type { Envelope } from './marketo-schemas.js';
import {
  type MarketoTransport,
  type Operation,
  opKey,
  parseEnvelope,
  TransportFailureSignal,
} from './marketo-transport.js';
import {
  type CodeClass,
  classifyCode,
  decideRetry,
  nextChicagoMidnight,
  type RetryPolicyOptions,
} from './retry-policy.js';

/** Structural subset of Powertools' Logger, so tests can pass a silent or recording logger. */
export interface MarketoLogger {
  debug(message: string, ...extra: Record<string, unknown>[]): void;
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

/** Sends one operation and returns its success envelope: what every endpoint module is given. */
export type MarketoCall = (op: Operation, query: Record<string, string>, body?: unknown) => Promise<Envelope>;

const MAX_BODY_BYTES = 1_048_576;

/**
 * Marketo does not document the code for a refused nextPageToken; on paging endpoints we treat
 * 1003 (invalid data) / 1001 (invalid value) / 701 mentioning the token as one.
 */
export function isPagingTokenRejection(code: string, message: string): boolean {
  return (code === '1003' || code === '1001' || code === '701') && /token/i.test(message);
}

/** A failed attempt, classified for the retry table, with the error to throw if it is the last. */
interface Failure {
  cls: CodeClass;
  ambiguous: boolean;
  /** The access token the attempt used (dropped on re-authentication). */
  token?: string;
  requestId?: string | undefined;
  log: { message: string; context: Record<string, unknown> };
  error(attempts: number): Error;
}

/** What a `file` operation answered when it was not a JSON envelope (a bulk export file or a 404 text). */
export interface FileAnswer {
  status: number;
  bytes: Buffer;
  contentType: string;
  contentRange?: string;
}

type Attempt = { envelope: Envelope } | { file: FileAnswer } | { uriTooLong: true } | { failure: Failure };

export interface MarketoCallerDeps {
  transport: MarketoTransport;
  auth: MarketoAuth;
  governor: CallGovernor;
  policy: RetryPolicyOptions;
  clock: () => number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  logger: MarketoLogger;
}

/**
 * The one place a Marketo request becomes an envelope or a typed error: each attempt runs inside
 * a call-governor lease and is counted; every failure — identity, transport, 401, error code —
 * is classified once and the retry table (retry-policy.ts `decideRetry`) says what happens next.
 */
export class MarketoCaller {
  private readonly counts: MarketoCallCounts = { total: 0, byEndpoint: {}, errors: {} };

  constructor(private readonly deps: MarketoCallerDeps) {}

  callCounts(): MarketoCallCounts {
    return {
      total: this.counts.total,
      byEndpoint: { ...this.counts.byEndpoint },
      errors: { ...this.counts.errors },
    };
  }

  readonly call: MarketoCall = async (op, query, body) => {
    const answer = await this.run(op, query, body, {});
    if ('file' in answer)
      throw new MarketoResponseValidationError(
        `${opKey(op)} answered with a file where an envelope was expected.`,
        {
          endpoint: opKey(op),
        },
      );
    return answer.envelope;
  };

  /**
   * A `file` operation (bulk export file) through the same lease, counts and retry table: the bytes
   * (or the 404 text) when the answer is not a JSON envelope; an error envelope is handled as any other.
   */
  async callForFile(
    op: Operation,
    query: Record<string, string>,
    headers: Record<string, string>,
  ): Promise<FileAnswer> {
    const answer = await this.run({ ...op, file: true }, query, undefined, headers);
    if ('file' in answer) return answer.file;
    throw new MarketoResponseValidationError(
      `${opKey(op)} answered with an envelope where a file was expected.`,
      {
        endpoint: opKey(op),
        ...(answer.envelope.requestId ? { requestId: answer.envelope.requestId } : {}),
      },
    );
  }

  private async run(
    op: Operation,
    query: Record<string, string>,
    body: unknown,
    headers: Record<string, string>,
  ): Promise<{ envelope: Envelope } | { file: FileAnswer }> {
    const endpoint = opKey(op);
    if (body !== undefined && Buffer.byteLength(JSON.stringify(body)) > MAX_BODY_BYTES)
      throw new MarketoRequestError(
        'Request body exceeds 1 MB (Marketo answers 413): send fewer records per call.',
        {
          endpoint,
        },
      );
    const { policy, random, logger, auth } = this.deps;
    let attempt = 0;
    let reauthenticated = false;
    let asForm = false;
    for (;;) {
      attempt += 1;
      const result = await this.attempt(op, query, body, asForm, attempt, headers);
      if ('envelope' in result || 'file' in result) return result;
      if ('uriTooLong' in result) {
        // URI too long: re-send as POST with `_method=GET` (does not consume an attempt).
        asForm = true;
        attempt -= 1;
        continue;
      }
      const { failure } = result;
      const decision = decideRetry(
        { cls: failure.cls, ambiguous: failure.ambiguous, attempt, reauthenticated },
        policy,
        random,
      );
      switch (decision.action) {
        case 'retry':
          logger.warn(failure.log.message, { ...failure.log.context, delayMs: decision.delayMs });
          await this.deps.sleep(decision.delayMs);
          continue;
        case 'reauthenticate':
          reauthenticated = true;
          if (failure.token !== undefined) auth.invalidate(failure.token);
          logger.info('Marketo access token refused; re-authenticating once', failure.log.context);
          attempt -= 1;
          continue;
        case 'park':
          return this.park(endpoint, failure, attempt);
        case 'fail':
          throw failure.error(attempt);
      }
    }
  }

  private async attempt(
    op: Operation,
    query: Record<string, string>,
    body: unknown,
    asForm: boolean,
    attempt: number,
    headers: Record<string, string>,
  ): Promise<Attempt> {
    const endpoint = opKey(op);
    let token: AccessToken;
    try {
      token = await this.deps.auth.accessToken();
    } catch (err) {
      if (!(err instanceof TransportFailureSignal)) throw err;
      return { failure: transportFailure(IDENTITY_ENDPOINT, err, false, attempt) };
    }
    const lease = await this.deps.governor.acquire();
    let outcome: Awaited<ReturnType<MarketoTransport['send']>>;
    try {
      this.counts.total += 1;
      this.counts.byEndpoint[endpoint] = (this.counts.byEndpoint[endpoint] ?? 0) + 1;
      outcome = await this.deps.transport.send(op, query, body, token.value, asForm, headers);
    } catch (err) {
      if (!(err instanceof TransportFailureSignal)) throw err;
      this.countError(err.failure === 'http' ? `http${err.status}` : err.failure);
      const ambiguous = !op.idempotent && err.failure !== 'invalid-response';
      return { failure: transportFailure(endpoint, err, ambiguous, attempt) };
    } finally {
      await this.release(lease);
    }

    if (outcome.status === 414 && op.method === 'GET' && !asForm) {
      this.countError('http414');
      return { uriTooLong: true };
    }
    if (outcome.status === 401) {
      this.countError('http401');
      return {
        failure: {
          cls: 'auth',
          ambiguous: false,
          token: token.value,
          log: { message: 'Marketo access token refused (HTTP 401)', context: { endpoint, attempt } },
          error: (attempts) =>
            new MarketoAuthError(`${endpoint} refused the access token twice (HTTP 401).`, {
              endpoint,
              status: 401,
              attempts,
            }),
        },
      };
    }

    if (outcome.file && !outcome.file.contentType.includes('json'))
      return { file: { status: outcome.status, ...outcome.file } };
    const env = parseEnvelope(outcome, endpoint);
    if (env.success) return { envelope: env };
    const first = env.errors?.[0] ?? { code: 'unknown', message: '' };
    const { code, message } = first;
    this.countError(code);
    const requestId = env.requestId;
    if (op.paged && isPagingTokenRejection(code, message))
      throw new MarketoPagingTokenError(
        `${endpoint} refused the nextPageToken (${code} ${message}); regenerate one from the datetime watermark with getPagingToken().`,
        { code, requestId, endpoint, attempts: attempt },
      );
    const cls = classifyCode(code);
    const context = { endpoint, code, requestId, attempt };
    return {
      failure: {
        cls,
        ambiguous: false,
        token: token.value,
        requestId,
        log: { message: 'Marketo call throttled or transiently failed; retrying', context },
        error: (attempts) => {
          if (cls === 'auth')
            return new MarketoAuthError(
              `${endpoint} refused a freshly issued access token (${code} ${message}); check the API user and its role.`,
              { endpoint, code, attempts },
            );
          if (cls === 'fatal')
            return new MarketoApiError(`${endpoint} failed with ${code}: ${message}`, {
              code,
              requestId,
              endpoint,
              attempts,
            });
          return new MarketoApiError(
            `${endpoint} still failing with ${code} (${message}) after ${attempts} attempts; retry later.`,
            { code, requestId, endpoint, attempts, retryable: true },
          );
        },
      },
    };
  }

  /** 607: park every caller (through the governor) until 00:00 America/Chicago, then fail the call. */
  private async park(endpoint: string, failure: Failure, attempts: number): Promise<never> {
    const resetAt = new Date(nextChicagoMidnight(this.deps.clock()));
    this.deps.logger.error('Marketo daily quota reached; parking all Marketo calls', {
      ...failure.log.context,
      resetAt: resetAt.toISOString(),
    });
    await this.deps.governor.park(
      resetAt.getTime(),
      `607 daily quota reached (requestId ${failure.requestId ?? 'n/a'})`,
    );
    throw new MarketoDailyQuotaError({ requestId: failure.requestId, endpoint, attempts, resetAt });
  }

  private async release(lease: Lease): Promise<void> {
    try {
      await lease.release();
    } catch (err) {
      // A lease that cannot be released expires on its own after leaseMs.
      this.deps.logger.warn('Could not release Marketo call lease; it will expire', {
        error: err instanceof Error ? err.name : 'unknown',
      });
    }
  }

  private countError(code: string): void {
    this.counts.errors[code] = (this.counts.errors[code] ?? 0) + 1;
  }
}

function transportFailure(
  endpoint: string,
  err: TransportFailureSignal,
  ambiguous: boolean,
  attempt: number,
): Failure {
  return {
    cls: 'transient',
    ambiguous,
    log: {
      message: 'Marketo call failed in transport; retrying',
      context: { endpoint, failure: err.failure, status: err.status, attempt },
    },
    error: (attempts) =>
      new MarketoTransportError(
        ambiguous
          ? `${endpoint} failed (${err.message}) and may have been applied; not re-sent because Marketo has no idempotency key — reconcile before retrying.`
          : endpoint === IDENTITY_ENDPOINT
            ? `Marketo identity unreachable after ${attempts} attempts: ${err.message}.`
            : `${endpoint} failed after ${attempts} attempts: ${err.message}. Marketo may be unreachable; retry later.`,
        {
          endpoint,
          failure: err.failure,
          ...(err.status !== undefined ? { status: err.status } : {}),
          ambiguous,
          attempts,
          cause: err,
        },
      ),
  };
}
