import { createHash } from 'node:crypto';

/**
 * Opaque paging tokens of the sandbox. Like Marketo's they are base-encoded and contain characters
 * (`+`, `/`, `=`) that break a request unless the client URL-encodes them. A token carries a
 * position (activity date + sequence, or an offset for lead queries), the time it was issued and a
 * checksum, so tampered, truncated or expired tokens are refused.
 */

export interface ActivityPosition {
  kind: 'a';
  /** Epoch ms of the last activity returned (or the since-date minus nothing). */
  t: number;
  /** Sequence of the last activity returned; -1 = "from t inclusive". */
  s: number;
  /** Issued at (sandbox clock, ms). */
  i: number;
}

export interface OffsetPosition {
  kind: 'o';
  /** Offset into the result set of a leads query. */
  n: number;
  /** Fingerprint of the query the token belongs to. */
  q: string;
  i: number;
}

export type PagingPosition = ActivityPosition | OffsetPosition;

const checksum = (body: string): string => createHash('sha256').update(body).digest('base64').slice(0, 6);

export function encodePagingToken(position: PagingPosition): string {
  const body = JSON.stringify(position);
  return Buffer.from(`${body}|${checksum(body)}`).toString('base64');
}

export function decodePagingToken(token: string): PagingPosition | undefined {
  let raw: string;
  try {
    raw = Buffer.from(token, 'base64').toString('utf8');
  } catch {
    return undefined;
  }
  const bar = raw.lastIndexOf('|');
  if (bar < 0) return undefined;
  const body = raw.slice(0, bar);
  if (checksum(body) !== raw.slice(bar + 1)) return undefined;
  try {
    const parsed = JSON.parse(body) as PagingPosition;
    if (parsed.kind === 'a' && Number.isFinite(parsed.t) && Number.isFinite(parsed.s)) return parsed;
    if (parsed.kind === 'o' && Number.isInteger(parsed.n)) return parsed;
  } catch {
    return undefined;
  }
  return undefined;
}
