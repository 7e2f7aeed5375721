/**
 * The hold on a resumable run (an opt-out night, the first-enable alignment, a job-4 back-fill):
 * the invocation working on it marks it held until its budget is spent plus a margin, so a
 * continuation tick leaves it alone, and the hold of an invocation that died expires by itself.
 */

/** A hold outlives its invocation's budget by this much (the last chunk, the checkpoint). */
export const HOLD_MARGIN_MS = 3 * 60_000;

/** Until when an invocation starting at `startMs` holds its run: its budget plus the margin, and at least `atLeastMs`. */
export function holdUntil(startMs: number, budgetMs: number, atLeastMs = 0): string {
  return new Date(startMs + Math.max(budgetMs + HOLD_MARGIN_MS, atLeastMs)).toISOString();
}

/** Whether a hold stands at `nowMs` (none set, or expired: the run is free to take). */
export function isHeld(heldUntil: string | undefined, nowMs: number): boolean {
  return heldUntil !== undefined && Date.parse(heldUntil) > nowMs;
}
