/**
 * Per-source request counting for the unsubscribe webhook (optOuts.webhookPerSourceLimit), shared
 * by every Lambda instance and process. Implemented on DynamoDB (adapters/dynamodb/source-rate-limiter.ts)
 * and in memory for tests.
 */

/** At most `requests` requests per source in each fixed window of `perSeconds` seconds. */
export interface SourceRateLimit {
  readonly requests: number;
  readonly perSeconds: number;
}

export type SourceRateDecision =
  | { readonly allowed: true }
  /** Over the limit: the seconds until the current window ends (at least 1). */
  | { readonly allowed: false; readonly retryAfterSeconds: number };

export interface SourceRateLimiter {
  /**
   * Counts one request from `sourceKey` (already hashed: never an address) in the window holding
   * `now`; refuses it once the window has counted `limit.requests`. Throws when the store fails.
   */
  hit(sourceKey: string, limit: SourceRateLimit, now: Date): Promise<SourceRateDecision>;
}
