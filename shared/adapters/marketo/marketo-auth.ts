import { MarketoAuthError, MarketoResponseValidationError } from '../../ports/marketo-errors.js';
import { identitySchema } from './marketo-schemas.js';
import type { MarketoTransport } from './marketo-transport.js';

/** How errors and logs name the identity endpoint. */
export const IDENTITY_ENDPOINT = 'GET /identity/oauth/token';

export interface AccessToken {
  value: string;
  /** Epoch ms (client clock). */
  expiresAt: number;
}

export interface MarketoAuthOptions {
  clientId: string;
  clientSecret: string;
  clock: () => number;
  /** Renew the access token this long before it expires (default 60 s). */
  renewMarginMs?: number;
  onToken?: (expiresInSec: number) => void;
}

/**
 * The access-token cache: one identity request at a time, renewed before it expires, dropped
 * when a call reports it refused. It has no retry loop: a transport failure of the identity
 * request (TransportFailureSignal) goes up to the call layer, which applies the retry policy.
 */
export class MarketoAuth {
  private token: AccessToken | undefined;
  private inFlight: Promise<AccessToken> | undefined;
  private requests = 0;
  private readonly renewMarginMs: number;

  constructor(
    private readonly transport: MarketoTransport,
    private readonly options: MarketoAuthOptions,
  ) {
    this.renewMarginMs = options.renewMarginMs ?? 60_000;
  }

  /** Identity requests made (free; not in the call counts). */
  identityCalls(): number {
    return this.requests;
  }

  async accessToken(): Promise<AccessToken> {
    const cached = this.token;
    if (cached && this.options.clock() < cached.expiresAt - this.renewMarginMs) return cached;
    // Single flight: concurrent callers share one identity request.
    this.inFlight ??= this.requestToken().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** Forgets `value` if it is still the cached token (a newer one is kept). */
  invalidate(value: string): void {
    if (this.token?.value === value) this.token = undefined;
  }

  private async requestToken(): Promise<AccessToken> {
    const qs = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.options.clientId,
      client_secret: this.options.clientSecret,
    });
    this.requests += 1;
    const outcome = await this.transport.exchange(
      `${this.transport.base}/identity/oauth/token?${qs}`,
      { method: 'GET' },
      'identity',
    );
    if (outcome.status === 401 || outcome.status === 400 || outcome.status === 403)
      throw new MarketoAuthError(
        `Marketo identity refused the client credentials (HTTP ${outcome.status}); check MARKETO_CLIENT_ID and MARKETO_CLIENT_SECRET.`,
        { endpoint: IDENTITY_ENDPOINT, status: outcome.status },
      );
    let json: unknown;
    try {
      json = JSON.parse(outcome.text);
    } catch (err) {
      throw new MarketoResponseValidationError('Marketo identity answered with a non-JSON body.', {
        endpoint: IDENTITY_ENDPOINT,
        cause: err,
      });
    }
    const parsed = identitySchema.safeParse(json);
    if (!parsed.success)
      throw new MarketoResponseValidationError(
        `Marketo identity answered an unexpected body (HTTP ${outcome.status}).`,
        { endpoint: IDENTITY_ENDPOINT, cause: parsed.error },
      );
    const token = {
      value: parsed.data.access_token,
      expiresAt: this.options.clock() + parsed.data.expires_in * 1000,
    };
    this.token = token;
    this.options.onToken?.(parsed.data.expires_in);
    return token;
  }
}
