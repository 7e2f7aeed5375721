import type { SalesforceCallCounts, SalesforceLimitInfo } from '../../ports/salesforce-api.js';
import {
  SalesforceApiError,
  SalesforceApiLimitError,
  SalesforceAuthError,
  SalesforceUnknownOutcomeError,
} from '../../ports/salesforce-errors.js';
import type { SalesforceAuth } from './salesforce-auth.js';
import { decideSalesforceRetry, type SalesforceRetryPolicy } from './salesforce-retry-policy.js';
import { type ApiRequest, SalesforceAttemptFailure, sendAttempt } from './salesforce-transport.js';

/** Calls by kind (auth requests are not API calls: not in `total`) and errors by code. */
export class SalesforceCounter {
  private readonly counts: SalesforceCallCounts = { total: 0, byKind: {}, errors: {} };
  private lastLimit: SalesforceLimitInfo | undefined;

  bump(kind: string): void {
    this.counts.byKind[kind] = (this.counts.byKind[kind] ?? 0) + 1;
    if (kind !== 'auth') this.counts.total++;
  }

  countError(code: string): void {
    this.counts.errors[code] = (this.counts.errors[code] ?? 0) + 1;
  }

  /** Reads `Sforce-Limit-Info: api-usage=used/limit` from a response. */
  captureLimit(headers: Record<string, string> | undefined): void {
    const m = /api-usage=(\d+)\/(\d+)/.exec(headers?.['sforce-limit-info'] ?? '');
    if (m) this.lastLimit = { used: Number(m[1]), limit: Number(m[2]) };
  }

  limitInfo(): SalesforceLimitInfo | undefined {
    return this.lastLimit ? { ...this.lastLimit } : undefined;
  }

  callCounts(): SalesforceCallCounts {
    return { total: this.counts.total, byKind: { ...this.counts.byKind }, errors: { ...this.counts.errors } };
  }
}

/** Runs one API call under the retry table; what every Salesforce module is given. */
export type SalesforceCall = <T>(kind: string, req: ApiRequest, idempotent: boolean) => Promise<T>;

export interface SalesforceCallerDeps {
  auth: SalesforceAuth;
  counter: SalesforceCounter;
  policy: SalesforceRetryPolicy;
  timeoutMs: number;
  random: () => number;
  sleep: (ms: number) => Promise<void>;
}

/**
 * The one place a Salesforce request becomes a result or a typed error: each attempt is counted,
 * every failure is classified once (salesforce-transport.ts) and the retry table
 * (salesforce-retry-policy.ts) says what happens next.
 */
export function salesforceCaller(deps: SalesforceCallerDeps): SalesforceCall {
  const { auth, counter } = deps;
  return async <T>(kind: string, req: ApiRequest, idempotent: boolean): Promise<T> => {
    let reauthenticated = false;
    let retries = 0;
    for (;;) {
      const conn = await auth.connection();
      const token = conn.accessToken ?? undefined;
      counter.bump(kind);
      try {
        return await sendAttempt<T>(conn, req, {
          timeoutMs: deps.timeoutMs,
          onResponseHeaders: (headers) => counter.captureLimit(headers),
        });
      } catch (caught) {
        if (!(caught instanceof SalesforceAttemptFailure)) throw caught;
        const failure = caught;
        counter.countError(failure.errorCode);
        const decision = decideSalesforceRetry(
          { type: failure.type, idempotent, retries, reauthenticated },
          deps.policy,
          deps.random,
        );
        switch (decision.action) {
          case 'reauthenticate':
            reauthenticated = true;
            await auth.renew(token);
            continue;
          case 'retry':
            retries++;
            await deps.sleep(decision.delayMs);
            continue;
          case 'unknown-outcome':
            throw new SalesforceUnknownOutcomeError(
              `${kind} failed with ${failure.errorCode} before a response was read; it may or may not have been applied — check before writing again`,
              { ...details(failure), retryable: false },
            );
          case 'fail':
            throw failedError(kind, failure, retries, counter.limitInfo());
        }
      }
    }
  };
}

function details(failure: SalesforceAttemptFailure) {
  return {
    errorCode: failure.errorCode,
    cause: failure.cause,
    ...(failure.status !== undefined ? { status: failure.status } : {}),
  };
}

function failedError(
  kind: string,
  failure: SalesforceAttemptFailure,
  retries: number,
  limit: SalesforceLimitInfo | undefined,
): SalesforceApiError {
  switch (failure.type) {
    case 'session':
      return new SalesforceAuthError(
        `Salesforce rejected a freshly issued token (${failure.errorCode}) on ${kind}: check the Run As user's API access and session policies`,
        details(failure),
      );
    case 'limit':
      return new SalesforceApiLimitError(
        `Salesforce daily API request limit reached on ${kind}: stop Salesforce calls until usage falls (check GET /limits)`,
        { ...details(failure), ...(limit ?? {}) },
      );
    case 'transient':
    case 'connection':
      return new SalesforceApiError(
        `${kind} still failing after ${retries} retries: ${failure.errorCode} ${failure.message}`,
        { ...details(failure), retryable: true },
      );
    case 'fatal':
      return new SalesforceApiError(
        `${kind} failed: ${failure.errorCode}: ${failure.message}`,
        details(failure),
      );
  }
}
