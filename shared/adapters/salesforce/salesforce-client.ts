/**
 * SalesforceApi on jsforce (`@jsforce/jsforce-node`), a façade over layers: jsforce supplies the
 * connection, the HTTP transport and the parsing of error bodies; auth (salesforce-auth.ts:
 * client-credentials token, re-auth), transport (salesforce-transport.ts: one attempt, failures
 * classified), the call layer (salesforce-call.ts: counts, typed errors) consulting the retry
 * table (salesforce-retry-policy.ts: idempotent calls only), and the endpoint modules:
 * sObject Collections (collections.ts), query and limits (query.ts), Bulk API 2.0 (bulk-ingest-job.ts).
 *
 * Adding an endpoint (e.g. Campaign members, Events): write a module whose functions take
 * `SalesforceEndpoints` (`call(kind, request, idempotent)` + `dataPath(rest)`), parse the answer
 * with zod, and add a one-line method here (and to the SalesforceApi port if use cases need it).
 */
import type { SoqlQuery } from '../../domain/soql.js';
import type {
  SalesforceApi,
  SalesforceCallCounts,
  SalesforceLimitInfo,
  SalesforceSaveResult,
} from '../../ports/salesforce-api.js';
import { SalesforceApiError } from '../../ports/salesforce-errors.js';
import { SALESFORCE_API_VERSION, SALESFORCE_MAX_COLLECTION_SIZE } from '../../ports/vendor-limits.js';
import { BulkIngestJobs, type BulkUpsertOptions } from './bulk-ingest-job.js';
import { SalesforceCollections, type SalesforceEndpoints } from './collections.js';
import { queryAll, readLimits } from './query.js';
import { SalesforceAuth } from './salesforce-auth.js';
import { SalesforceCounter, salesforceCaller } from './salesforce-call.js';
import { DEFAULT_SALESFORCE_RETRY_POLICY } from './salesforce-retry-policy.js';

export { type BulkUpsertOptions, parseBulkError } from './bulk-ingest-job.js';

export const DEFAULT_API_VERSION = SALESFORCE_API_VERSION;
export const DEFAULT_CLIENT_NAME = 'marketo-salesforce-sync';
/** sObject Collections take at most 200 records per call (kept for callers; see vendor-limits.ts). */
export const MAX_COLLECTION_SIZE = SALESFORCE_MAX_COLLECTION_SIZE;

export interface SalesforceClientOptions {
  /** The org's My Domain URL (`SALESFORCE_LOGIN_URL`); the token's `instance_url` is used afterwards. */
  loginUrl: string;
  clientId: string;
  clientSecret: string;
  /** REST API version, e.g. SALESFORCE_API_VERSION. Never jsforce's default 50.0. */
  apiVersion?: string;
  /** Sent as `Sforce-Call-Options: client=<name>` so our writes can be recognised later. */
  clientName?: string;
  /** Per-request timeout. Default 120 s. */
  requestTimeoutMs?: number;
  /** Retries for idempotent calls on 5xx, timeouts and broken connections. */
  retry?: { maxRetries?: number; baseDelayMs?: number; maxDelayMs?: number };
  /** Records per collection call (1..200). Default 200. */
  collectionSize?: number;
  /**
   * Bulk job polling: the first poll comes `pollIntervalMs` after the upload, each wait doubles up
   * to `maxPollIntervalMs` (a long job costs a handful of polls, not one every 2 s), and after
   * `pollTimeoutMs` the caller gets SalesforceBulkJobError (BULK_JOB_TIMEOUT) to resume later.
   */
  bulk?: { pollIntervalMs?: number; maxPollIntervalMs?: number; pollTimeoutMs?: number };
  /** For tests: jitter source, sleep and clock. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  clock?: () => number;
}

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class SalesforceClient implements SalesforceApi {
  readonly apiVersion: string;
  private readonly auth: SalesforceAuth;
  private readonly counter = new SalesforceCounter();
  private readonly endpoints: SalesforceEndpoints;
  private readonly collections: SalesforceCollections;
  private readonly bulk: BulkIngestJobs;

  constructor(options: SalesforceClientOptions) {
    if (!/^\d{2,3}\.\d$/.test(options.apiVersion ?? DEFAULT_API_VERSION)) {
      throw new SalesforceApiError(
        `apiVersion must look like '${SALESFORCE_API_VERSION}', got ${options.apiVersion}`,
        { errorCode: 'INVALID_CONFIG' },
      );
    }
    const apiVersion = options.apiVersion ?? DEFAULT_API_VERSION;
    this.apiVersion = apiVersion;
    const sleep = options.sleep ?? realSleep;
    this.auth = new SalesforceAuth(
      {
        loginUrl: options.loginUrl,
        clientId: options.clientId,
        clientSecret: options.clientSecret,
        apiVersion,
        clientName: options.clientName ?? DEFAULT_CLIENT_NAME,
      },
      this.counter,
    );
    this.endpoints = {
      call: salesforceCaller({
        auth: this.auth,
        counter: this.counter,
        policy: { ...DEFAULT_SALESFORCE_RETRY_POLICY, ...definedOnly(options.retry ?? {}) },
        timeoutMs: options.requestTimeoutMs ?? 120_000,
        random: options.random ?? Math.random,
        sleep,
      }),
      dataPath: (rest) => `/services/data/v${apiVersion}${rest}`,
    };
    const size = Math.min(MAX_COLLECTION_SIZE, Math.max(1, options.collectionSize ?? MAX_COLLECTION_SIZE));
    this.collections = new SalesforceCollections(this.endpoints, size);
    const pollIntervalMs = options.bulk?.pollIntervalMs ?? 2_000;
    this.bulk = new BulkIngestJobs(this.endpoints, {
      pollIntervalMs,
      maxPollIntervalMs: Math.max(pollIntervalMs, options.bulk?.maxPollIntervalMs ?? 60_000),
      pollTimeoutMs: options.bulk?.pollTimeoutMs ?? 10 * 60_000,
      clock: options.clock ?? Date.now,
      sleep,
    });
  }

  /** The instance URL from the last token response (undefined before the first call). */
  get instanceUrl(): string | undefined {
    return this.auth.instanceUrl;
  }

  limitInfo(): SalesforceLimitInfo | undefined {
    return this.counter.limitInfo();
  }

  callCounts(): SalesforceCallCounts {
    return this.counter.callCounts();
  }

  /** Get a token now (otherwise the first call does). Throws SalesforceAuthError when refused. */
  async connect(): Promise<void> {
    await this.auth.connection();
  }

  upsert(
    sobject: string,
    externalIdField: string,
    records: Record<string, unknown>[],
  ): Promise<SalesforceSaveResult[]> {
    return this.collections.upsert(sobject, externalIdField, records);
  }

  /** Not retried on 5xx or a broken connection: a retry could create twice (SalesforceUnknownOutcomeError). */
  create(sobject: string, records: Record<string, unknown>[]): Promise<SalesforceSaveResult[]> {
    return this.collections.create(sobject, records);
  }

  update(sobject: string, records: Record<string, unknown>[]): Promise<SalesforceSaveResult[]> {
    return this.collections.update(sobject, records);
  }

  destroy(_sobject: string, ids: string[]): Promise<SalesforceSaveResult[]> {
    return this.collections.destroy(ids);
  }

  query<T extends Record<string, unknown>>(soql: SoqlQuery): Promise<T[]> {
    return queryAll<T>(this.endpoints, soql);
  }

  /** GET /limits: the org's daily API allocation right now (also refreshes limitInfo()). */
  limits(): Promise<SalesforceLimitInfo> {
    return readLimits(this.endpoints);
  }

  /** Bulk API 2.0 upsert, resumable by job id (bulk-ingest-job.ts). */
  bulkUpsert(
    sobject: string,
    externalIdField: string,
    records: Record<string, unknown>[],
    options: BulkUpsertOptions = {},
  ): Promise<SalesforceSaveResult[]> {
    return this.bulk.upsert(sobject, externalIdField, records, options);
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
