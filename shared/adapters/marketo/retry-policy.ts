/**
 * The Marketo retry table (shared/API-NOTES.md) as data plus pure delay functions, so the client
 * applies it in exactly one place and tests can read it.
 */

export type CodeClass =
  /** 601/602: re-authenticate once, then retry. */
  | 'auth'
  /** 606: more than 100 calls in 20 s on the instance: wait the window out. */
  | 'rate'
  /** 615: more than 10 concurrent calls on the instance: jittered backoff. */
  | 'concurrency'
  /** 607: daily quota spent: park everything until 00:00 America/Chicago. */
  | 'quota'
  /** 502/604/608/611/614/713: bounded exponential backoff with full jitter. */
  | 'transient'
  /** Everything else (603, 609, 610, 612, 701, 1001-1013, …): no retry. */
  | 'fatal';

const CLASSES: Record<string, CodeClass> = {
  '601': 'auth',
  '602': 'auth',
  '606': 'rate',
  '615': 'concurrency',
  '607': 'quota',
  '502': 'transient',
  '604': 'transient',
  '608': 'transient',
  '611': 'transient',
  '614': 'transient',
  '713': 'transient',
};

export function classifyCode(code: string): CodeClass {
  return CLASSES[code] ?? 'fatal';
}

export interface RetryPolicyOptions {
  /** HTTP attempts per call, re-authentication excluded (default 6). */
  maxAttempts: number;
  /** First backoff ceiling for transient failures (default 500 ms). */
  baseDelayMs: number;
  /** Backoff ceiling (default 30 s). */
  maxDelayMs: number;
  /** How long a 606 waits: Marketo's rate window (default 20 s) … */
  rateLimitWindowMs: number;
  /** … plus up to this much jitter so parked callers do not return together (default 2 s). */
  rateLimitJitterMs: number;
  /** First backoff ceiling after a 615 (default 1 s). */
  concurrencyBaseDelayMs: number;
  /**
   * Retry a non-idempotent write (Add Custom Activities) after a timeout / dropped connection /
   * HTTP 5xx, when it may already have been applied (default false: Marketo has no idempotency key).
   */
  retryAmbiguousWrites: boolean;
}

export const DEFAULT_RETRY_POLICY: RetryPolicyOptions = {
  maxAttempts: 6,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  rateLimitWindowMs: 20_000,
  rateLimitJitterMs: 2_000,
  concurrencyBaseDelayMs: 1_000,
  retryAmbiguousWrites: false,
};

/** Exponential backoff with full jitter: uniform in [0, min(max, base·2^(attempt-1))]. */
export function fullJitterDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

/** Delay before retrying a failure of this class on this attempt (1-based). */
export function retryDelay(
  cls: 'rate' | 'concurrency' | 'transient',
  attempt: number,
  policy: RetryPolicyOptions,
  random: () => number,
): number {
  switch (cls) {
    case 'rate':
      return policy.rateLimitWindowMs + Math.floor(random() * policy.rateLimitJitterMs);
    case 'concurrency':
      // Never zero: give the instance's other callers time to finish.
      return (
        Math.floor(policy.concurrencyBaseDelayMs / 2) +
        fullJitterDelay(attempt, policy.concurrencyBaseDelayMs, policy.maxDelayMs, random)
      );
    case 'transient':
      return fullJitterDelay(attempt, policy.baseDelayMs, policy.maxDelayMs, random);
  }
}

/** What the call layer does next after a failed attempt. */
export type RetryDecision =
  /** Sleep `delayMs`, then send again (one more attempt). */
  | { action: 'retry'; delayMs: number }
  /** Drop the access token, get a new one and send again (not counted as an attempt; once per call). */
  | { action: 'reauthenticate' }
  /** Park every caller until the quota resets, then fail the call. */
  | { action: 'park' }
  /** Give up: throw the failure's typed error. */
  | { action: 'fail' };

export interface FailedAttempt {
  cls: CodeClass;
  /** The request may have been applied (a non-idempotent write with no answer). */
  ambiguous: boolean;
  /** 1-based attempt that failed. */
  attempt: number;
  /** The call already re-authenticated once. */
  reauthenticated: boolean;
}

/**
 * The one decision table every Marketo request consults — REST calls and the identity request
 * alike (API-NOTES retry table): 601/602 re-authenticate once; 607 parks; 606/615/transient
 * failures back off until `maxAttempts`; an ambiguous write is only re-sent when
 * `retryAmbiguousWrites`; everything else fails at once.
 */
export function decideRetry(
  failed: FailedAttempt,
  policy: RetryPolicyOptions,
  random: () => number,
): RetryDecision {
  switch (failed.cls) {
    case 'auth':
      return failed.reauthenticated ? { action: 'fail' } : { action: 'reauthenticate' };
    case 'quota':
      return { action: 'park' };
    case 'fatal':
      return { action: 'fail' };
    case 'rate':
    case 'concurrency':
    case 'transient':
      if (failed.ambiguous && !policy.retryAmbiguousWrites) return { action: 'fail' };
      if (failed.attempt >= policy.maxAttempts) return { action: 'fail' };
      return { action: 'retry', delayMs: retryDelay(failed.cls, failed.attempt, policy, random) };
  }
}

/** Epoch ms of the next 00:00 in `timeZone` after `nowMs` (Marketo's quota resets at 00:00 America/Chicago). */
export function nextMidnightInZone(nowMs: number, timeZone = 'America/Chicago'): number {
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  const wall = (ms: number) => {
    const p: Record<string, number> = {};
    for (const part of fmt.formatToParts(new Date(ms)))
      if (part.type !== 'literal') p[part.type] = Number(part.value);
    return p as Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second', number>;
  };
  /** Zone offset at `ms`: wall-clock-as-UTC minus real UTC. */
  const offset = (ms: number) => {
    const w = wall(ms);
    return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(ms / 1000) * 1000;
  };
  const today = wall(nowMs);
  const midnightAsUtc = Date.UTC(today.year, today.month - 1, today.day + 1, 0, 0, 0);
  let result = midnightAsUtc - offset(midnightAsUtc);
  // Refine once: the offset at the true instant may differ from the guess across a DST change.
  result = midnightAsUtc - offset(result);
  return result;
}

export const nextChicagoMidnight = (nowMs: number): number => nextMidnightInZone(nowMs, 'America/Chicago');
