import * as z from 'zod';
import { soqlIdentifier } from '../../domain/soql.js';
import type { SalesforceSaveResult } from '../../ports/salesforce-api.js';
import { SalesforceApiError } from '../../ports/salesforce-errors.js';
import type { SalesforceCall } from './salesforce-call.js';

/** sObject Collections writes (upsert, create, update, destroy), chunked to the collection size. */

/** What every Salesforce endpoint module is given: the call layer and the versioned data path. */
export interface SalesforceEndpoints {
  call: SalesforceCall;
  /** `/services/data/v{version}{rest}`. */
  dataPath(rest: string): string;
}

const recordErrorSchema = z.object({
  statusCode: z.string(),
  message: z.string(),
  fields: z.array(z.string()).optional(),
});
const saveResultsSchema = z.array(
  z.object({
    id: z.string().nullish(),
    success: z.boolean(),
    created: z.boolean().optional(),
    errors: z.array(recordErrorSchema).default([]),
  }),
);

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function toSaveResults(raw: unknown, expected: number, kind: string): SalesforceSaveResult[] {
  const parsed = saveResultsSchema.safeParse(raw);
  if (!parsed.success || parsed.data.length !== expected) {
    throw new SalesforceApiError(
      `${kind} returned ${parsed.success ? parsed.data.length : 'unparseable'} results for ${expected} records`,
      { errorCode: 'UNEXPECTED_RESPONSE', ...(parsed.success ? {} : { cause: parsed.error }) },
    );
  }
  return parsed.data.map((r) => ({
    id: r.id ?? null,
    success: r.success,
    ...(r.created !== undefined ? { created: r.created } : {}),
    errors: r.errors.map((e) => ({ statusCode: e.statusCode, message: e.message, fields: e.fields ?? [] })),
  }));
}

export class SalesforceCollections {
  constructor(
    private readonly api: SalesforceEndpoints,
    /** Records per collection call (1..200). */
    private readonly size: number,
  ) {}

  async upsert(
    sobject: string,
    externalIdField: string,
    records: Record<string, unknown>[],
  ): Promise<SalesforceSaveResult[]> {
    const path = this.api.dataPath(
      `/composite/sobjects/${soqlIdentifier(sobject).text}/${soqlIdentifier(externalIdField).text}`,
    );
    return this.write('upsert', sobject, records, path, 'PATCH', true);
  }

  /** Not retried on 5xx or a broken connection: a retry could create twice (SalesforceUnknownOutcomeError). */
  async create(sobject: string, records: Record<string, unknown>[]): Promise<SalesforceSaveResult[]> {
    return this.write('create', sobject, records, this.api.dataPath('/composite/sobjects'), 'POST', false);
  }

  async update(sobject: string, records: Record<string, unknown>[]): Promise<SalesforceSaveResult[]> {
    records.forEach((r, i) => {
      if (typeof r.Id !== 'string' && typeof r.id !== 'string') {
        throw new SalesforceApiError(`update: record ${i} has no Id`, { errorCode: 'MISSING_ARGUMENT' });
      }
    });
    return this.write('update', sobject, records, this.api.dataPath('/composite/sobjects'), 'PATCH', true);
  }

  async destroy(ids: string[]): Promise<SalesforceSaveResult[]> {
    const results: SalesforceSaveResult[] = [];
    for (const chunk of chunks(ids, this.size)) {
      for (const id of chunk) {
        if (!/^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$/.test(id)) {
          throw new SalesforceApiError(`destroy: ${JSON.stringify(id)} is not a Salesforce id`, {
            errorCode: 'MALFORMED_ID',
          });
        }
      }
      const path = this.api.dataPath(`/composite/sobjects?ids=${chunk.join(',')}&allOrNone=false`);
      const raw = await this.api.call<unknown>('destroy', { method: 'DELETE', path, write: true }, true);
      results.push(...toSaveResults(raw, chunk.length, 'destroy'));
    }
    return results;
  }

  private async write(
    kind: 'upsert' | 'create' | 'update',
    sobject: string,
    records: Record<string, unknown>[],
    path: string,
    method: 'POST' | 'PATCH',
    idempotent: boolean,
  ): Promise<SalesforceSaveResult[]> {
    const type = soqlIdentifier(sobject).text;
    const results: SalesforceSaveResult[] = [];
    for (const chunk of chunks(records, this.size)) {
      const body = JSON.stringify({
        allOrNone: false,
        records: chunk.map(({ attributes: _ignored, ...record }) => ({ attributes: { type }, ...record })),
      });
      const raw = await this.api.call<unknown>(
        kind,
        { method, path, body, contentType: 'application/json', write: true },
        idempotent,
      );
      results.push(...toSaveResults(raw, chunk.length, kind));
    }
    return results;
  }
}
