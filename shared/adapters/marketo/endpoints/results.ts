import type { ZodType } from 'zod';
import * as z from 'zod';
import type { ActivityPage } from '../../../ports/marketo-api.js';
import { MarketoRequestError, MarketoResponseValidationError } from '../../../ports/marketo-errors.js';
import { MARKETO_MAX_BATCH } from '../../../ports/vendor-limits.js';
import type { Envelope } from '../marketo-schemas.js';

/** Request checks and result parsing shared by the endpoint modules. */

/** `result` parsed as an array of `schema`, or MarketoResponseValidationError. */
export function parseResult<T>(schema: ZodType<T>, env: Envelope, endpoint: string): T[] {
  const parsed = z.array(schema).safeParse(env.result ?? []);
  if (!parsed.success)
    throw new MarketoResponseValidationError(`${endpoint} returned records of an unexpected shape.`, {
      endpoint,
      ...(env.requestId ? { requestId: env.requestId } : {}),
      cause: parsed.error,
    });
  return parsed.data;
}

/** The single record a create/approve call returns. */
export function parseOne<T>(schema: ZodType<T>, env: Envelope, endpoint: string, what: string): T {
  const [record] = parseResult(schema, env, endpoint);
  if (!record) throw new MarketoResponseValidationError(`${what} returned no record.`, { endpoint });
  return record;
}

export function parsePage<T>(schema: ZodType<T>, env: Envelope, endpoint: string): ActivityPage<T> {
  if (!env.nextPageToken)
    throw new MarketoResponseValidationError(`${endpoint} answered without nextPageToken.`, {
      endpoint,
      ...(env.requestId ? { requestId: env.requestId } : {}),
    });
  return {
    items: parseResult(schema, env, endpoint),
    nextPageToken: env.nextPageToken,
    moreResult: env.moreResult ?? false,
  };
}

export function requirePageToken(token: string, endpoint: string): void {
  if (!token)
    throw new MarketoRequestError('A nextPageToken is required (get one with getPagingToken()).', {
      endpoint,
    });
}

export function requireBatch(n: number, endpoint: string): void {
  if (n > MARKETO_MAX_BATCH)
    throw new MarketoRequestError(
      `At most ${MARKETO_MAX_BATCH} records per call (got ${n}); split the batch.`,
      {
        endpoint,
      },
    );
}

/** One result per record sent (a write's results come back in input order). */
export function requireSameLength(got: number, sent: number, env: Envelope, endpoint: string): void {
  if (got !== sent)
    throw new MarketoResponseValidationError(`${endpoint} returned ${got} results for ${sent} records.`, {
      endpoint,
      ...(env.requestId ? { requestId: env.requestId } : {}),
    });
}

export function batchSizeParam(batchSize: number | undefined, endpoint: string): Record<string, string> {
  if (batchSize === undefined) return {};
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MARKETO_MAX_BATCH)
    throw new MarketoRequestError(`batchSize must be 1..${MARKETO_MAX_BATCH} (got ${batchSize}).`, {
      endpoint,
    });
  return { batchSize: String(batchSize) };
}
