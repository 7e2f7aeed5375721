/**
 * The span one incremental run reads: from the watermark less the overlap (late-committed or
 * late-visible records), or the look-back on the first run, up to now.
 */
export function readWindow(
  watermark: string | undefined,
  settings: { overlapMinutes: number; lookbackDays: number },
  now: number,
): { since: Date; until: Date } {
  const since = watermark
    ? new Date(Date.parse(watermark) - settings.overlapMinutes * 60_000)
    : new Date(now - settings.lookbackDays * 86_400_000);
  return { since, until: new Date(now) };
}
