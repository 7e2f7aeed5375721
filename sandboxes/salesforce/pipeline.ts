import type { IncomingMessage, ServerResponse } from 'node:http';
import { classify, ROUTES } from './router.js';
import { oauth } from './routes/oauth.js';
import {
  callOptionsClient,
  DATA_PATH,
  HttpError,
  headerValue,
  notFound,
  readBody,
  sendJson,
} from './sandbox-http.js';
import type { RequestLogEntry, SalesforceState } from './sandbox-state.js';

/**
 * The Salesforce sandbox's request pipeline: log the request, apply latency, serve OAuth on the
 * login URL and the data API on the instance URL only; then the API version (31.0–66.0 by
 * default, else 404), the session (401 INVALID_SESSION_ID), the daily API allocation (403
 * REQUEST_LIMIT_EXCEEDED), injected faults, and the route. Every data-API response carries
 * `Sforce-Limit-Info: api-usage=used/limit` (Salesforce REST API Developer Guide, "Response
 * Headers" and "Status Codes and Error Responses"; shared/API-NOTES.md).
 */

export const limitInfo = (state: SalesforceState): Record<string, string> => ({
  'Sforce-Limit-Info': `api-usage=${state.usage.used}/${state.usage.limit}`,
});

export async function handleRequest(
  state: SalesforceState,
  req: IncomingMessage,
  res: ServerResponse,
  server: 'login' | 'instance',
): Promise<void> {
  const { faults } = state;
  const url = new URL(req.url ?? '/', 'http://sandbox');
  const entry: RequestLogEntry = {
    kind: 'unknown',
    method: req.method ?? 'GET',
    path: url.pathname,
    status: 0,
  };
  const client = callOptionsClient(headerValue(req, 'sforce-call-options'));
  if (client !== undefined) entry.client = client;
  const autoAssign = headerValue(req, 'sforce-auto-assign');
  if (autoAssign !== undefined) entry.autoAssign = autoAssign;
  state.log.push(entry);
  const m = DATA_PATH.exec(url.pathname);
  const rest = m?.[2] ?? '/';
  if (url.pathname === '/services/oauth2/token') entry.kind = 'oauth';
  else if (m) {
    entry.apiVersion = m[1] as string;
    entry.kind = classify(req.method ?? 'GET', rest);
  }
  try {
    const delay = faults.delayMs();
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    const body = await readBody(req);
    if (entry.kind === 'oauth') return oauth(state, req, res, body, entry);
    if (server !== 'instance' || !m || !entry.apiVersion) {
      entry.status = 404;
      return sendJson(res, 404, [
        { errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' },
      ]);
    }
    await api(state, req, res, url, entry.apiVersion, rest, body, entry);
  } catch (error) {
    if (error instanceof HttpError) {
      entry.status = error.status;
      sendJson(
        res,
        error.status,
        [
          {
            message: error.message,
            errorCode: error.errorCode,
            ...(error.fields ? { fields: error.fields } : {}),
          },
        ],
        entry.kind === 'oauth' ? {} : limitInfo(state),
      );
      return;
    }
    entry.status = 500;
    sendJson(
      res,
      500,
      [
        {
          errorCode: 'UNKNOWN_EXCEPTION',
          message: `An unexpected error occurred: ${(error as Error).message}`,
        },
      ],
      limitInfo(state),
    );
  }
}

async function api(
  state: SalesforceState,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  version: string,
  rest: string,
  body: string,
  entry: RequestLogEntry,
): Promise<void> {
  const { faults, tokens, usage } = state;
  const versionNumber = Number(version);
  if (versionNumber < state.minVersion || versionNumber > state.maxVersion) {
    throw new HttpError(
      404,
      'NOT_FOUND',
      `The requested resource does not exist (API version ${version} is not served)`,
    );
  }
  const auth = headerValue(req, 'authorization') ?? '';
  const token = /^(Bearer|OAuth) (.+)$/i.exec(auth)?.[2];
  const expiresAt = token === undefined ? undefined : tokens.get(token);
  if (expiresAt === undefined || expiresAt < Date.now() || faults.take('INVALID_SESSION_ID', entry.kind)) {
    if (token !== undefined && expiresAt !== undefined && expiresAt < Date.now()) tokens.delete(token);
    if (expiresAt !== undefined && expiresAt >= Date.now()) entry.fault = 'INVALID_SESSION_ID';
    throw new HttpError(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
  }
  if (usage.used >= usage.limit || faults.take('REQUEST_LIMIT_EXCEEDED', entry.kind)) {
    if (usage.used < usage.limit) entry.fault = 'REQUEST_LIMIT_EXCEEDED';
    throw new HttpError(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.');
  }
  usage.used++;
  if (faults.take('HTTP_503', entry.kind)) {
    entry.fault = 'HTTP_503';
    throw new HttpError(503, 'SERVER_UNAVAILABLE', 'Server temporarily unavailable, try again later');
  }
  const loseResponse = faults.take('LOSE_RESPONSE', entry.kind);
  const reply = (status: number, payload: unknown, contentType?: string) => {
    entry.status = status;
    if (loseResponse) {
      entry.fault = 'LOSE_RESPONSE';
      res.socket?.destroy();
      return;
    }
    if (contentType && typeof payload === 'string') {
      res.writeHead(status, { ...limitInfo(state), 'Content-Type': contentType });
      res.end(payload);
      return;
    }
    sendJson(res, status, payload, limitInfo(state));
  };
  const handler = ROUTES[entry.kind];
  if (!handler) throw notFound();
  await handler({
    state,
    req,
    res,
    url,
    method: req.method ?? 'GET',
    version,
    rest,
    body,
    entry,
    writeContext: { client: entry.client, autoAssign: entry.autoAssign, kind: entry.kind },
    reply,
  });
}
