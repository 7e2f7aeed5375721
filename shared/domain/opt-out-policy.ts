import {
  type Evidence,
  maxIso,
  type OptOutOrigin,
  type OptOutSource,
  type OptOutState,
  type OurWrite,
  originOf,
  systemOf,
  type TargetKey,
} from './opt-out-state.js';

/**
 * The one place that decides what a person's opt-out is. Pure: state in, state out.
 *
 * Rules (property-tested in test/unit/optouts/opt-out-policy.test.ts):
 *  1. Any system saying "opted out" wins over "subscribed": the decision is opted out when the
 *     latest opt-out is at least as new as the latest *allowed* resubscribe.
 *  2. A resubscribe is allowed only when its origin is listed in settings.optOuts.resubscribeSources
 *     (default: none) and it flips a record we knew as opted out. Otherwise it is recorded and
 *     counted (`resubscribeRejected`), and the record is brought back to opted out.
 *  3. The decision depends on the set of observations, not on the order they are processed in
 *     (both aggregates are maxima), so a late webhook or a re-read page cannot flip it.
 *  4. Our own writes coming back (directly, or mirrored by Marketo's CRM sync onto the other side)
 *     are echoes: they never move either aggregate.
 */

export interface OptOutPolicy {
  resubscribeSources: readonly OptOutOrigin[];
  /** How long a write of ours can come back as an echo (default 7 days). */
  echoWindowMs?: number;
  /** Tolerated clock skew between us and the vendors (default 2 s). */
  echoSkewMs?: number;
}

export const DEFAULT_ECHO_WINDOW_MS = 7 * 24 * 3600 * 1000;
export const DEFAULT_ECHO_SKEW_MS = 2000;
/** Cap on remembered writes per person (oldest dropped first). */
const MAX_OUR_WRITES = 50;

/** A change (or a sighting) of one record's opt-out value, or a webhook delivery. */
export interface Observation {
  source: OptOutSource;
  /** The record it was seen on; absent for a webhook (it names a person, not a record). */
  target?: TargetKey;
  /** true = opted out. */
  value: boolean;
  /** When the change happened on that side (ISO-8601). */
  at: string;
  /** The record's value before the change when the vendor says so (Marketo oldValue). */
  priorValue?: boolean;
  evidence: Evidence;
}

export type Verdict =
  /** Newly opted out. */
  | 'optOut'
  /** An opt-out for a person already opted out (kept, time refreshed). */
  | 'alreadyOptedOut'
  /** An opt-out older than an allowed, newer resubscribe: recorded, not applied. */
  | 'optOutOlderThanResubscribe'
  /** One of our own writes coming back. */
  | 'echo'
  /** The record still carries the value we already knew. */
  | 'unchanged'
  /** An allowed, newer resubscribe: applied. */
  | 'resubscribe'
  /** A resubscribe from a source not allowed, or older than the opt-out: recorded, opt-out kept. */
  | 'resubscribeRejected'
  /** A record that never carried the opt-out says subscribed while the person is opted out: fixed. */
  | 'drift'
  /** "Subscribed" for a person who is subscribed. */
  | 'alreadySubscribed';

export interface ObserveResult {
  state: OptOutState;
  verdict: Verdict;
  /** Did the decided value change? */
  flipped: boolean;
}

const ms = (iso: string) => Date.parse(iso);

/** The decision from the two aggregates (rule 1). Ties go to the opt-out. */
export function decide(optedOutAt: string | undefined, resubscribedAt: string | undefined): boolean {
  if (optedOutAt === undefined) return false;
  return resubscribedAt === undefined || ms(resubscribedAt) <= ms(optedOutAt);
}

/** Is this observation one of our own writes coming back? */
export function isEcho(state: OptOutState, obs: Observation, policy: OptOutPolicy): boolean {
  if (obs.source === 'webhook' || obs.target === undefined) return false;
  // An echo agrees with the decision; anything that would change it is a real change.
  if (obs.value !== state.optedOut) return false;
  const window = policy.echoWindowMs ?? DEFAULT_ECHO_WINDOW_MS;
  const skew = policy.echoSkewMs ?? DEFAULT_ECHO_SKEW_MS;
  const at = ms(obs.at);
  const target = obs.target;
  return state.ourWrites.some(
    (w) =>
      w.value === obs.value &&
      at >= ms(w.at) - skew &&
      at <= ms(w.at) + window &&
      // The record we wrote, or a record on the other side (Marketo's CRM sync mirroring it).
      (w.target === target || systemOf(w.target) !== systemOf(target)),
  );
}

/**
 * When a resubscribe happened, by evidence that the opt-out field itself changed. A change event
 * that carries the prior value (Marketo's Change Data Value activity, field history) is dated by
 * itself. A record that merely reads "subscribed" where we last saw "opted out" is dated just after
 * that sighting — the lower bound of when the field can have changed — never by its SystemModstamp /
 * updatedAt, which any edit of any field moves (so an old resubscribe could outdate a newer opt-out).
 */
export function resubscribeDate(state: OptOutState, obs: Observation): string {
  const seen = obs.target === undefined ? undefined : state.records[obs.target];
  if (obs.priorValue !== undefined || !seen) return obs.at;
  const lowerBound = Math.min(ms(seen.at) + 1, ms(obs.at));
  return new Date(lowerBound).toISOString();
}

/** Applies one observation. Never throws; never mutates its input. */
export function observe(state: OptOutState, obs: Observation, policy: OptOutPolicy): ObserveResult {
  const before = state.optedOut;
  const next: OptOutState = { ...state, records: { ...state.records }, ourWrites: [...state.ourWrites] };
  const prior = obs.priorValue ?? (obs.target ? state.records[obs.target]?.optedOut : undefined);
  if (obs.target !== undefined) {
    const seen = state.records[obs.target];
    if (!seen || ms(obs.at) >= ms(seen.at)) next.records[obs.target] = { optedOut: obs.value, at: obs.at };
  }
  if (obs.source === 'webhook' && obs.value) next.webhookAt = maxIso(state.webhookAt, obs.at);

  const done = (verdict: Verdict): ObserveResult => {
    next.optedOut = decide(next.optedOutAt, next.resubscribedAt);
    if (next.optedOut !== before || verdict === 'optOut' || verdict === 'resubscribe') {
      next.lastChange = { source: obs.source, value: obs.value, at: obs.at, evidence: obs.evidence };
    }
    if (next.optedOut !== before && !next.optedOut) {
      // A resubscribe supersedes our opt-out writes: a later opt-out must not look like their echo.
      next.ourWrites = next.ourWrites.filter((w) => !w.value);
    }
    if (next.optedOut !== before && next.optedOut) next.ourWrites = next.ourWrites.filter((w) => w.value);
    return { state: next, verdict, flipped: next.optedOut !== before };
  };

  if (isEcho(state, obs, policy)) return done('echo');
  if (prior === obs.value) return done('unchanged');

  if (obs.value) {
    next.optedOutAt = maxIso(state.optedOutAt, obs.at);
    const after = decide(next.optedOutAt, next.resubscribedAt);
    if (!after) return done('optOutOlderThanResubscribe');
    return done(before ? 'alreadyOptedOut' : 'optOut');
  }

  const allowed = prior === true && policy.resubscribeSources.includes(originOf(obs.source));
  if (allowed) next.resubscribedAt = maxIso(state.resubscribedAt, resubscribeDate(state, obs));
  if (!before) return done('alreadySubscribed');
  if (prior !== true) return done('drift');
  const after = decide(next.optedOutAt, next.resubscribedAt);
  if (after) {
    next.rejectedResubscribes = state.rejectedResubscribes + 1;
    return done('resubscribeRejected');
  }
  return done('resubscribe');
}

/** Applies observations in time order (the result does not depend on it; history reads better). */
export function observeAll(
  state: OptOutState,
  observations: readonly Observation[],
  policy: OptOutPolicy,
): { state: OptOutState; verdicts: { observation: Observation; verdict: Verdict; optedOut: boolean }[] } {
  const sorted = [...observations].sort((a, b) => ms(a.at) - ms(b.at));
  let current = state;
  const verdicts: { observation: Observation; verdict: Verdict; optedOut: boolean }[] = [];
  for (const o of sorted) {
    const r = observe(current, o, policy);
    current = r.state;
    verdicts.push({ observation: o, verdict: r.verdict, optedOut: current.optedOut });
  }
  return { state: current, verdicts };
}

/** Records (with their current values) that disagree with the decision: the writes to make. */
export function planWrites(
  state: OptOutState,
  current: readonly { target: TargetKey; optedOut: boolean }[],
): { target: TargetKey; value: boolean }[] {
  return current
    .filter((r) => r.optedOut !== state.optedOut)
    .map((r) => ({ target: r.target, value: state.optedOut }));
}

/** Remembers writes we are about to make (before sending them: an echo is never older). */
export function rememberWrites(
  state: OptOutState,
  writes: readonly { target: TargetKey; value: boolean }[],
  at: string,
  cause: string,
  policy: OptOutPolicy,
): OptOutState {
  const added: OurWrite[] = writes.map((w) => ({ target: w.target, value: w.value, at, cause }));
  return pruneWrites({ ...state, ourWrites: [...state.ourWrites, ...added] }, at, policy);
}

/** Marks writes as landed: the records now carry the value. */
export function confirmWrites(
  state: OptOutState,
  written: readonly { target: TargetKey; value: boolean }[],
  at: string,
): OptOutState {
  const records = { ...state.records };
  for (const w of written) {
    const seen = records[w.target];
    if (!seen || ms(at) >= ms(seen.at)) records[w.target] = { optedOut: w.value, at };
  }
  return { ...state, records };
}

/** Drops writes older than the echo window, keeping at most the newest MAX_OUR_WRITES. */
export function pruneWrites(state: OptOutState, now: string, policy: OptOutPolicy): OptOutState {
  const window = policy.echoWindowMs ?? DEFAULT_ECHO_WINDOW_MS;
  const kept = state.ourWrites.filter((w) => ms(w.at) + window >= ms(now)).slice(-MAX_OUR_WRITES);
  return { ...state, ourWrites: kept };
}

/** Settings → policy. */
export function policyFromSettings(optOuts: { resubscribeSources: readonly OptOutOrigin[] }): OptOutPolicy {
  return { resubscribeSources: optOuts.resubscribeSources };
}
