import {
  MarketoApiError,
  MarketoResponseValidationError,
  type TransportFailure,
} from '../../ports/marketo-errors.js';
import { type Envelope, envelopeSchema } from './marketo-schemas.js';

/**
 * The HTTP layer of the Marketo client: one exchange with a per-endpoint timeout, the long-URI
 * `_method=GET` fallback, and the envelope parse. It never retries and never counts: the call
 * layer (marketo-call.ts) decides what a failure means through the retry policy.
 */

export type TimeoutKind = 'identity' | 'pagingToken' | 'activities' | 'leads' | 'writes' | 'bulkFile';

/** Per-endpoint timeouts from the Marketo docs (API-NOTES). */
export const DEFAULT_TIMEOUTS: Record<TimeoutKind, number> = {
  identity: 30_000,
  pagingToken: 300_000,
  activities: 30_000,
  leads: 60_000,
  writes: 90_000,
  /** One ranged read of a bulk export file (our choice: the docs give no timeout for it). */
  bulkFile: 120_000,
};

/** One REST endpoint as data: the endpoint modules declare these, the call layer sends them. */
export interface Operation {
  method: 'GET' | 'POST';
  /** Path under the base, e.g. `/rest/v1/activities.json`. */
  path: string;
  timeout: TimeoutKind;
  /** Safe to re-send after an ambiguous failure (the request may have been applied). */
  idempotent: boolean;
  /** Takes a nextPageToken: a refused token is a MarketoPagingTokenError. */
  paged?: boolean;
  /** Answers with a file (bulk export), not a JSON envelope: the outcome keeps the bytes. */
  file?: boolean;
}

/** `METHOD /path`: how errors, counts and logs name an endpoint. */
export function opKey(op: Operation): string {
  return `${op.method} ${op.path}`;
}

export interface HttpOutcome {
  status: number;
  text: string;
  /** The raw body and headers of a `file` operation (bulk export files are read by byte range). */
  file?: { bytes: Buffer; contentType: string; contentRange?: string };
}

/** `{name}` segments of the path filled from the query (and removed from it): `/bulk/v1/.../{exportId}/status.json`. */
export function fillPath(
  path: string,
  query: Record<string, string>,
): { path: string; query: Record<string, string> } {
  const rest = { ...query };
  const filled = path.replace(/\{(\w+)\}/g, (_m, name: string) => {
    const value = rest[name];
    delete rest[name];
    return encodeURIComponent(value ?? '');
  });
  return { path: filled, query: rest };
}

/** A failed exchange (timeout, dropped connection, HTTP 5xx) before policy is applied. */
export class TransportFailureSignal extends Error {
  override name = 'TransportFailureSignal';
  constructor(
    readonly failure: TransportFailure,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Aborts a request after `ms`; injected so tests and the chaos suite control time. */
export type Deadline = (ms: number) => { signal: AbortSignal; clear(): void };

export const realDeadline: Deadline = (ms) => {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
};

export interface MarketoTransportOptions {
  baseUrl: string;
  fetch?: typeof globalThis.fetch;
  timeouts?: Partial<Record<TimeoutKind, number>>;
  /** Longest request URI before a GET is re-sent as POST with `_method=GET` (default 8 KB). */
  maxUriBytes?: number;
  deadline?: Deadline;
}

export class MarketoTransport {
  readonly base: string;
  private readonly fetchImpl: typeof globalThis.fetch;
  private readonly timeouts: Record<TimeoutKind, number>;
  private readonly maxUriBytes: number;
  private readonly deadline: Deadline;

  constructor(options: MarketoTransportOptions) {
    this.base = options.baseUrl.replace(/\/+$/, '');
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.maxUriBytes = options.maxUriBytes ?? 8192;
    this.deadline = options.deadline ?? realDeadline;
  }

  /** Sends `op` with a Bearer token; a GET whose URI is too long (or `asForm`) goes as a form POST. */
  send(
    op: Operation,
    query: Record<string, string>,
    body: unknown,
    accessToken: string,
    asForm: boolean,
    extraHeaders: Record<string, string> = {},
  ): Promise<HttpOutcome> {
    const filled = fillPath(op.path, query);
    const qs = new URLSearchParams(filled.query).toString();
    let url = `${this.base}${filled.path}${qs ? `?${qs}` : ''}`;
    const headers: Record<string, string> = {
      authorization: `Bearer ${accessToken}`,
      accept: op.file ? '*/*' : 'application/json',
      ...extraHeaders,
    };
    let method: string = op.method;
    let payload: string | undefined;
    if (op.method === 'GET' && (asForm || Buffer.byteLength(url) > this.maxUriBytes)) {
      method = 'POST';
      url = `${this.base}${filled.path}?_method=GET`;
      headers['content-type'] = 'application/x-www-form-urlencoded';
      payload = qs;
    } else if (op.method === 'POST') {
      headers['content-type'] = 'application/json';
      payload = body === undefined ? undefined : JSON.stringify(body);
    }
    return this.exchange(
      url,
      { method, headers, ...(payload !== undefined ? { body: payload } : {}) },
      op.timeout,
      op.file,
    );
  }

  /** One HTTP exchange with a hard timeout covering headers and body. */
  async exchange(url: string, init: RequestInit, timeout: TimeoutKind, file = false): Promise<HttpOutcome> {
    const ms = this.timeouts[timeout];
    const deadline = this.deadline(ms);
    try {
      const res = await this.fetchImpl(url, { ...init, signal: deadline.signal });
      if (!file) {
        const text = await res.text();
        if (res.status >= 500) throw new TransportFailureSignal('http', `HTTP ${res.status}`, res.status);
        return { status: res.status, text };
      }
      const bytes = Buffer.from(await res.arrayBuffer());
      if (res.status >= 500) throw new TransportFailureSignal('http', `HTTP ${res.status}`, res.status);
      const contentType = res.headers.get('content-type') ?? '';
      const contentRange = res.headers.get('content-range');
      // An error envelope (rate limit, auth) still arrives as JSON: keep its text for the envelope parse.
      return {
        status: res.status,
        text: contentType.includes('json') ? bytes.toString('utf8') : '',
        file: { bytes, contentType, ...(contentRange ? { contentRange } : {}) },
      };
    } catch (err) {
      if (err instanceof TransportFailureSignal) throw err;
      if (deadline.signal.aborted)
        throw new TransportFailureSignal('timeout', `no response within ${ms} ms`, undefined, { cause: err });
      const message = err instanceof Error ? err.message : String(err);
      throw new TransportFailureSignal('network', `connection failed (${message})`, undefined, {
        cause: err,
      });
    } finally {
      deadline.clear();
    }
  }
}

/** The Marketo envelope of a non-5xx answer, or the typed error for 413/414/non-JSON/odd bodies. */
export function parseEnvelope(outcome: HttpOutcome, endpoint: string): Envelope {
  if (outcome.status === 413)
    throw new MarketoApiError(
      `${endpoint}: request body too large (HTTP 413); send fewer records per call.`,
      {
        code: '413',
        endpoint,
      },
    );
  if (outcome.status === 414)
    throw new MarketoApiError(`${endpoint}: request URI too long (HTTP 414).`, { code: '414', endpoint });
  let json: unknown;
  try {
    json = JSON.parse(outcome.text);
  } catch (err) {
    throw new MarketoResponseValidationError(
      `${endpoint} answered HTTP ${outcome.status} with a non-JSON body.`,
      {
        endpoint,
        cause: err,
      },
    );
  }
  const parsed = envelopeSchema.safeParse(json);
  if (!parsed.success || outcome.status !== 200)
    throw new MarketoResponseValidationError(
      `${endpoint} answered HTTP ${outcome.status} with an unexpected body${parsed.success ? '' : `: ${parsed.error.message}`}.`,
      { endpoint, ...(parsed.success ? {} : { cause: parsed.error }) },
    );
  return parsed.data;
}
