import * as z from 'zod';
import type { SoqlQuery } from '../../domain/soql.js';
import type { SalesforceLimitInfo } from '../../ports/salesforce-api.js';
import { SalesforceApiError } from '../../ports/salesforce-errors.js';
import type { SalesforceEndpoints } from './collections.js';

/** SOQL query with every page fetched, and GET /limits. */

/** URI + headers must stay under 16 KB; keep the query string well below it. */
const MAX_QUERY_URL_LENGTH = 15_000;

const queryPageSchema = z.object({
  totalSize: z.number(),
  done: z.boolean(),
  records: z.array(z.record(z.string(), z.unknown())),
  nextRecordsUrl: z.string().optional(),
});
const limitsSchema = z.object({ DailyApiRequests: z.object({ Max: z.number(), Remaining: z.number() }) });

export async function queryAll<T extends Record<string, unknown>>(
  api: SalesforceEndpoints,
  soql: SoqlQuery,
): Promise<T[]> {
  const first = api.dataPath(`/query?q=${encodeURIComponent(soql)}`);
  if (first.length > MAX_QUERY_URL_LENGTH) {
    throw new SalesforceApiError(
      `SOQL too long for a GET (${first.length} chars): split the IN list into several queries`,
      { errorCode: 'QUERY_TOO_LONG' },
    );
  }
  const out: T[] = [];
  let path: string | undefined = first;
  let kind = 'query';
  while (path) {
    const raw: unknown = await api.call<unknown>(kind, { method: 'GET', path }, true);
    const page = queryPageSchema.safeParse(raw);
    if (!page.success) {
      throw new SalesforceApiError('query returned an unexpected page shape', {
        errorCode: 'UNEXPECTED_RESPONSE',
        cause: page.error,
      });
    }
    for (const { attributes: _a, ...record } of page.data.records) out.push(record as T);
    if (page.data.done || !page.data.nextRecordsUrl) break;
    if (!page.data.nextRecordsUrl.startsWith('/services/data/')) {
      throw new SalesforceApiError('nextRecordsUrl is not a /services/data path', {
        errorCode: 'UNEXPECTED_RESPONSE',
      });
    }
    path = page.data.nextRecordsUrl;
    kind = 'queryMore';
  }
  return out;
}

/** GET /limits: the org's daily API allocation right now. */
export async function readLimits(api: SalesforceEndpoints): Promise<SalesforceLimitInfo> {
  const raw = await api.call<unknown>('limits', { method: 'GET', path: api.dataPath('/limits') }, true);
  const parsed = limitsSchema.safeParse(raw);
  if (!parsed.success)
    throw new SalesforceApiError('limits returned an unexpected shape', { errorCode: 'UNEXPECTED_RESPONSE' });
  const { Max, Remaining } = parsed.data.DailyApiRequests;
  return { used: Max - Remaining, limit: Max };
}
