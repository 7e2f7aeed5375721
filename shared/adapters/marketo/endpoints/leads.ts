import {
  type Lead,
  type LeadFilterType,
  leadSchema,
  type SyncLeadResult,
} from '../../../ports/marketo-api.js';
import { MarketoRequestError } from '../../../ports/marketo-errors.js';
import { MARKETO_MAX_BATCH } from '../../../ports/vendor-limits.js';
import type { MarketoCall } from '../marketo-call.js';
import { syncLeadResultSchema } from '../marketo-schemas.js';
import { type Operation, opKey } from '../marketo-transport.js';
import { parseResult, requireBatch, requireSameLength } from './results.js';

/** Leads endpoints (Get Leads by Filter Type, Sync Leads). */
export const LEAD_OPS = {
  getLeads: { method: 'GET', path: '/rest/v1/leads.json', timeout: 'leads', idempotent: true, paged: true },
  // Sync Leads with explicit field values is idempotent (re-applying the same update is harmless).
  syncLeads: { method: 'POST', path: '/rest/v1/leads.json', timeout: 'writes', idempotent: true },
} as const satisfies Record<string, Operation>;

/** Every lead matching the filter values: at most 300 values per call, every page of each. */
export async function getLeads(
  call: MarketoCall,
  params: { filterType: LeadFilterType; filterValues: (string | number)[]; fields: string[] },
): Promise<Lead[]> {
  const endpoint = opKey(LEAD_OPS.getLeads);
  const values = params.filterValues.map(String);
  if (values.some((v) => v.includes(',')))
    throw new MarketoRequestError('getLeads filter values must not contain commas.', { endpoint });
  const out: Lead[] = [];
  for (let i = 0; i < values.length; i += MARKETO_MAX_BATCH) {
    const chunk = values.slice(i, i + MARKETO_MAX_BATCH);
    let nextPageToken: string | undefined;
    do {
      const env = await call(LEAD_OPS.getLeads, {
        filterType: params.filterType,
        filterValues: chunk.join(','),
        ...(params.fields.length > 0 ? { fields: params.fields.join(',') } : {}),
        ...(nextPageToken ? { nextPageToken } : {}),
      });
      out.push(...parseResult(leadSchema, env, endpoint));
      nextPageToken = env.moreResult && env.nextPageToken ? env.nextPageToken : undefined;
    } while (nextPageToken);
  }
  return out;
}

export async function syncLeads(
  call: MarketoCall,
  params: {
    action: 'createOnly' | 'updateOnly' | 'createOrUpdate';
    lookupField: string;
    input: Record<string, unknown>[];
  },
): Promise<SyncLeadResult[]> {
  const endpoint = opKey(LEAD_OPS.syncLeads);
  requireBatch(params.input.length, endpoint);
  if (params.input.length === 0) return [];
  const env = await call(LEAD_OPS.syncLeads, {}, params);
  const results = parseResult(syncLeadResultSchema, env, endpoint);
  requireSameLength(results.length, params.input.length, env, endpoint);
  return results;
}
