import type { IncomingMessage, ServerResponse } from 'node:http';
import { FaultController, type FaultKind, type RequestKind, seededRandom } from './sandbox-faults.js';
import {
  type SandboxSeed,
  SandboxStore,
  type SaveResult,
  type SObjectName,
  type StoreOptions,
  type WriteContext,
} from './sandbox-store.js';

/**
 * The Salesforce sandbox's shared state (tokens, API usage, query cursors, Bulk jobs, the request
 * log) and the context every route handler receives.
 */

export interface SalesforceSandboxOptions extends StoreOptions {
  seed?: SandboxSeed;
  clientId?: string;
  clientSecret?: string;
  /** How long an access token lives (the org's session timeout). Default 2 h. */
  sessionLifetimeMs?: number;
  /** Daily API request allocation reported by /limits and Sforce-Limit-Info. Default 100,000. */
  dailyApiLimit?: number;
  /** Rows per query page before `nextRecordsUrl`. Default 2,000 (the service's page size). */
  queryPageSize?: number;
  /** Delay before a Bulk job moves from UploadComplete to InProgress and then JobComplete. */
  bulkProcessingDelayMs?: number;
  /** Seed for latency jitter, fault probabilities and Bulk result order. */
  randomSeed?: number;
  /** API versions accepted in `/services/data/vXX.X`. Default 31.0 to 66.0. */
  minApiVersion?: number;
  maxApiVersion?: number;
}

export interface RequestLogEntry {
  kind: RequestKind;
  method: string;
  path: string;
  status: number;
  apiVersion?: string;
  /** Records carried by a write / rows in a Bulk upload / rows returned by a query page. */
  records?: number;
  /** `client=` of `Sforce-Call-Options`. */
  client?: string;
  /** Raw `Sforce-Auto-Assign` header. */
  autoAssign?: string;
  /** The request was a fault's victim. */
  fault?: FaultKind;
}

export interface BulkJobView {
  id: string;
  object: SObjectName;
  operation: 'upsert' | 'insert';
  externalIdFieldName: string | undefined;
  state: 'Open' | 'UploadComplete' | 'InProgress' | 'JobComplete' | 'Failed' | 'Aborted';
  numberRecordsProcessed: number;
  numberRecordsFailed: number;
}

export interface BulkJob extends BulkJobView {
  createdDate: string;
  systemModstamp: string;
  lineEnding: 'LF' | 'CRLF';
  apiVersion: string;
  uploads: string[];
  header: string[];
  successful: string[][];
  failed: string[][];
  unprocessed: string[][];
  errorMessage?: string;
}

export interface SalesforceState {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly sessionLifetimeMs: number;
  readonly pageSize: number;
  readonly bulkDelay: number;
  readonly minVersion: number;
  readonly maxVersion: number;
  readonly random: () => number;
  readonly now: () => Date;
  readonly store: SandboxStore;
  readonly faults: FaultController;
  /** Access token → expiry (epoch ms). */
  readonly tokens: Map<string, number>;
  readonly usage: { used: number; limit: number };
  /** Query locators; they stay valid (a page can be fetched again after a lost response). */
  readonly cursors: Map<string, Record<string, unknown>[]>;
  readonly jobs: Map<string, BulkJob>;
  readonly timers: Set<NodeJS.Timeout>;
  readonly log: RequestLogEntry[];
  readonly orgId: string;
  readonly userId: string;
  /** Set once both servers listen. */
  loginUrl: string;
  instanceUrl: string;
}

export function createSalesforceState(options: SalesforceSandboxOptions): SalesforceState {
  const random = seededRandom(options.randomSeed ?? 42);
  const store = new SandboxStore(options.seed, options);
  const tokens = new Map<string, number>();
  const faults = new FaultController(random);
  faults.expireSessions = () => tokens.clear();
  return {
    clientId: options.clientId ?? 'sandbox-client-id',
    clientSecret: options.clientSecret ?? 'sandbox-client-secret',
    sessionLifetimeMs: options.sessionLifetimeMs ?? 2 * 60 * 60 * 1000,
    pageSize: options.queryPageSize ?? 2000,
    bulkDelay: options.bulkProcessingDelayMs ?? 30,
    minVersion: options.minApiVersion ?? 31,
    maxVersion: options.maxApiVersion ?? 66,
    random,
    now: options.now ?? (() => new Date()),
    store,
    faults,
    tokens,
    usage: { used: 0, limit: options.dailyApiLimit ?? 100_000 },
    cursors: new Map(),
    jobs: new Map(),
    timers: new Set(),
    log: [],
    orgId: `00D${'0'.repeat(9)}SBX`,
    userId: [...store.users.keys()][0] ?? '005000000000000AAA',
    loginUrl: '',
    instanceUrl: '',
  };
}

/** What a data-API route handler gets. */
export interface ApiContext {
  readonly state: SalesforceState;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly method: string;
  /** API version of the path, e.g. `62.0`. */
  readonly version: string;
  /** The path after `/services/data/vXX.X`. */
  readonly rest: string;
  readonly body: string;
  readonly entry: RequestLogEntry;
  /** Who writes (for the store's write log). */
  readonly writeContext: WriteContext;
  /** Sends the response (JSON, or `contentType` text), with `Sforce-Limit-Info`. */
  reply(status: number, payload: unknown, contentType?: string): void;
}

export type ApiHandler = (ctx: ApiContext) => void | Promise<void>;

/** A per-record UNABLE_TO_LOCK_ROW failure when that fault fires for `kind`. */
export function lockFault(state: SalesforceState, kind: RequestKind): SaveResult | undefined {
  if (!state.faults.take('UNABLE_TO_LOCK_ROW', kind)) return undefined;
  return {
    success: false,
    errors: [
      {
        statusCode: 'UNABLE_TO_LOCK_ROW',
        message: 'unable to obtain exclusive access to this record or 1 records',
        fields: [],
      },
    ],
  };
}
