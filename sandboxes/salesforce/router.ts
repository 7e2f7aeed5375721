import {
  bulkClose,
  bulkCreateJob,
  bulkDelete,
  bulkResults,
  bulkStatus,
  bulkUpload,
} from './routes/bulk-ingest.js';
import { collectionsDelete, collectionsWrite } from './routes/collections.js';
import { limits, versions } from './routes/limits.js';
import { query, queryMore } from './routes/query.js';
import type { RequestKind } from './sandbox-faults.js';
import type { ApiHandler } from './sandbox-state.js';

/**
 * The Salesforce sandbox's router: a data-API request (`/services/data/vXX.X/…`) is classified
 * into a RequestKind (also what faults and the request log key on), and each kind has one handler.
 * A kind without a handler, or a handler that refuses the method, answers 404 NOT_FOUND.
 */

/** The kind of a data-API request from its method and the path after the version. */
export function classify(method: string, rest: string): RequestKind {
  if (rest === '/' || rest === '') return 'versions';
  if (rest === '/limits' || rest === '/limits/') return 'limits';
  if (rest === '/query' || rest === '/query/') return 'query';
  if (rest.startsWith('/query/')) return 'queryMore';
  if (rest.startsWith('/composite/sobjects')) {
    if (method === 'POST') return 'create';
    if (method === 'DELETE') return 'delete';
    if (method === 'PATCH') return rest.split('/').length > 3 ? 'upsert' : 'update';
  }
  if (rest.startsWith('/jobs/ingest')) {
    const parts = rest.split('/').filter(Boolean);
    if (parts.length === 2) return method === 'POST' ? 'bulkCreateJob' : 'bulkStatus';
    if (parts.length === 3)
      return method === 'PATCH' ? 'bulkClose' : method === 'DELETE' ? 'bulkDelete' : 'bulkStatus';
    if (parts[3] === 'batches') return 'bulkUpload';
    return 'bulkResults';
  }
  return 'unknown';
}

/** One handler per request kind (oauth is served on the login URL, see routes/oauth.ts). */
export const ROUTES: Partial<Record<RequestKind, ApiHandler>> = {
  versions,
  limits,
  query,
  queryMore,
  create: collectionsWrite,
  update: collectionsWrite,
  upsert: collectionsWrite,
  delete: collectionsDelete,
  bulkCreateJob,
  bulkUpload,
  bulkClose,
  bulkStatus,
  bulkDelete,
  bulkResults,
};
