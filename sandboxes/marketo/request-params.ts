import { EnvelopeError } from './envelope.js';
import {
  type ActivityPosition,
  decodePagingToken,
  encodePagingToken,
  type OffsetPosition,
  type PagingPosition,
} from './paging-token.js';
import type { MarketoState } from './sandbox-state.js';

/**
 * Parameter rules shared by the routes. Limits: ≤ 300 per page (`batchSize`), ≤ 10
 * `activityTypeIds`, ≤ 30 `leadIds` (shared/API-NOTES.md "Activities"; AdobeDocs/marketo-developer.en
 * help/rest-api/activities.md). Codes: 701 "%s cannot be blank", 1001 invalid value type, 1003
 * invalid data (help/rest-api/error-codes.md).
 *
 * Paging-token rejection: Marketo's docs do not name the code for an invalid or expired
 * `nextPageToken`; the sandbox answers `1003` with message "Invalid token value: …" (an
 * "invalid data" code), which the client maps to MarketoPagingTokenError on paging endpoints.
 */

export const tokenFor = (
  position: Omit<ActivityPosition, 'i'> | Omit<OffsetPosition, 'i'>,
  now: number,
): string => encodePagingToken({ ...position, i: now });

export function readToken(state: MarketoState, token: string | undefined, now: number): PagingPosition {
  if (!token) throw new EnvelopeError('701', 'nextPageToken cannot be blank');
  const pos = decodePagingToken(token);
  if (!pos) throw new EnvelopeError('1003', `Invalid token value: ${token.slice(0, 40)}`);
  if (state.pagingTokenTtlMs !== undefined && now - pos.i > state.pagingTokenTtlMs)
    throw new EnvelopeError('1003', `Invalid token value: token expired`);
  return pos;
}

export function parseIdList(
  raw: string | undefined,
  name: string,
  max: number,
  required: boolean,
): number[] | undefined {
  if (raw === undefined || raw.trim() === '') {
    if (required) throw new EnvelopeError('701', `${name} cannot be blank`);
    return undefined;
  }
  const ids = raw.split(',').map((s) => s.trim());
  if (ids.some((s) => !/^\d+$/.test(s)))
    throw new EnvelopeError('1001', `Invalid value '${raw}'. Required of type 'Integer'`);
  if (ids.length > max)
    throw new EnvelopeError('1003', `Too many values for '${name}': ${ids.length} (max ${max})`);
  return ids.map(Number);
}

/** `batchSize`: 1–300, default 300. */
export function parseBatchSize(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 300;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 300)
    throw new EnvelopeError('1003', `Invalid batchSize '${raw}' (1-300)`);
  return n;
}

/** Write endpoints take at most 300 input records (API-NOTES: Sync Leads, Add Custom Activities). */
export function requireInput(body: unknown): Record<string, unknown>[] {
  const input = (body as { input?: unknown } | null)?.input;
  if (!Array.isArray(input)) throw new EnvelopeError('1003', 'input is required');
  if (input.length > 300)
    throw new EnvelopeError('1003', `Too many input records: ${input.length} (max 300)`);
  return input as Record<string, unknown>[];
}
