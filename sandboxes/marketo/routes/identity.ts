import type { ServerResponse } from 'node:http';
import { sendJson } from '../http.js';
import { type MarketoState, randomHex } from '../sandbox-state.js';

/**
 * The identity service: `GET|POST /identity/oauth/token?grant_type=client_credentials&client_id=…
 * &client_secret=…` → `{ access_token, token_type: "bearer", expires_in, scope }`. Asking again
 * before expiry returns the same token with its remaining life; bad credentials → HTTP 401
 * (shared/API-NOTES.md "Auth"; AdobeDocs/marketo-developer.en help/rest-api/authentication.md).
 * Returns the recorded outcome.
 */
export function handleIdentity(state: MarketoState, url: URL, res: ServerResponse): string {
  const q = url.searchParams;
  if (q.get('grant_type') !== 'client_credentials') {
    sendJson(res, 400, { error: 'invalid_request', error_description: 'Unsupported grant type' });
    return 'http400';
  }
  if (q.get('client_id') !== state.clientId || q.get('client_secret') !== state.clientSecret) {
    sendJson(res, 401, { error: 'unauthorized', error_description: 'Bad client credentials' });
    return 'http401';
  }
  const now = state.clock.now();
  const existing = state.currentToken ? state.tokens.get(state.currentToken) : undefined;
  if (!state.currentToken || !existing || existing.expiresAt <= now) {
    const hex = (n: number) => randomHex(state, n);
    state.currentToken = `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}:ab`;
    state.tokens.set(state.currentToken, { expiresAt: now + state.tokenLifetimeMs });
  }
  const expiresAt = state.tokens.get(state.currentToken)!.expiresAt;
  sendJson(res, 200, {
    access_token: state.currentToken,
    token_type: 'bearer',
    expires_in: Math.max(0, Math.floor((expiresAt - now) / 1000)),
    scope: 'sync-integration@example.com',
  });
  return '200';
}
