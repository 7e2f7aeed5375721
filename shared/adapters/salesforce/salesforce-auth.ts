// The Connection module alone, not the package index: the index also loads jsforce's Bulk, SOAP,
// Metadata and Streaming (faye) APIs, which this project never calls (our own Bulk API 2.0 client),
// and roughly doubles every function's bundle.
import { Connection } from '@jsforce/jsforce-node/lib/connection.js';
import * as z from 'zod';
import { SalesforceApiError, SalesforceAuthError } from '../../ports/salesforce-errors.js';
import type { SalesforceCounter } from './salesforce-call.js';

const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  instance_url: z.url(),
  token_type: z.string().optional(),
  issued_at: z.string().optional(),
  id: z.string().optional(),
});

export interface SalesforceAuthOptions {
  /** The org's My Domain URL; the token's `instance_url` is used afterwards. */
  loginUrl: string;
  clientId: string;
  clientSecret: string;
  apiVersion: string;
  /** Sent as `Sforce-Call-Options: client=<name>`. */
  clientName: string;
}

/**
 * Client-credentials auth: the current jsforce Connection (token + instance URL), one token
 * request at a time. No retry loop: the call layer re-authenticates once on INVALID_SESSION_ID.
 */
export class SalesforceAuth {
  private conn: Connection | undefined;
  private inFlight: Promise<Connection> | undefined;

  constructor(
    private readonly options: SalesforceAuthOptions,
    private readonly counter: SalesforceCounter,
  ) {}

  get instanceUrl(): string | undefined {
    return this.conn?.instanceUrl;
  }

  connection(): Promise<Connection> {
    return this.conn ? Promise.resolve(this.conn) : this.renew(undefined);
  }

  /** A new token, unless the current one is already newer than `staleToken` (then that one). */
  renew(staleToken: string | undefined): Promise<Connection> {
    if (this.conn && this.conn.accessToken !== staleToken) return Promise.resolve(this.conn);
    this.inFlight ??= this.requestToken().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async requestToken(): Promise<Connection> {
    this.counter.bump('auth');
    // The OAuth2 client a Connection builds from these options (lib/oauth2.js exports it only as default).
    const { oauth2 } = new Connection({
      oauth2: {
        loginUrl: this.options.loginUrl.replace(/\/+$/, ''),
        clientId: this.options.clientId,
        clientSecret: this.options.clientSecret,
      },
    });
    let raw: unknown;
    try {
      raw = await oauth2.requestToken({ grant_type: 'client_credentials' });
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      this.counter.countError(name);
      if (/^(invalid_|unsupported_|inactive_|unauthorized_)/.test(name)) {
        throw new SalesforceAuthError(
          `Salesforce refused the client-credentials token request (${name}): check SALESFORCE_CLIENT_ID / SALESFORCE_CLIENT_SECRET, that the app enables the client credentials flow with a Run As user, and that SALESFORCE_LOGIN_URL is the org's My Domain URL`,
          { errorCode: name, cause: error },
        );
      }
      const message = error instanceof Error ? error.message : String(error);
      throw new SalesforceApiError(`Could not reach the Salesforce token endpoint: ${message}`, {
        errorCode: 'CONNECTION_ERROR',
        retryable: true,
        cause: error,
      });
    }
    const parsed = tokenResponseSchema.safeParse(raw);
    if (!parsed.success) {
      throw new SalesforceAuthError(
        'The token response lacks access_token / instance_url: is SALESFORCE_LOGIN_URL a Salesforce org?',
        { errorCode: 'INVALID_TOKEN_RESPONSE', cause: parsed.error },
      );
    }
    this.conn = new Connection({
      instanceUrl: parsed.data.instance_url.replace(/\/+$/, ''),
      accessToken: parsed.data.access_token,
      version: this.options.apiVersion,
      callOptions: { client: this.options.clientName },
    });
    return this.conn;
  }
}
