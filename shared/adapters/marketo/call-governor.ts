import { randomUUID } from 'node:crypto';
import { CallGovernorTimeoutError, MarketoParkedError } from '../../ports/marketo-errors.js';

/**
 * Keeps every Marketo caller of this deployment under the instance limits: at most
 * `callsPerWindow` calls in ANY rolling `windowMs`, at most `maxConcurrent` in flight, and nobody
 * while parked (daily quota spent). The client acquires a lease around every counted request.
 *
 * Marketo counts a call when it arrives, which is somewhere between our grant and our response.
 * So a call in flight counts against the window, and a finished call keeps counting until
 * `windowMs` after its response (its lease release): a new call granted later arrives at least a
 * window after every call it does not count, whatever the network did — no assumption about
 * jitter, and no fixed margin wider than the calls' own latency.
 */
export interface CallGovernor {
  /** Waits for a slot (honouring the window, the concurrency cap and any park) and takes it. */
  acquire(): Promise<Lease>;
  /** Parks every caller until `untilMs` (epoch ms). Never shortens an existing park. */
  park(untilMs: number, reason: string): Promise<void>;
}

export interface Lease {
  readonly id: string;
  /** Epoch ms the slot was granted (the call's timestamp in the sliding log). */
  readonly acquiredAt: number;
  /** Frees the concurrency slot (idempotent). The window slot stays used until it slides out. */
  release(): Promise<void>;
}

export interface CallGovernorStats {
  acquired: number;
  /** Times a caller had to wait because the window or the concurrency cap was full. */
  waits: number;
  /** Optimistic-lock conflicts (another caller wrote first); retried at once. */
  conflicts: number;
  /** Times a caller waited out a park. */
  parkedWaits: number;
}

export interface CallGovernorLimits {
  /** Calls allowed in any rolling window (Marketo allows 100 / 20 s per instance; recommended ≤ 50). */
  callsPerWindow: number;
  /** Window length (default 20,000 ms). */
  windowMs?: number;
  /** Calls in flight (Marketo allows 10 per instance; recommended ≤ 5). */
  maxConcurrent: number;
  /**
   * A lease not released after this long is considered abandoned (crashed holder); its call then
   * stops counting. Must exceed the longest call (Get Paging Token: 300 s) plus `windowMs`.
   */
  leaseMs?: number;
  /**
   * Added to the window: covers clock differences between the callers (one instance's release
   * against another's grant). Default 250 ms.
   */
  skewMarginMs?: number;
}

export interface GovernorRuntime {
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Wait for a park at most this long; beyond it acquire() throws MarketoParkedError (default 30 s). */
  maxParkWaitMs?: number;
  /** Give up acquiring after this long (default 15 min) with CallGovernorTimeoutError. */
  acquireTimeoutMs?: number;
  /** Re-check interval while the concurrency cap is full (default 100 ms, jittered). */
  pollMs?: number;
}

export const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Shared state machine of both governors: given the current state, grant or say how long to wait. */
export interface GovernorState {
  /** When each finished call's response came back (epoch ms, lease release): counted for a window after. */
  calls: number[];
  /** Calls in flight: leaseId → expiry. Each counts against the window and the concurrency cap. */
  leases: Record<string, number>;
  parkedUntil?: number;
  parkedReason?: string;
}

export type GovernorDecision =
  | { kind: 'grant'; next: GovernorState; leaseId: string }
  | { kind: 'wait'; ms: number; reason: 'window' | 'concurrency' }
  | { kind: 'parked'; until: number; reason: string };

export function decide(
  state: GovernorState,
  now: number,
  limits: Required<CallGovernorLimits>,
  pollMs: number,
): GovernorDecision {
  if (state.parkedUntil !== undefined && state.parkedUntil > now)
    return { kind: 'parked', until: state.parkedUntil, reason: state.parkedReason ?? 'parked' };
  // Finished calls whose response came back within the window, plus every call in flight, may
  // still share a Marketo window with a call granted now: together they must stay under the limit.
  const windowMs = limits.windowMs + limits.skewMarginMs;
  const calls = state.calls.filter((t) => t > now - windowMs).sort((a, b) => a - b);
  const leases: Record<string, number> = {};
  for (const [id, exp] of Object.entries(state.leases)) if (exp > now) leases[id] = exp;
  const inFlight = Object.keys(leases).length;
  const excess = calls.length + inFlight - limits.callsPerWindow;
  if (excess >= 0) {
    // The (excess + 1)-th oldest finished call must slide out; if the calls in flight alone fill
    // the window, wait for one of them to finish.
    const slidesOut = calls[excess];
    return slidesOut === undefined
      ? { kind: 'wait', ms: pollMs, reason: 'window' }
      : { kind: 'wait', ms: Math.max(1, slidesOut + windowMs - now + 1), reason: 'window' };
  }
  if (inFlight >= limits.maxConcurrent) return { kind: 'wait', ms: pollMs, reason: 'concurrency' };
  const leaseId = randomUUID();
  leases[leaseId] = now + limits.leaseMs;
  return {
    kind: 'grant',
    leaseId,
    next: {
      calls,
      leases,
      ...(state.parkedUntil !== undefined ? { parkedUntil: state.parkedUntil } : {}),
      ...(state.parkedReason !== undefined ? { parkedReason: state.parkedReason } : {}),
    },
  };
}

export function withDefaults(limits: CallGovernorLimits): Required<CallGovernorLimits> {
  if (limits.callsPerWindow < 1 || limits.maxConcurrent < 1)
    throw new Error(
      'Call governor limits must allow at least one call (callsPerWindow ≥ 1, maxConcurrent ≥ 1).',
    );
  const windowMs = limits.windowMs ?? 20_000;
  return { leaseMs: 330_000, skewMarginMs: 250, ...limits, windowMs };
}

/**
 * In-process governor (one Node process, e.g. the CLI or a test). Same semantics as the DynamoDB
 * governor, which is what a deployment with several Lambda instances needs.
 */
export class InMemoryCallGovernor implements CallGovernor {
  private state: GovernorState = { calls: [], leases: {} };
  private readonly limits: Required<CallGovernorLimits>;
  private readonly clock: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly runtime: GovernorRuntime;
  private readonly counters: CallGovernorStats = { acquired: 0, waits: 0, conflicts: 0, parkedWaits: 0 };

  constructor(limits: CallGovernorLimits, runtime: GovernorRuntime = {}) {
    this.limits = withDefaults(limits);
    this.runtime = runtime;
    this.clock = runtime.clock ?? Date.now;
    this.sleep = runtime.sleep ?? realSleep;
    this.random = runtime.random ?? Math.random;
  }

  async acquire(): Promise<Lease> {
    const started = this.clock();
    for (;;) {
      const now = this.clock();
      const d = decide(this.state, now, this.limits, this.runtime.pollMs ?? 100);
      if (d.kind === 'grant') {
        this.state = d.next;
        this.counters.acquired += 1;
        const id = d.leaseId;
        let released = false;
        return {
          id,
          acquiredAt: now,
          release: async () => {
            if (released) return;
            released = true;
            // Only a live lease logs its call; an expired one was already dropped.
            if (this.state.leases[id] !== undefined) this.state.calls.push(this.clock());
            delete this.state.leases[id];
          },
        };
      }
      await waitFor(d, now, started, this.runtime, this.counters, this.sleep, this.random);
    }
  }

  async park(untilMs: number, reason: string): Promise<void> {
    if (this.state.parkedUntil === undefined || this.state.parkedUntil < untilMs) {
      this.state.parkedUntil = untilMs;
      this.state.parkedReason = reason;
    }
  }

  stats(): CallGovernorStats {
    return { ...this.counters };
  }
}

/** Sleeps per a wait/parked decision, or throws when the caller's budget would be exceeded. */
export async function waitFor(
  d: Exclude<GovernorDecision, { kind: 'grant' }>,
  now: number,
  started: number,
  runtime: GovernorRuntime,
  counters: CallGovernorStats,
  sleep: (ms: number) => Promise<void>,
  random: () => number,
): Promise<void> {
  if (d.kind === 'parked') {
    const maxPark = runtime.maxParkWaitMs ?? 30_000;
    if (d.until - now > maxPark) throw new MarketoParkedError(d.until, d.reason);
    counters.parkedWaits += 1;
    await sleep(d.until - now + Math.floor(random() * 250));
    return;
  }
  const timeout = runtime.acquireTimeoutMs ?? 15 * 60_000;
  if (now - started + d.ms > timeout)
    throw new CallGovernorTimeoutError(
      `No Marketo call slot within ${timeout} ms (${d.reason} full); other callers hold the budget — retry later.`,
    );
  counters.waits += 1;
  // Jitter so that waiting callers do not all come back in the same millisecond.
  await sleep(d.ms + Math.floor(random() * Math.min(250, d.ms + 20)));
}
