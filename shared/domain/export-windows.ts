import type { TimeWindow } from './activity-streams.js';

/** "Max Time Span for Date Range Filter (createdAt or updatedAt): 31 days" (AdobeDocs/marketo-developer.en help/rest-api/bulk-extract.md, "Limits"). */
export const EXPORT_MAX_WINDOW_MS = 31 * 86_400_000;

/**
 * Splits [from, until) into the fewest equal windows of at most 31 days, each with an end: a
 * Bulk Activity Extract job takes one `createdAt` range of ≤ 31 days.
 */
export function exportWindows(from: Date, until: Date, maxMs = EXPORT_MAX_WINDOW_MS): Required<TimeWindow>[] {
  const span = Math.max(0, until.getTime() - from.getTime());
  const n = Math.max(1, Math.ceil(span / maxMs));
  const size = span / n;
  const at = (i: number) =>
    new Date(i === n ? until.getTime() : from.getTime() + Math.round(i * size)).toISOString();
  return Array.from({ length: n }, (_, i) => ({ index: i, from: at(i), until: at(i + 1) }));
}
