import {
  fixedRateWindow,
  rateCounterKey,
  secondsUntilWindowEnds,
} from '../../../shared/domain/rate-window.js';
import type {
  SourceRateDecision,
  SourceRateLimit,
  SourceRateLimiter,
} from '../../../shared/ports/source-rate-limiter.js';

/** SourceRateLimiter in memory, with the DynamoDB adapter's window and condition; `fail` makes every hit throw. */
export class InMemorySourceRateLimiter implements SourceRateLimiter {
  readonly counts = new Map<string, number>();
  readonly keys: string[] = [];
  fail: Error | undefined;

  async hit(sourceKey: string, limit: SourceRateLimit, now: Date): Promise<SourceRateDecision> {
    if (this.fail) throw this.fail;
    this.keys.push(sourceKey);
    const nowMs = now.getTime();
    const window = fixedRateWindow(nowMs, limit.perSeconds);
    const key = rateCounterKey(sourceKey, limit.perSeconds, window);
    const hits = this.counts.get(key) ?? 0;
    if (hits >= limit.requests)
      return { allowed: false, retryAfterSeconds: secondsUntilWindowEnds(window, nowMs) };
    this.counts.set(key, hits + 1);
    return { allowed: true };
  }
}
