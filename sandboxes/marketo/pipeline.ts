import type { IncomingMessage, ServerResponse } from 'node:http';
import { EnvelopeError, envelopeBody, UNCOUNTED } from './envelope.js';
import type { MarketoFault } from './fault-controller.js';
import { readBody, redactHeaders, sendJson } from './http.js';
import { type Params, RawResponse, type Router } from './router.js';
import { handleIdentity } from './routes/identity.js';
import { chicagoDay, type MarketoState, requestId, sleep } from './sandbox-state.js';
import type { RecordedRequest } from './sandbox-stats.js';

/**
 * The request pipeline in the order Marketo applies it (shared/API-NOTES.md): URI/body size
 * (414/413), injected faults, identity, `_method=GET` form bodies, content type (612) and JSON
 * (609), Bearer-header-only auth (601/602), the instance-wide limits (607 daily quota, 606 rate
 * window, 615 concurrency), latency, then the route. Errors travel in HTTP 200 envelopes; codes in
 * UNCOUNTED do not count against the window or the quota.
 */

async function applyFault(
  state: MarketoState,
  f: MarketoFault,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<{ result: string; counted: boolean } | undefined> {
  switch (f.kind) {
    case 'http':
      res.writeHead(f.status, { 'content-type': 'text/html' });
      res.end(`<html><body><h1>${f.status} Server Error</h1></body></html>`);
      return { result: `http${f.status}`, counted: false };
    case 'timeout':
      await sleep(state, f.hangMs ?? 600_000);
      req.socket.destroy();
      return { result: 'timeout', counted: false };
    case 'drop': {
      res.writeHead(200, { 'content-type': 'application/json;charset=UTF-8', 'content-length': 4096 });
      res.write('{"requestId":"dead#beef","success":true,"result":[{"id":');
      await sleep(state, 5);
      req.socket.destroy();
      return { result: 'drop', counted: false };
    }
    default:
      return undefined;
  }
}

/** Handles one request against `router`, recording it in `state.stats`. */
export async function handleRequest(
  state: MarketoState,
  router: Router,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const { clock, limits, stats, faults, windowLog } = state;
  const envelopeError = (code: string, message?: string) => envelopeBody(requestId(state), code, message);
  const arrival = clock.now();
  const rawUrl = req.url ?? '/';
  const url = new URL(rawUrl, 'http://sandbox.local');
  const method = req.method ?? 'GET';
  const bodyBuf = await readBody(req);
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams)
    query[k] = k === 'client_secret' || k === 'access_token' ? '<redacted>' : v;
  const rec: RecordedRequest = {
    seq: ++state.requestSeq,
    at: arrival,
    method,
    effectiveMethod: method,
    path: url.pathname,
    query,
    headers: redactHeaders(req),
    result: '200',
    counted: false,
  };
  const finish = (result: string, counted = false) => {
    rec.result = result;
    rec.counted = counted;
    stats.record(rec);
  };

  if (Buffer.byteLength(rawUrl) > state.maxUriBytes) {
    res.writeHead(414, { 'content-type': 'text/html' });
    res.end('<html><body>414 Request-URI Too Long</body></html>');
    return finish('http414');
  }
  if (bodyBuf.length > 1_048_576) {
    res.writeHead(413, { 'content-type': 'text/html' });
    res.end('<html><body>413 Request Entity Too Large</body></html>');
    return finish('http413');
  }

  // Parameters: query, plus a form body for POST `_method=GET`.
  const params: Params = {};
  for (const [k, v] of url.searchParams) params[k] = v;
  let body: unknown;
  const contentType = String(req.headers['content-type'] ?? '');
  if (method === 'POST' && contentType.startsWith('application/x-www-form-urlencoded')) {
    const form = new URLSearchParams(bodyBuf.toString('utf8'));
    const formParams: Record<string, string> = {};
    for (const [k, v] of form) formParams[k] = v;
    Object.assign(params, formParams);
    body = formParams;
  }
  if (params._method === 'GET' && method === 'POST') rec.effectiveMethod = 'GET';
  delete params._method;
  const effective = rec.effectiveMethod;

  const f = faults.pick(effective, url.pathname);
  if (f) {
    const outcome = await applyFault(state, f, req, res);
    if (outcome) return finish(outcome.result, outcome.counted);
  }

  if (url.pathname === '/identity/oauth/token') {
    if (f?.kind === 'envelope') {
      sendJson(res, 401, { error: 'unauthorized', error_description: f.message ?? 'Injected failure' });
      return finish('http401');
    }
    if (method !== 'GET' && method !== 'POST') {
      res.writeHead(405).end();
      return finish('http405');
    }
    return finish(handleIdentity(state, url, res));
  }

  // "Bulk API endpoints are not prefixed with '/rest' like other endpoints" (AdobeDocs/marketo-developer.en help/rest-api/bulk-extract.md).
  if (!url.pathname.startsWith('/rest/v1/') && !url.pathname.startsWith('/bulk/v1/')) {
    sendJson(res, 404, envelopeError('610'));
    return finish('http404');
  }

  // JSON body for write endpoints.
  if (method === 'POST' && effective === 'POST') {
    if (!contentType.startsWith('application/json')) {
      sendJson(res, 200, envelopeError('612'));
      return finish('612', true);
    }
    try {
      body = JSON.parse(bodyBuf.toString('utf8') || 'null');
    } catch {
      sendJson(res, 200, envelopeError('609'));
      return finish('609', true);
    }
  }
  rec.body = body;

  // Authentication: only the Authorization header is accepted.
  const auth = String(req.headers.authorization ?? '');
  const bearer = /^Bearer\s+(\S+)$/i.exec(auth)?.[1];
  const tokenInfo = bearer ? state.tokens.get(bearer) : undefined;
  const authError = (() => {
    if (url.searchParams.has('access_token')) return '601';
    if (!bearer || !tokenInfo) return '601';
    if (tokenInfo.expiresAt <= arrival) return '602';
    return undefined;
  })();
  if (authError) {
    sendJson(res, 200, envelopeError(authError));
    return finish(authError, false);
  }

  // Limits run on wall-clock time (the sandbox clock may be frozen or moved by a test).
  const wallArrival = Date.now();
  /** Rejections are counted at once; accepted calls reserve their slot on arrival (see below). */
  const outcome = (code: string) => {
    const counted = !UNCOUNTED.has(code);
    if (counted) {
      windowLog.push(wallArrival);
      state.dailyUsed += 1;
      stats.maxInWindowObserved = Math.max(stats.maxInWindowObserved, windowLog.length);
    }
    return counted;
  };
  let reserved = false;
  /** Final outcome of an accepted call: give the reserved slot back when its code is not counted. */
  const settle = (code: string) => {
    const counted = !UNCOUNTED.has(code);
    if (reserved && !counted) {
      const idx = windowLog.indexOf(wallArrival);
      if (idx >= 0) windowLog.splice(idx, 1);
      state.dailyUsed -= 1;
    }
    return counted;
  };

  // Instance-wide limits, in the order Marketo applies them.
  while (windowLog.length > 0 && (windowLog[0] ?? 0) <= wallArrival - limits.windowMs) windowLog.shift();
  if (limits.dailyQuotaReset === 'chicagoMidnight' && chicagoDay(arrival) !== state.quotaDay) {
    state.quotaDay = chicagoDay(arrival);
    state.dailyUsed = 0;
  }
  if (state.dailyUsed >= limits.dailyQuota) {
    sendJson(res, 200, envelopeError('607'));
    return finish('607', outcome('607'));
  }
  if (windowLog.length >= limits.callsPerWindow) {
    sendJson(res, 200, envelopeError('606'));
    return finish('606', outcome('606'));
  }
  if (state.inFlight >= limits.maxConcurrent) {
    sendJson(res, 200, envelopeError('615'));
    return finish('615', outcome('615'));
  }

  windowLog.push(wallArrival);
  state.dailyUsed += 1;
  reserved = true;
  stats.maxInWindowObserved = Math.max(stats.maxInWindowObserved, windowLog.length);
  state.inFlight += 1;
  stats.maxConcurrentObserved = Math.max(stats.maxConcurrentObserved, state.inFlight);
  try {
    const { latency } = state;
    const delay = latency.ms + (latency.jitterMs ? state.rand() * latency.jitterMs : 0);
    if (delay > 0) await sleep(state, delay);

    if (f?.kind === 'envelope') {
      sendJson(res, 200, envelopeError(f.code, f.message));
      return finish(f.code, settle(f.code));
    }

    const match = router.match(effective, url.pathname);
    if (!match.ok) {
      sendJson(res, 200, envelopeError(match.code));
      return finish(match.code, settle(match.code));
    }
    try {
      if (f?.kind === 'pagingTokenRejected')
        throw new EnvelopeError('1003', 'Invalid token value: token expired');
      const result = match.handler({
        params,
        body,
        now: clock.now(),
        pathParams: match.pathParams,
        headers: rec.headers,
      });
      if (result instanceof RawResponse) {
        res.writeHead(result.status, result.headers);
        res.end(result.body);
        const code = result.status === 200 ? '200' : `http${result.status}`;
        return finish(code, settle(code));
      }
      sendJson(res, 200, { requestId: requestId(state), success: true, ...result });
      return finish('200', settle('200'));
    } catch (err) {
      if (!(err instanceof EnvelopeError)) throw err;
      sendJson(res, 200, envelopeError(err.code, err.message));
      return finish(err.code, settle(err.code));
    }
  } finally {
    state.inFlight -= 1;
  }
}
