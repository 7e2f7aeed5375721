/**
 * SalesforceApi on jsforce (`@jsforce/jsforce-node`): jsforce supplies the connection, the HTTP
 * transport and the parsing of error bodies; this file owns the policy jsforce leaves open or
 * gets wrong for us — explicit API version, client-credentials re-auth, one retry policy for
 * idempotent calls only, sObject Collections chunking, full query paging, Bulk API 2.0 with a
 * resumable job, and API usage tracking.
 */
import { Connection, OAuth2 } from '@jsforce/jsforce-node';
import { HttpApi } from '@jsforce/jsforce-node/lib/http-api.js';
import { z } from 'zod';
import type { SalesforceRecordError } from '../../domain/salesforce-records.js';
import { type SoqlQuery, soqlIdentifier } from '../../domain/soql.js';
import type {
  SalesforceApi,
  SalesforceCallCounts,
  SalesforceLimitInfo,
  SalesforceSaveResult,
} from '../../ports/salesforce-api.js';
import {
  SalesforceApiError,
  SalesforceApiLimitError,
  SalesforceAuthError,
  SalesforceBulkJobError,
  SalesforceUnknownOutcomeError,
} from '../../ports/salesforce-errors.js';
import { parseCsvRecords, toCsv } from './csv.js';

export const DEFAULT_API_VERSION = '62.0';
export const DEFAULT_CLIENT_NAME = 'marketo-salesforce-sync';
/** sObject Collections take at most 200 records per call. */
export const MAX_COLLECTION_SIZE = 200;
/** URI + headers must stay under 16 KB; keep the query string well below it. */
const MAX_QUERY_URL_LENGTH = 15_000;
/** Bulk API 2.0 takes ≤ 150 MB base64 per upload, about 100 MB of raw CSV. */
const MAX_BULK_UPLOAD_BYTES = 100_000_000;

export interface SalesforceClientOptions {
  /** The org's My Domain URL (`SALESFORCE_LOGIN_URL`); the token's `instance_url` is used afterwards. */
  loginUrl: string;
  clientId: string;
  clientSecret: string;
  /** REST API version, e.g. '62.0'. Never jsforce's default 50.0. */
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
  /** For tests: jitter source and sleep. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface BulkUpsertOptions {
  /** Called once the job exists and before data is uploaded: persist the id to resume after a crash. */
  onJobCreated?: (jobId: string) => Promise<void>;
  /** A job started earlier for these same records: wait for it and read its results instead. */
  resumeJobId?: string;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

interface ApiRequest {
  method: Method;
  /** Path from the instance root, `/services/data/...`. */
  path: string;
  body?: string;
  contentType?: string;
  write?: boolean;
  text?: boolean;
}

const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  instance_url: z.url(),
  token_type: z.string().optional(),
  issued_at: z.string().optional(),
  id: z.string().optional(),
});

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
const queryPageSchema = z.object({
  totalSize: z.number(),
  done: z.boolean(),
  records: z.array(z.record(z.string(), z.unknown())),
  nextRecordsUrl: z.string().optional(),
});
const jobInfoSchema = z.object({
  id: z.string(),
  state: z.enum(['Open', 'UploadComplete', 'InProgress', 'JobComplete', 'Failed', 'Aborted']),
  object: z.string().optional(),
  operation: z.string().optional(),
  externalIdFieldName: z.string().optional(),
  numberRecordsProcessed: z.number().optional(),
  numberRecordsFailed: z.number().optional(),
  errorMessage: z.string().optional(),
});
type JobInfo = z.infer<typeof jobInfoSchema>;
const limitsSchema = z.object({ DailyApiRequests: z.object({ Max: z.number(), Remaining: z.number() }) });

/** What went wrong with one HTTP attempt, before policy is applied. */
type AttemptFailure =
  | { type: 'session'; errorCode: string; message: string; status?: number; cause: unknown }
  | { type: 'limit'; errorCode: string; message: string; status?: number; cause: unknown }
  | { type: 'transient'; errorCode: string; message: string; status?: number; cause: unknown }
  | { type: 'connection'; errorCode: string; message: string; cause: unknown }
  | { type: 'fatal'; errorCode: string; message: string; status?: number; cause: unknown };

const TRANSIENT_STATUS = new Set([500, 502, 503, 504]);

function errorCodeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { errorCode?: unknown; data?: unknown };
  if (e.errorCode === 'MULTIPLE_API_ERRORS' && Array.isArray(e.data)) {
    const first = e.data[0] as { errorCode?: unknown } | undefined;
    if (typeof first?.errorCode === 'string') return first.errorCode;
  }
  return typeof e.errorCode === 'string' ? e.errorCode : undefined;
}

function classify(error: unknown, status: number | undefined): AttemptFailure {
  const message = error instanceof Error ? error.message : String(error);
  const code = errorCodeOf(error);
  if (status === undefined) {
    const name = error instanceof Error ? error.name : '';
    return {
      type: 'connection',
      errorCode: name === 'AbortError' ? 'TIMEOUT' : 'CONNECTION_ERROR',
      message,
      cause: error,
    };
  }
  const errorCode = code ?? `HTTP_${status}`;
  if (status === 401 || errorCode === 'INVALID_SESSION_ID')
    return { type: 'session', errorCode, message, status, cause: error };
  if (errorCode === 'REQUEST_LIMIT_EXCEEDED')
    return { type: 'limit', errorCode, message, status, cause: error };
  if (TRANSIENT_STATUS.has(status)) return { type: 'transient', errorCode, message, status, cause: error };
  return { type: 'fatal', errorCode, message, status, cause: error };
}

function isAttemptFailure(v: unknown): v is AttemptFailure {
  return typeof v === 'object' && v !== null && 'type' in v && 'errorCode' in v && !(v instanceof Error);
}

function csvCell(value: unknown, field: string): string {
  if (value === null) return '#N/A';
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString();
  throw new SalesforceApiError(
    `Field ${field} holds a ${typeof value}; Bulk API CSV takes strings, numbers, booleans, dates`,
    {
      errorCode: 'INVALID_RECORD',
    },
  );
}

/** `REQUIRED_FIELD_MISSING:Required fields are missing: [Status]:Status --` → a record error. */
export function parseBulkError(text: string): SalesforceRecordError {
  const trimmed = text.replace(/\s*--\s*$/, '');
  const first = trimmed.indexOf(':');
  const statusCode = first > 0 ? trimmed.slice(0, first) : 'UNKNOWN_EXCEPTION';
  let message = first > 0 ? trimmed.slice(first + 1) : trimmed;
  let fields: string[] = [];
  const last = message.lastIndexOf(':');
  if (last >= 0 && /^[A-Za-z0-9_,]*$/.test(message.slice(last + 1))) {
    fields = message
      .slice(last + 1)
      .split(',')
      .filter(Boolean);
    message = message.slice(0, last);
  }
  return { statusCode, message, fields };
}

export class SalesforceClient implements SalesforceApi {
  readonly apiVersion: string;
  private readonly options: SalesforceClientOptions;
  private readonly clientName: string;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly collectionSize: number;
  private readonly pollIntervalMs: number;
  private readonly maxPollIntervalMs: number;
  private readonly pollTimeoutMs: number;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private conn: Connection | undefined;
  private authInFlight: Promise<Connection> | undefined;
  private lastLimit: SalesforceLimitInfo | undefined;
  private readonly counts: SalesforceCallCounts = { total: 0, byKind: {}, errors: {} };

  constructor(options: SalesforceClientOptions) {
    if (!/^\d{2,3}\.\d$/.test(options.apiVersion ?? DEFAULT_API_VERSION)) {
      throw new SalesforceApiError(`apiVersion must look like '62.0', got ${options.apiVersion}`, {
        errorCode: 'INVALID_CONFIG',
      });
    }
    this.options = options;
    this.apiVersion = options.apiVersion ?? DEFAULT_API_VERSION;
    this.clientName = options.clientName ?? DEFAULT_CLIENT_NAME;
    this.timeoutMs = options.requestTimeoutMs ?? 120_000;
    this.maxRetries = options.retry?.maxRetries ?? 4;
    this.baseDelayMs = options.retry?.baseDelayMs ?? 500;
    this.maxDelayMs = options.retry?.maxDelayMs ?? 10_000;
    this.collectionSize = Math.min(
      MAX_COLLECTION_SIZE,
      Math.max(1, options.collectionSize ?? MAX_COLLECTION_SIZE),
    );
    this.pollIntervalMs = options.bulk?.pollIntervalMs ?? 2_000;
    this.maxPollIntervalMs = Math.max(this.pollIntervalMs, options.bulk?.maxPollIntervalMs ?? 60_000);
    this.pollTimeoutMs = options.bulk?.pollTimeoutMs ?? 10 * 60_000;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** The instance URL from the last token response (undefined before the first call). */
  get instanceUrl(): string | undefined {
    return this.conn?.instanceUrl;
  }

  limitInfo(): SalesforceLimitInfo | undefined {
    return this.lastLimit ? { ...this.lastLimit } : undefined;
  }

  callCounts(): SalesforceCallCounts {
    return { total: this.counts.total, byKind: { ...this.counts.byKind }, errors: { ...this.counts.errors } };
  }

  // ---------------------------------------------------------------- auth

  /** Get a token now (otherwise the first call does). Throws SalesforceAuthError when refused. */
  async connect(): Promise<void> {
    await this.connection();
  }

  private async connection(): Promise<Connection> {
    return this.conn ?? this.authenticate(undefined);
  }

  /** One token request at a time; a caller holding a stale token gets the newer one without asking again. */
  private authenticate(staleToken: string | undefined): Promise<Connection> {
    if (this.conn && this.conn.accessToken !== staleToken) return Promise.resolve(this.conn);
    this.authInFlight ??= this.requestToken().finally(() => {
      this.authInFlight = undefined;
    });
    return this.authInFlight;
  }

  private async requestToken(): Promise<Connection> {
    this.bump('auth');
    const oauth2 = new OAuth2({
      loginUrl: this.options.loginUrl.replace(/\/+$/, ''),
      clientId: this.options.clientId,
      clientSecret: this.options.clientSecret,
    });
    let raw: unknown;
    try {
      raw = await oauth2.requestToken({ grant_type: 'client_credentials' });
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      this.countError(name);
      if (/^(invalid_|unsupported_|inactive_|unauthorized_)/.test(name)) {
        throw new SalesforceAuthError(
          `Salesforce refused the client-credentials token request (${name}): check SALESFORCE_CLIENT_ID / SALESFORCE_CLIENT_SECRET, that the app enables the client credentials flow with a Run As user, and that SALESFORCE_LOGIN_URL is the org's My Domain URL`,
          { errorCode: name, cause: error },
        );
      }
      throw new SalesforceApiError(
        `Could not reach the Salesforce token endpoint: ${(error as Error).message}`,
        {
          errorCode: 'CONNECTION_ERROR',
          retryable: true,
          cause: error,
        },
      );
    }
    const parsed = tokenResponseSchema.safeParse(raw);
    if (!parsed.success) {
      throw new SalesforceAuthError(
        'The token response lacks access_token / instance_url: is SALESFORCE_LOGIN_URL a Salesforce org?',
        {
          errorCode: 'INVALID_TOKEN_RESPONSE',
          cause: parsed.error,
        },
      );
    }
    this.conn = new Connection({
      instanceUrl: parsed.data.instance_url.replace(/\/+$/, ''),
      accessToken: parsed.data.access_token,
      version: this.apiVersion,
      callOptions: { client: this.clientName },
    });
    return this.conn;
  }

  // ---------------------------------------------------------------- transport + policy

  private bump(kind: string): void {
    this.counts.byKind[kind] = (this.counts.byKind[kind] ?? 0) + 1;
    if (kind !== 'auth') this.counts.total++;
  }

  private countError(code: string): void {
    this.counts.errors[code] = (this.counts.errors[code] ?? 0) + 1;
  }

  private captureLimit(headers: Record<string, string> | undefined): void {
    const m = /api-usage=(\d+)\/(\d+)/.exec(headers?.['sforce-limit-info'] ?? '');
    if (m) this.lastLimit = { used: Number(m[1]), limit: Number(m[2]) };
  }

  private dataPath(rest: string): string {
    return `/services/data/v${this.apiVersion}${rest}`;
  }

  /** One HTTP attempt through jsforce, with jsforce's own retries off (we decide). */
  private async attempt<T>(conn: Connection, req: ApiRequest): Promise<T> {
    const api = new HttpApi(conn, {
      retry: { maxRetries: 0, methods: [] },
      timeout: this.timeoutMs,
      ...(req.text ? { responseType: 'text/plain' } : {}),
    });
    let status: number | undefined;
    api.on('response', (response: { statusCode: number; headers: Record<string, string> }) => {
      status = response.statusCode;
      this.captureLimit(response.headers);
    });
    const headers: Record<string, string> = {};
    if (req.contentType) headers['content-type'] = req.contentType;
    if (req.write) headers['Sforce-Auto-Assign'] = 'FALSE';
    try {
      return await api.request<T>({
        method: req.method,
        url: `${conn.instanceUrl}${req.path}`,
        headers,
        ...(req.body !== undefined ? { body: req.body } : {}),
      });
    } catch (error) {
      throw classify(error, status);
    }
  }

  private backoff(retry: number): number {
    const cap = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (retry - 1));
    return Math.round(cap / 2 + (this.random() * cap) / 2);
  }

  /**
   * Run one API call under the policy: INVALID_SESSION_ID → new token, retry once;
   * REQUEST_LIMIT_EXCEEDED → SalesforceApiLimitError; 5xx / timeout / broken connection →
   * bounded backoff with jitter, but only when `idempotent`.
   */
  private async call<T>(kind: string, req: ApiRequest, idempotent: boolean): Promise<T> {
    let reauthenticated = false;
    let retries = 0;
    for (;;) {
      const conn = await this.connection();
      const token = conn.accessToken ?? undefined;
      this.bump(kind);
      try {
        return await this.attempt<T>(conn, req);
      } catch (caught) {
        if (!isAttemptFailure(caught)) throw caught;
        const failure = caught;
        this.countError(failure.errorCode);
        const status = 'status' in failure ? failure.status : undefined;
        const details = {
          errorCode: failure.errorCode,
          cause: failure.cause,
          ...(status !== undefined ? { status } : {}),
        };
        switch (failure.type) {
          case 'session':
            if (!reauthenticated) {
              reauthenticated = true;
              await this.authenticate(token);
              continue;
            }
            throw new SalesforceAuthError(
              `Salesforce rejected a freshly issued token (${failure.errorCode}) on ${kind}: check the Run As user's API access and session policies`,
              details,
            );
          case 'limit':
            throw new SalesforceApiLimitError(
              `Salesforce daily API request limit reached on ${kind}: stop Salesforce calls until usage falls (check GET /limits)`,
              { ...details, ...(this.lastLimit ?? {}) },
            );
          case 'transient':
          case 'connection':
            if (idempotent && retries < this.maxRetries) {
              retries++;
              await this.sleep(this.backoff(retries));
              continue;
            }
            if (!idempotent) {
              throw new SalesforceUnknownOutcomeError(
                `${kind} failed with ${failure.errorCode} before a response was read; it may or may not have been applied — check before writing again`,
                { ...details, retryable: false },
              );
            }
            throw new SalesforceApiError(
              `${kind} still failing after ${retries} retries: ${failure.errorCode} ${failure.message}`,
              {
                ...details,
                retryable: true,
              },
            );
          case 'fatal':
            throw new SalesforceApiError(`${kind} failed: ${failure.errorCode}: ${failure.message}`, details);
        }
      }
    }
  }

  // ---------------------------------------------------------------- sObject Collections

  private chunks<T>(items: readonly T[]): T[][] {
    const out: T[][] = [];
    for (let i = 0; i < items.length; i += this.collectionSize)
      out.push(items.slice(i, i + this.collectionSize));
    return out;
  }

  private toSaveResults(raw: unknown, expected: number, kind: string): SalesforceSaveResult[] {
    const parsed = saveResultsSchema.safeParse(raw);
    if (!parsed.success || parsed.data.length !== expected) {
      throw new SalesforceApiError(
        `${kind} returned ${parsed.success ? parsed.data.length : 'unparseable'} results for ${expected} records`,
        {
          errorCode: 'UNEXPECTED_RESPONSE',
          ...(parsed.success ? {} : { cause: parsed.error }),
        },
      );
    }
    return parsed.data.map((r) => ({
      id: r.id ?? null,
      success: r.success,
      ...(r.created !== undefined ? { created: r.created } : {}),
      errors: r.errors.map((e) => ({ statusCode: e.statusCode, message: e.message, fields: e.fields ?? [] })),
    }));
  }

  private async collectionWrite(
    kind: 'upsert' | 'create' | 'update',
    sobject: string,
    records: Record<string, unknown>[],
    path: string,
    method: 'POST' | 'PATCH',
    idempotent: boolean,
  ): Promise<SalesforceSaveResult[]> {
    const type = soqlIdentifier(sobject).text;
    const results: SalesforceSaveResult[] = [];
    for (const chunk of this.chunks(records)) {
      const body = JSON.stringify({
        allOrNone: false,
        records: chunk.map(({ attributes: _ignored, ...record }) => ({ attributes: { type }, ...record })),
      });
      const raw = await this.call<unknown>(
        kind,
        { method, path, body, contentType: 'application/json', write: true },
        idempotent,
      );
      results.push(...this.toSaveResults(raw, chunk.length, kind));
    }
    return results;
  }

  async upsert(
    sobject: string,
    externalIdField: string,
    records: Record<string, unknown>[],
  ): Promise<SalesforceSaveResult[]> {
    const path = this.dataPath(
      `/composite/sobjects/${soqlIdentifier(sobject).text}/${soqlIdentifier(externalIdField).text}`,
    );
    return this.collectionWrite('upsert', sobject, records, path, 'PATCH', true);
  }

  /** Not retried on 5xx or a broken connection: a retry could create twice (SalesforceUnknownOutcomeError). */
  async create(sobject: string, records: Record<string, unknown>[]): Promise<SalesforceSaveResult[]> {
    return this.collectionWrite(
      'create',
      sobject,
      records,
      this.dataPath('/composite/sobjects'),
      'POST',
      false,
    );
  }

  async update(sobject: string, records: Record<string, unknown>[]): Promise<SalesforceSaveResult[]> {
    records.forEach((r, i) => {
      if (typeof r.Id !== 'string' && typeof r.id !== 'string') {
        throw new SalesforceApiError(`update: record ${i} has no Id`, { errorCode: 'MISSING_ARGUMENT' });
      }
    });
    return this.collectionWrite(
      'update',
      sobject,
      records,
      this.dataPath('/composite/sobjects'),
      'PATCH',
      true,
    );
  }

  async destroy(_sobject: string, ids: string[]): Promise<SalesforceSaveResult[]> {
    const results: SalesforceSaveResult[] = [];
    for (const chunk of this.chunks(ids)) {
      for (const id of chunk) {
        if (!/^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$/.test(id)) {
          throw new SalesforceApiError(`destroy: ${JSON.stringify(id)} is not a Salesforce id`, {
            errorCode: 'MALFORMED_ID',
          });
        }
      }
      const path = this.dataPath(`/composite/sobjects?ids=${chunk.join(',')}&allOrNone=false`);
      const raw = await this.call<unknown>('destroy', { method: 'DELETE', path, write: true }, true);
      results.push(...this.toSaveResults(raw, chunk.length, 'destroy'));
    }
    return results;
  }

  // ---------------------------------------------------------------- query

  async query<T extends Record<string, unknown>>(soql: SoqlQuery): Promise<T[]> {
    const first = this.dataPath(`/query?q=${encodeURIComponent(soql)}`);
    if (first.length > MAX_QUERY_URL_LENGTH) {
      throw new SalesforceApiError(
        `SOQL too long for a GET (${first.length} chars): split the IN list into several queries`,
        {
          errorCode: 'QUERY_TOO_LONG',
        },
      );
    }
    const out: T[] = [];
    let path: string | undefined = first;
    let kind = 'query';
    while (path) {
      const raw: unknown = await this.call<unknown>(kind, { method: 'GET', path }, true);
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

  /** GET /limits: the org's daily API allocation right now (also refreshes limitInfo()). */
  async limits(): Promise<SalesforceLimitInfo> {
    const raw = await this.call<unknown>('limits', { method: 'GET', path: this.dataPath('/limits') }, true);
    const parsed = limitsSchema.safeParse(raw);
    if (!parsed.success)
      throw new SalesforceApiError('limits returned an unexpected shape', {
        errorCode: 'UNEXPECTED_RESPONSE',
      });
    const { Max, Remaining } = parsed.data.DailyApiRequests;
    return { used: Max - Remaining, limit: Max };
  }

  // ---------------------------------------------------------------- Bulk API 2.0

  private async jobInfo(jobId: string): Promise<JobInfo> {
    const raw = await this.call<unknown>(
      'bulkPoll',
      { method: 'GET', path: this.dataPath(`/jobs/ingest/${jobId}`) },
      true,
    );
    const parsed = jobInfoSchema.safeParse(raw);
    if (!parsed.success)
      throw new SalesforceApiError('Bulk job info has an unexpected shape', {
        errorCode: 'UNEXPECTED_RESPONSE',
        cause: parsed.error,
      });
    return parsed.data;
  }

  private async startJob(
    sobject: string,
    externalIdField: string,
    csv: string,
    options: BulkUpsertOptions,
  ): Promise<string> {
    const raw = await this.call<unknown>(
      'bulkCreateJob',
      {
        method: 'POST',
        path: this.dataPath('/jobs/ingest'),
        body: JSON.stringify({
          object: sobject,
          operation: 'upsert',
          externalIdFieldName: externalIdField,
          contentType: 'CSV',
          lineEnding: 'LF',
        }),
        contentType: 'application/json',
      },
      false,
    );
    const job = jobInfoSchema.parse(raw);
    await options.onJobCreated?.(job.id);
    await this.call<unknown>(
      'bulkUpload',
      {
        method: 'PUT',
        path: this.dataPath(`/jobs/ingest/${job.id}/batches`),
        body: csv,
        contentType: 'text/csv',
        text: true,
      },
      true,
    );
    try {
      await this.call<unknown>(
        'bulkClose',
        {
          method: 'PATCH',
          path: this.dataPath(`/jobs/ingest/${job.id}`),
          body: JSON.stringify({ state: 'UploadComplete' }),
          contentType: 'application/json',
        },
        true,
      );
    } catch (error) {
      // A retried close after a lost response finds the job already closed: that is success.
      if (!(error instanceof SalesforceApiError && error.errorCode === 'INVALIDJOBSTATE')) throw error;
      if ((await this.jobInfo(job.id)).state === 'Open') throw error;
    }
    return job.id;
  }

  /**
   * Polls until the job ends (JobComplete, Failed or Aborted) with a doubling interval. A fresh
   * job is first polled after one interval (it is never done at once); a resumed one at once.
   */
  private async waitForJob(jobId: string, fresh: boolean): Promise<JobInfo> {
    const deadline = Date.now() + this.pollTimeoutMs;
    let interval = this.pollIntervalMs;
    if (fresh && Date.now() + interval <= deadline) await this.sleep(interval);
    for (;;) {
      const info = await this.jobInfo(jobId);
      if (info.state === 'JobComplete' || info.state === 'Failed' || info.state === 'Aborted') return info;
      interval = Math.min(this.maxPollIntervalMs, interval * 2);
      if (Date.now() + interval > deadline) {
        throw new SalesforceBulkJobError(
          `Bulk job ${jobId} still ${info.state} after ${this.pollTimeoutMs} ms: call bulkUpsert again with resumeJobId to keep waiting`,
          { errorCode: 'BULK_JOB_TIMEOUT', jobId, state: info.state, retryable: true },
        );
      }
      await this.sleep(interval);
    }
  }

  /**
   * Upsert through Bulk API 2.0 and map every result row back to its input record by the
   * external id value (result rows come back in any order). Records without a result row
   * (unprocessed, or missing) come back as failures, never as silent successes. A job that ends
   * Failed or Aborted as a whole is not thrown: its processed rows keep their results and every
   * other row fails with BULK_JOB_FAILED (the job's message), so the caller retries exactly those.
   * Result files are only read when they can hold rows (no failedResults call when the job
   * counted no failure; unprocessedrecords only for a job that did not complete).
   */
  async bulkUpsert(
    sobject: string,
    externalIdField: string,
    records: Record<string, unknown>[],
    options: BulkUpsertOptions = {},
  ): Promise<SalesforceSaveResult[]> {
    soqlIdentifier(sobject);
    soqlIdentifier(externalIdField);
    if (records.length === 0) return [];
    const columns: string[] = [];
    const seen = new Set<string>();
    for (const record of records) {
      for (const key of Object.keys(record)) {
        if (key === 'attributes' || seen.has(key)) continue;
        soqlIdentifier(key);
        seen.add(key);
        columns.push(key);
      }
    }
    if (!seen.has(externalIdField)) columns.push(externalIdField);
    const rows = records.map((r) => columns.map((c) => csvCell(r[c], c)));
    const csv = toCsv([columns, ...rows]);
    if (Buffer.byteLength(csv) > MAX_BULK_UPLOAD_BYTES) {
      throw new SalesforceApiError('Bulk upload over 100 MB of CSV: split the records into several jobs', {
        errorCode: 'UPLOAD_TOO_LARGE',
      });
    }

    let jobId: string | undefined;
    if (options.resumeJobId) {
      const info = await this.jobInfo(options.resumeJobId);
      if (info.state === 'Open') {
        // Upload not known to be complete: abandon it and start over (upsert is idempotent).
        await this.call<unknown>(
          'bulkAbort',
          {
            method: 'PATCH',
            path: this.dataPath(`/jobs/ingest/${info.id}`),
            body: JSON.stringify({ state: 'Aborted' }),
            contentType: 'application/json',
          },
          true,
        );
      } else {
        // Uploaded: wait for it (or read what it did, if it already ended, even Failed).
        jobId = info.id;
      }
    }
    const fresh = jobId === undefined;
    jobId ??= await this.startJob(sobject, externalIdField, csv, options);
    const info = await this.waitForJob(jobId, fresh);
    const ended = info.state !== 'JobComplete';

    const fetchCsv = async (which: string) => {
      try {
        return parseCsvRecords(
          await this.call<string>(
            'bulkResults',
            { method: 'GET', path: this.dataPath(`/jobs/ingest/${jobId}/${which}/`), text: true },
            true,
          ),
        );
      } catch (error) {
        // A job that failed as a whole may have no result files: its rows fail below instead.
        if (ended && error instanceof SalesforceApiError && !(error instanceof SalesforceApiLimitError))
          return [];
        throw error;
      }
    };
    const processed = info.numberRecordsProcessed;
    const failedCount = info.numberRecordsFailed;
    const successful =
      processed !== undefined && failedCount !== undefined && processed - failedCount <= 0
        ? []
        : await fetchCsv('successfulResults');
    const failed = failedCount === 0 ? [] : await fetchCsv('failedResults');
    const unprocessed = ended ? await fetchCsv('unprocessedrecords') : [];

    const keyColumn = columns.indexOf(externalIdField);
    const pending = new Map<string, number[]>();
    rows.forEach((row, i) => {
      const key = row[keyColumn] ?? '';
      const list = pending.get(key);
      if (list) list.push(i);
      else pending.set(key, [i]);
    });
    const results: (SalesforceSaveResult | undefined)[] = new Array(records.length).fill(undefined);
    const assign = (row: Record<string, string>, result: SalesforceSaveResult) => {
      const index = pending.get(row[externalIdField] ?? '')?.shift();
      if (index !== undefined) results[index] = result;
    };
    for (const row of successful)
      assign(row, { id: row.sf__Id || null, success: true, created: row.sf__Created === 'true', errors: [] });
    for (const row of failed)
      assign(row, { id: row.sf__Id || null, success: false, errors: [parseBulkError(row.sf__Error ?? '')] });
    for (const row of unprocessed) {
      assign(row, {
        id: null,
        success: false,
        errors: [
          { statusCode: 'UNPROCESSED', message: `Bulk job ${jobId} did not process this record`, fields: [] },
        ],
      });
    }
    const missing: SalesforceRecordError = ended
      ? {
          statusCode: 'BULK_JOB_FAILED',
          message: `Bulk job ${jobId} ended ${info.state}: ${info.errorMessage ?? 'no message'}`,
          fields: [],
        }
      : {
          statusCode: 'NO_RESULT',
          message: `Bulk job ${jobId} returned no result row for this record`,
          fields: [],
        };
    return results.map((r) => r ?? { id: null, success: false, errors: [missing] });
  }
}
