import type { Connection } from '@jsforce/jsforce-node/lib/connection.js';
import { HttpApi } from '@jsforce/jsforce-node/lib/http-api.js';
import type { AttemptFailureType } from './salesforce-retry-policy.js';

/** The HTTP layer: one attempt through jsforce with jsforce's own retries off (we decide). */

export type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface ApiRequest {
  method: Method;
  /** Path from the instance root, `/services/data/...`. */
  path: string;
  body?: string;
  contentType?: string;
  /** A record write: sent with `Sforce-Auto-Assign: FALSE`. */
  write?: boolean;
  /** Read the body as text (CSV), not JSON. */
  text?: boolean;
}

/** One failed attempt, classified for the retry table. */
export class SalesforceAttemptFailure extends Error {
  override name = 'SalesforceAttemptFailure';
  constructor(
    readonly type: AttemptFailureType,
    readonly errorCode: string,
    message: string,
    readonly status: number | undefined,
    options: { cause: unknown },
  ) {
    super(message, options);
  }
}

const TRANSIENT_STATUS = new Set([500, 502, 503, 504]);

function errorCodeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { errorCode?: unknown; data?: unknown };
  if (e.errorCode === 'MULTIPLE_API_ERRORS' && Array.isArray(e.data)) {
    const first = e.data[0] as { errorCode?: unknown } | undefined;
    if (typeof first?.errorCode === 'string') return first.errorCode;
  }
  return typeof e.errorCode === 'string' ? e.errorCode : undefined;
}

export function classifyAttempt(error: unknown, status: number | undefined): SalesforceAttemptFailure {
  const message = error instanceof Error ? error.message : String(error);
  const failure = (type: AttemptFailureType, errorCode: string) =>
    new SalesforceAttemptFailure(type, errorCode, message, status, { cause: error });
  if (status === undefined) {
    const name = error instanceof Error ? error.name : '';
    return failure('connection', name === 'AbortError' ? 'TIMEOUT' : 'CONNECTION_ERROR');
  }
  const errorCode = errorCodeOf(error) ?? `HTTP_${status}`;
  if (status === 401 || errorCode === 'INVALID_SESSION_ID') return failure('session', errorCode);
  if (errorCode === 'REQUEST_LIMIT_EXCEEDED') return failure('limit', errorCode);
  if (TRANSIENT_STATUS.has(status)) return failure('transient', errorCode);
  return failure('fatal', errorCode);
}

/** Sends one request; every failure comes back as a SalesforceAttemptFailure. */
export async function sendAttempt<T>(
  conn: Connection,
  req: ApiRequest,
  options: { timeoutMs: number; onResponseHeaders: (headers: Record<string, string>) => void },
): Promise<T> {
  const api = new HttpApi(conn, {
    retry: { maxRetries: 0, methods: [] },
    timeout: options.timeoutMs,
    ...(req.text ? { responseType: 'text/plain' } : {}),
  });
  let status: number | undefined;
  api.on('response', (response: { statusCode: number; headers: Record<string, string> }) => {
    status = response.statusCode;
    options.onResponseHeaders(response.headers);
  });
  const headers: Record<string, string> = {};
  if (req.contentType) headers['content-type'] = req.contentType;
  if (req.write) headers['Sforce-Auto-Assign'] = 'FALSE';
  try {
    return await api.request<T>({
      method: req.method,
      url: `${conn.instanceUrl}${req.path}`,
      headers,
      ...(req.body !== undefined ? { body: req.body } : {}),
    });
  } catch (error) {
    throw classifyAttempt(error, status);
  }
}
