import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '../sandbox-http.js';
import type { RequestLogEntry, SalesforceState } from '../sandbox-state.js';

/**
 * OAuth 2.0 client-credentials on the login URL: `POST /services/oauth2/token` → `{ access_token,
 * instance_url, token_type, issued_at, signature, id, scope }`, no refresh token and no
 * `expires_in` (the token lives for the org's session timeout). Refusals are HTTP 400
 * `{ error, error_description }` (shared/API-NOTES.md "Salesforce REST", Auth).
 */
export function oauth(
  state: SalesforceState,
  req: IncomingMessage,
  res: ServerResponse,
  body: string,
  entry: RequestLogEntry,
): void {
  const form = new URLSearchParams(body);
  const refusal: [string, string] | undefined =
    req.method !== 'POST'
      ? ['invalid_request', 'must use HTTP POST']
      : form.get('grant_type') !== 'client_credentials'
        ? ['unsupported_grant_type', 'grant type not supported']
        : form.get('client_id') !== state.clientId || form.get('client_secret') !== state.clientSecret
          ? ['invalid_client', 'invalid client credentials']
          : undefined;
  if (refusal) {
    entry.status = 400;
    sendJson(res, 400, { error: refusal[0], error_description: refusal[1] });
    return;
  }
  const token = `${state.orgId}!${randomBytes(24).toString('base64url')}`;
  state.tokens.set(token, Date.now() + state.sessionLifetimeMs);
  const issuedAt = String(Date.now());
  entry.status = 200;
  sendJson(res, 200, {
    access_token: token,
    signature: randomBytes(32).toString('base64'),
    scope: 'api',
    instance_url: state.instanceUrl,
    id: `${state.loginUrl}/id/${state.orgId}/${state.userId}`,
    token_type: 'Bearer',
    issued_at: issuedAt,
  });
}
