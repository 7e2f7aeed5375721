import type { Socket } from 'node:net';
import { createWorld, mulberry32, type World, type WorldActivityType, type WorldOptions } from '../world.js';
import type { BulkExportLimits } from './bulk-export-state.js';
import { FaultController } from './fault-controller.js';
import { SandboxStats } from './sandbox-stats.js';

/**
 * The Marketo sandbox's shared state: everything the request pipeline and the routes read or
 * change (tokens, the rate window, the daily quota, custom activity types), built once per sandbox.
 */

export interface MarketoSandboxLimits {
  /** Calls allowed in any rolling `windowMs` (Marketo: 100 / 20 s; API-NOTES "Limits"). */
  callsPerWindow: number;
  windowMs: number;
  /** Concurrent calls allowed (Marketo: 10; API-NOTES "Limits"). */
  maxConcurrent: number;
  /** Daily quota (Marketo: typically 50,000; API-NOTES "Limits"). */
  dailyQuota: number;
  /**
   * When the quota's usage goes back to 0: `manual` (only resetDailyQuota(), the default) or
   * `chicagoMidnight` (as Marketo does: at 00:00 America/Chicago, on the sandbox clock).
   */
  dailyQuotaReset: 'manual' | 'chicagoMidnight';
}

export interface MarketoSandboxOptions {
  world?: World;
  worldOptions?: WorldOptions;
  clientId?: string;
  clientSecret?: string;
  /** Lifetime of a new access token (default 3600 s; API-NOTES "Auth"). */
  tokenLifetimeSec?: number;
  /** Seed of the fault and paging PRNG (default 42). */
  seed?: number;
  limits?: Partial<MarketoSandboxLimits>;
  /** Added to every REST call while it counts as in flight. */
  latency?: { ms: number; jitterMs?: number };
  paging?: { shortPageProbability?: number; emptyPageProbability?: number; tokenTtlMs?: number };
  /** Sandbox clock (epoch ms). Default: the world's now, advancing with real time. */
  clock?: () => number;
  /** Max request-URI length before HTTP 414 (default 8 KB; API-NOTES: URI > 8 KB → 414). */
  maxUriBytes?: number;
  port?: number;
  /** Bulk extract limits and the processing delay of an export job (bulk-export-state.ts). */
  bulkExport?: Partial<BulkExportLimits>;
}

export interface SandboxClock {
  now(): number;
  /** Pins the sandbox clock to `ms` (it keeps advancing with real time from there). */
  set(ms: number): void;
  advance(ms: number): void;
}

export type CustomActivityType = WorldActivityType & { status: 'draft' | 'approved' };

export interface MarketoState {
  readonly world: World;
  /** The one seeded PRNG of the sandbox (faults, paging, jitter, tokens, request ids). */
  readonly rand: () => number;
  readonly faults: FaultController;
  readonly stats: SandboxStats;
  readonly clock: SandboxClock;
  readonly limits: MarketoSandboxLimits;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly tokenLifetimeMs: number;
  readonly pagingTokenTtlMs: number | undefined;
  readonly maxUriBytes: number;
  latency: { ms: number; jitterMs?: number };
  readonly tokens: Map<string, { expiresAt: number }>;
  currentToken: string | undefined;
  /** Wall-clock arrival times of the calls counted in the rolling rate window. */
  readonly windowLog: number[];
  dailyUsed: number;
  /** Calendar day in Chicago whose usage `dailyUsed` counts (see limits.dailyQuotaReset). */
  quotaDay: string;
  inFlight: number;
  requestSeq: number;
  customTypeSeq: number;
  /** Custom activity types created through the API, by apiName. */
  readonly customTypes: Map<string, CustomActivityType>;
  readonly sockets: Set<Socket>;
  readonly timers: Set<NodeJS.Timeout>;
}

const CHICAGO_DAY = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'America/Chicago',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});
/** The calendar day in America/Chicago (the zone of Marketo's quota reset), e.g. `2026-10-15`. */
export const chicagoDay = (ms: number): string => CHICAGO_DAY.format(new Date(ms));

export function createMarketoState(options: MarketoSandboxOptions): MarketoState {
  const world = options.world ?? createWorld(options.worldOptions);
  const rand = mulberry32(options.seed ?? 42);
  // Business clock (visibility of late activities, token and paging-token expiry). Default: the
  // world's now, advancing with real time. set()/advance() shift it, also over a caller's clock.
  const startedReal = Date.now();
  const baseClock = options.clock ?? (() => world.now + (Date.now() - startedReal));
  let clockOffset = 0;
  const clock: SandboxClock = {
    now: () => baseClock() + clockOffset,
    set(ms) {
      clockOffset = ms - baseClock();
    },
    advance(ms) {
      clockOffset += ms;
    },
  };
  return {
    world,
    rand,
    faults: new FaultController(rand, options.paging),
    stats: new SandboxStats(),
    clock,
    limits: {
      callsPerWindow: options.limits?.callsPerWindow ?? 100,
      windowMs: options.limits?.windowMs ?? 20_000,
      maxConcurrent: options.limits?.maxConcurrent ?? 10,
      dailyQuota: options.limits?.dailyQuota ?? 50_000,
      dailyQuotaReset: options.limits?.dailyQuotaReset ?? 'manual',
    },
    clientId: options.clientId ?? 'sandbox-client-id',
    clientSecret: options.clientSecret ?? 'sandbox-client-secret',
    tokenLifetimeMs: (options.tokenLifetimeSec ?? 3600) * 1000,
    pagingTokenTtlMs: options.paging?.tokenTtlMs,
    maxUriBytes: options.maxUriBytes ?? 8192,
    latency: options.latency ?? { ms: 0, jitterMs: 0 },
    tokens: new Map(),
    currentToken: undefined,
    windowLog: [],
    dailyUsed: 0,
    quotaDay: chicagoDay(clock.now()),
    inFlight: 0,
    requestSeq: 0,
    customTypeSeq: 100_100,
    customTypes: new Map(),
    sockets: new Set(),
    timers: new Set(),
  };
}

/** `n` random hex digits from the sandbox PRNG. */
export const randomHex = (state: MarketoState, n: number): string =>
  Math.floor(state.rand() * 16 ** n)
    .toString(16)
    .padStart(n, '0');

/** A Marketo-style request id (`e3f1#18c2…`). */
export const requestId = (state: MarketoState): string =>
  `${randomHex(state, 4)}#${(Date.now() + state.requestSeq).toString(16)}`;

/** Waits `ms`; `stop()` clears pending waits. */
export const sleep = (state: MarketoState, ms: number): Promise<void> =>
  new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      state.timers.delete(t);
      resolve();
    }, ms);
    state.timers.add(t);
  });
