import type { PagingTokenRefusal } from './marketo-paging.js';

/**
 * Every error the Marketo adapter throws. Each says what the caller should do next; none carries
 * credentials, tokens or personal data (no emails, no request bodies).
 */

export class MarketoError extends Error {
  override name = 'MarketoError';
  /** The endpoint, as `METHOD /rest/v1/...` (identity: `GET /identity/oauth/token`). */
  readonly endpoint: string;
  /** HTTP attempts made for this call before giving up. */
  readonly attempts: number;

  constructor(message: string, options: { endpoint: string; attempts?: number; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.endpoint = options.endpoint;
    this.attempts = options.attempts ?? 1;
  }
}

/** A `success:false` envelope the client does not (or no longer) retry: bad request, bad data, 603, … */
export class MarketoApiError extends MarketoError {
  override name = 'MarketoApiError';
  readonly code: string;
  readonly requestId: string | undefined;
  /** True when the code is transient and the retry budget ran out (worth retrying later). */
  readonly retryable: boolean;

  constructor(
    message: string,
    options: {
      code: string;
      requestId?: string | undefined;
      endpoint: string;
      attempts?: number;
      retryable?: boolean;
      cause?: unknown;
    },
  ) {
    super(message, options);
    this.code = options.code;
    this.requestId = options.requestId;
    this.retryable = options.retryable ?? false;
  }
}

/**
 * 607: the instance's daily quota is spent. Every Marketo caller has been parked (through the call
 * governor) until `resetAt`, the next 00:00 America/Chicago; re-schedule the work after it.
 */
export class MarketoDailyQuotaError extends MarketoApiError {
  override name = 'MarketoDailyQuotaError';
  readonly resetAt: Date;

  constructor(options: {
    requestId?: string | undefined;
    endpoint: string;
    attempts?: number;
    resetAt: Date;
  }) {
    super(
      `Marketo daily API quota reached (607); all Marketo calls are parked until ${options.resetAt.toISOString()} (00:00 America/Chicago). Re-run after that time.`,
      { ...options, code: '607', retryable: true },
    );
    this.resetAt = options.resetAt;
  }
}

/**
 * The `nextPageToken` was refused (invalid or expired). Regenerate a token from the durable
 * datetime watermark with getPagingToken() and continue from there.
 */
export class MarketoPagingTokenError extends MarketoApiError implements PagingTokenRefusal {
  override name = 'MarketoPagingTokenError';
  /** How readMarketoPages() (ports/marketo-paging.ts) recognises a refused token. */
  readonly pagingTokenRefused = true as const;
}

/**
 * Identity refused the client id / secret (HTTP 401), or a REST call kept failing with 601/602
 * after re-authenticating once. A configuration problem: check MARKETO_CLIENT_ID / _SECRET and the
 * API user's role; do not retry.
 */
export class MarketoAuthError extends MarketoError {
  override name = 'MarketoAuthError';
  readonly status: number | undefined;
  readonly code: string | undefined;

  constructor(
    message: string,
    options: { endpoint: string; status?: number; code?: string; attempts?: number; cause?: unknown },
  ) {
    super(message, options);
    this.status = options.status;
    this.code = options.code;
  }
}

export type TransportFailure = 'timeout' | 'network' | 'http' | 'invalid-response';

/**
 * The call did not produce a Marketo envelope: timeout, dropped connection, HTTP 5xx, unparsable
 * body — after the retry budget was spent (or at once for a non-idempotent write whose outcome is
 * unknown: `ambiguous` = the request may have been applied; reconcile before re-sending).
 */
export class MarketoTransportError extends MarketoError {
  override name = 'MarketoTransportError';
  readonly failure: TransportFailure;
  readonly status: number | undefined;
  readonly ambiguous: boolean;

  constructor(
    message: string,
    options: {
      endpoint: string;
      failure: TransportFailure;
      status?: number;
      ambiguous?: boolean;
      attempts?: number;
      cause?: unknown;
    },
  ) {
    super(message, options);
    this.failure = options.failure;
    this.status = options.status;
    this.ambiguous = options.ambiguous ?? false;
  }
}

/** The client refused a request before sending it (e.g. > 10 activity type ids, > 300 records). Fix the caller. */
export class MarketoRequestError extends MarketoError {
  override name = 'MarketoRequestError';
}

/** A 200 response whose body does not match the documented shape. Log the requestId and report it. */
export class MarketoResponseValidationError extends MarketoError {
  override name = 'MarketoResponseValidationError';
  readonly requestId: string | undefined;

  constructor(message: string, options: { endpoint: string; requestId?: string; cause?: unknown }) {
    super(message, options);
    this.requestId = options.requestId;
  }
}

/**
 * The call governor is parked (e.g. after a 607) beyond what this caller is willing to wait.
 * Re-schedule the work after `until`.
 */
export class MarketoParkedError extends Error {
  override name = 'MarketoParkedError';
  readonly until: Date;
  readonly reason: string;

  constructor(until: number, reason: string) {
    super(
      `Marketo calls are parked until ${new Date(until).toISOString()} (${reason}); re-schedule the work after that time.`,
    );
    this.until = new Date(until);
    this.reason = reason;
  }
}

/** The call governor could not grant a slot within the caller's wait budget. Retry the work later. */
export class CallGovernorTimeoutError extends Error {
  override name = 'CallGovernorTimeoutError';
}
