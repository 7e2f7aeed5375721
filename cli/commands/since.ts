/** `--since` for verify and dlq: an ISO-8601 time, or a span back from now (`7d`, `12h`, `30m`). */

export class SinceUsageError extends Error {
  override readonly name = 'UsageError';
}

const SPAN = /^(\d{1,5})([dhm])$/;
const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000 } as const;

export function parseSince(value: string, now: Date = new Date()): Date {
  const span = SPAN.exec(value.trim());
  if (span) {
    const [, n, unit] = span as unknown as [string, string, keyof typeof UNIT_MS];
    return new Date(now.getTime() - Number(n) * UNIT_MS[unit]);
  }
  // A date-time with a zone, or a bare date (midnight UTC): never a local-time guess.
  if (/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/.test(value)) {
    const at = new Date(value);
    if (!Number.isNaN(at.getTime())) return at;
  }
  throw new SinceUsageError(
    `--since must be an ISO time with a zone (2026-11-20T00:00:00Z), a date (2026-11-20) or a span back from now (7d, 12h, 30m); got "${value}"`,
  );
}
