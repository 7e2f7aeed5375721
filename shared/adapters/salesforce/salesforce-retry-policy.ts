/**
 * The Salesforce retry table as data (as jsforce keeps its request options apart from its API
 * layer): the call layer classifies a failed attempt and asks `decideSalesforceRetry` what next.
 */

/** What went wrong with one HTTP attempt, before policy is applied. */
export type AttemptFailureType =
  /** 401 / INVALID_SESSION_ID: the token expired or was revoked. */
  | 'session'
  /** 403 REQUEST_LIMIT_EXCEEDED: the org's daily API allocation is spent. */
  | 'limit'
  /** HTTP 500/502/503/504. */
  | 'transient'
  /** No response: timeout or broken connection. */
  | 'connection'
  /** Anything else (400 MALFORMED_QUERY, 404, …). */
  | 'fatal';

export interface SalesforceRetryPolicy {
  /** Retries for idempotent calls on 5xx, timeouts and broken connections (default 4). */
  maxRetries: number;
  /** First backoff ceiling (default 500 ms). */
  baseDelayMs: number;
  /** Backoff ceiling (default 10 s). */
  maxDelayMs: number;
}

export const DEFAULT_SALESFORCE_RETRY_POLICY: SalesforceRetryPolicy = {
  maxRetries: 4,
  baseDelayMs: 500,
  maxDelayMs: 10_000,
};

export type SalesforceRetryDecision =
  | { action: 'retry'; delayMs: number }
  /** Get a new token and send again (once per call). */
  | { action: 'reauthenticate' }
  /** A write that is not idempotent may have been applied: fail with an unknown outcome. */
  | { action: 'unknown-outcome' }
  | { action: 'fail' };

/** Equal jitter: uniform in [cap/2, cap], cap = min(max, base·2^(retry-1)). */
export function salesforceBackoff(
  retry: number,
  policy: SalesforceRetryPolicy,
  random: () => number,
): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.round(cap / 2 + (random() * cap) / 2);
}

/**
 * INVALID_SESSION_ID → new token, retry once; REQUEST_LIMIT_EXCEEDED → fail (never retried);
 * 5xx / timeout / broken connection → bounded backoff with jitter, but only when `idempotent`
 * (otherwise the outcome is unknown); everything else fails at once.
 */
export function decideSalesforceRetry(
  failed: { type: AttemptFailureType; idempotent: boolean; retries: number; reauthenticated: boolean },
  policy: SalesforceRetryPolicy,
  random: () => number,
): SalesforceRetryDecision {
  switch (failed.type) {
    case 'session':
      return failed.reauthenticated ? { action: 'fail' } : { action: 'reauthenticate' };
    case 'limit':
    case 'fatal':
      return { action: 'fail' };
    case 'transient':
    case 'connection':
      if (!failed.idempotent) return { action: 'unknown-outcome' };
      if (failed.retries < policy.maxRetries)
        return { action: 'retry', delayMs: salesforceBackoff(failed.retries + 1, policy, random) };
      return { action: 'fail' };
  }
}
