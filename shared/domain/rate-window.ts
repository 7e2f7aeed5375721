/**
 * A fixed rate window: epoch time cut into windows of `perSeconds` seconds, so every counter of
 * the same length rolls over at the same instant (a burst straddling a boundary can reach twice the
 * limit over one window's length; accepted for the one-write-per-request counter it allows).
 */
export interface RateWindow {
  /** Epoch seconds the window starts (a multiple of `perSeconds`). */
  readonly startSeconds: number;
  /** Epoch seconds the next window starts. */
  readonly endSeconds: number;
}

export function fixedRateWindow(nowMs: number, perSeconds: number): RateWindow {
  const startSeconds = Math.floor(nowMs / 1000 / perSeconds) * perSeconds;
  return { startSeconds, endSeconds: startSeconds + perSeconds };
}

/** Whole seconds from `nowMs` until the window ends, at least 1 (an HTTP Retry-After value). */
export function secondsUntilWindowEnds(window: RateWindow, nowMs: number): number {
  return Math.max(1, Math.ceil(window.endSeconds - nowMs / 1000));
}

/** The counter of one source in one window (the window length is part of it: a changed setting starts afresh). */
export function rateCounterKey(sourceKey: string, perSeconds: number, window: RateWindow): string {
  return `${sourceKey}#${perSeconds}#${window.startSeconds}`;
}
