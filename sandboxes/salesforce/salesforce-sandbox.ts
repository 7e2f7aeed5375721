/**
 * A Salesforce org on loopback that speaks the documented REST contract: OAuth 2.0
 * client-credentials, sObject Collections, SOQL query with nextRecordsUrl paging, /limits,
 * Bulk API 2.0 ingest, `Sforce-Limit-Info` on every response, the documented error shapes.
 *
 * The token endpoint listens on `loginUrl`, the data API on `instanceUrl` (a second port),
 * so a client that ignores `instance_url` fails here as it would against a real org.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseCsv, toCsv } from '../../shared/adapters/salesforce/csv.js';
import { queryOrganization } from './organization.js';
import { KEY_PREFIX } from './salesforce-ids.js';
import { FaultController, type FaultKind, type RequestKind, seededRandom } from './sandbox-faults.js';
import {
  type SandboxSeed,
  SandboxStore,
  type SaveResult,
  type SfRecord,
  SOBJECTS,
  type SObjectName,
  type StoreOptions,
  sfDateTime,
  type WriteContext,
} from './sandbox-store.js';
import { parseSoql, readField, runQuery, SoqlParseError, type SoqlQuery } from './soql-engine.js';

export type { FaultKind, FaultOptions, RequestKind } from './sandbox-faults.js';
export type {
  SandboxSeed,
  SaveResult,
  SeedContact,
  SeedLead,
  SfRecord,
  WriteLogEntry,
} from './sandbox-store.js';

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

export interface SandboxStats {
  readonly requests: RequestLogEntry[];
  /** API requests by kind (oauth included as its own kind; it does not count against limits). */
  countByKind(): Record<string, number>;
  /** Records per call for one kind, in call order. */
  recordsPerCall(kind: RequestKind): number[];
  apiVersions(): string[];
  reset(): void;
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

export interface SalesforceSandbox {
  /** The My Domain URL to authenticate against (`SALESFORCE_LOGIN_URL`). */
  loginUrl: string;
  /** What the token response's `instance_url` says. */
  instanceUrl: string;
  clientId: string;
  clientSecret: string;
  /** Leads, Contacts, Tasks, Users by Id; `deleted`, `writeLog`, `convertLead()`, `deleteRecord()`. */
  state: SandboxStore;
  faults: FaultController;
  stats: SandboxStats;
  /** Daily API usage as the org counts it. */
  apiUsage(): { used: number; limit: number };
  setApiUsage(used: number, limit?: number): void;
  bulkJobs(): BulkJobView[];
  /** Tasks carrying this Marketo_Activity_Id__c (case-insensitive). */
  tasksByActivityId(activityId: string): SfRecord[];
  stop(): Promise<void>;
}

interface BulkJob extends BulkJobView {
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

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly fields?: string[],
  ) {
    super(message);
  }
}

const DATA_PATH = /^\/services\/data\/v(\d+\.\d)(\/.*)?$/;

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    ...(body === undefined ? {} : { 'Content-Type': 'application/json;charset=UTF-8' }),
  });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(
      400,
      'JSON_PARSER_ERROR',
      `Unexpected character in the request body: ${(error as Error).message}`,
    );
  }
}

function isRecordObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function callOptionsClient(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const [k, v] = part.split('=').map((s) => s.trim());
    if (k?.toLowerCase() === 'client') return v;
  }
  return undefined;
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

function sobjectName(name: string | undefined): SObjectName {
  const found = SOBJECTS.find((s) => s.toLowerCase() === (name ?? '').toLowerCase());
  if (!found)
    throw new HttpError(
      404,
      'NOT_FOUND',
      `The requested resource does not exist: sObject type '${name}' is not supported.`,
    );
  return found;
}

const listen = (server: Server): Promise<number> =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });

export async function startSalesforceSandbox(
  options: SalesforceSandboxOptions = {},
): Promise<SalesforceSandbox> {
  const clientId = options.clientId ?? 'sandbox-client-id';
  const clientSecret = options.clientSecret ?? 'sandbox-client-secret';
  const sessionLifetimeMs = options.sessionLifetimeMs ?? 2 * 60 * 60 * 1000;
  const pageSize = options.queryPageSize ?? 2000;
  const bulkDelay = options.bulkProcessingDelayMs ?? 30;
  const minVersion = options.minApiVersion ?? 31;
  const maxVersion = options.maxApiVersion ?? 66;
  const random = seededRandom(options.randomSeed ?? 42);
  const now = options.now ?? (() => new Date());
  const store = new SandboxStore(options.seed, options);
  const faults = new FaultController(random);
  const tokens = new Map<string, number>();
  faults.expireSessions = () => tokens.clear();
  const usage = { used: 0, limit: options.dailyApiLimit ?? 100_000 };
  // Cursors stay valid (a page can be fetched again after a lost response), as on the service.
  const cursors = new Map<string, Record<string, unknown>[]>();
  const jobs = new Map<string, BulkJob>();
  const timers = new Set<NodeJS.Timeout>();
  const log: RequestLogEntry[] = [];
  const orgId = `00D${'0'.repeat(9)}SBX`;
  const userId = [...store.users.keys()][0] ?? '005000000000000AAA';

  const loginServer = createServer((req, res) => void handle(req, res, 'login'));
  const instanceServer = createServer((req, res) => void handle(req, res, 'instance'));
  const loginPort = await listen(loginServer);
  const instancePort = await listen(instanceServer);
  const loginUrl = `http://127.0.0.1:${loginPort}`;
  const instanceUrl = `http://127.0.0.1:${instancePort}`;

  const limitHeader = () => ({ 'Sforce-Limit-Info': `api-usage=${usage.used}/${usage.limit}` });

  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    server: 'login' | 'instance',
  ): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const entry: RequestLogEntry = {
      kind: 'unknown',
      method: req.method ?? 'GET',
      path: url.pathname,
      status: 0,
    };
    const client = callOptionsClient(headerValue(req, 'sforce-call-options'));
    if (client !== undefined) entry.client = client;
    const autoAssign = headerValue(req, 'sforce-auto-assign');
    if (autoAssign !== undefined) entry.autoAssign = autoAssign;
    log.push(entry);
    const m = DATA_PATH.exec(url.pathname);
    const rest = m?.[2] ?? '/';
    if (url.pathname === '/services/oauth2/token') entry.kind = 'oauth';
    else if (m) {
      entry.apiVersion = m[1] as string;
      entry.kind = classify(req.method ?? 'GET', rest);
    }
    try {
      const delay = faults.delayMs();
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      const body = await readBody(req);
      if (entry.kind === 'oauth') return oauth(req, res, body, entry);
      if (server !== 'instance' || !m || !entry.apiVersion) {
        entry.status = 404;
        return sendJson(res, 404, [
          { errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' },
        ]);
      }
      await api(req, res, url, entry.apiVersion, rest, body, entry);
    } catch (error) {
      if (error instanceof HttpError) {
        entry.status = error.status;
        sendJson(
          res,
          error.status,
          [
            {
              message: error.message,
              errorCode: error.errorCode,
              ...(error.fields ? { fields: error.fields } : {}),
            },
          ],
          entry.kind === 'oauth' ? {} : limitHeader(),
        );
        return;
      }
      entry.status = 500;
      sendJson(
        res,
        500,
        [
          {
            errorCode: 'UNKNOWN_EXCEPTION',
            message: `An unexpected error occurred: ${(error as Error).message}`,
          },
        ],
        limitHeader(),
      );
    }
  }

  function oauth(req: IncomingMessage, res: ServerResponse, body: string, entry: RequestLogEntry): void {
    const form = new URLSearchParams(body);
    const refusal: [string, string] | undefined =
      req.method !== 'POST'
        ? ['invalid_request', 'must use HTTP POST']
        : form.get('grant_type') !== 'client_credentials'
          ? ['unsupported_grant_type', 'grant type not supported']
          : form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret
            ? ['invalid_client', 'invalid client credentials']
            : undefined;
    if (refusal) {
      entry.status = 400;
      sendJson(res, 400, { error: refusal[0], error_description: refusal[1] });
      return;
    }
    const token = `${orgId}!${randomBytes(24).toString('base64url')}`;
    tokens.set(token, Date.now() + sessionLifetimeMs);
    const issuedAt = String(Date.now());
    entry.status = 200;
    sendJson(res, 200, {
      access_token: token,
      signature: randomBytes(32).toString('base64'),
      scope: 'api',
      instance_url: instanceUrl,
      id: `${loginUrl}/id/${orgId}/${userId}`,
      token_type: 'Bearer',
      issued_at: issuedAt,
    });
  }

  function classify(method: string, rest: string): RequestKind {
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

  async function api(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    version: string,
    rest: string,
    body: string,
    entry: RequestLogEntry,
  ): Promise<void> {
    const versionNumber = Number(version);
    if (versionNumber < minVersion || versionNumber > maxVersion) {
      throw new HttpError(
        404,
        'NOT_FOUND',
        `The requested resource does not exist (API version ${version} is not served)`,
      );
    }
    const auth = headerValue(req, 'authorization') ?? '';
    const token = /^(Bearer|OAuth) (.+)$/i.exec(auth)?.[2];
    const expiresAt = token === undefined ? undefined : tokens.get(token);
    if (expiresAt === undefined || expiresAt < Date.now() || faults.take('INVALID_SESSION_ID', entry.kind)) {
      if (token !== undefined && expiresAt !== undefined && expiresAt < Date.now()) tokens.delete(token);
      if (expiresAt !== undefined && expiresAt >= Date.now()) entry.fault = 'INVALID_SESSION_ID';
      throw new HttpError(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
    }
    if (usage.used >= usage.limit || faults.take('REQUEST_LIMIT_EXCEEDED', entry.kind)) {
      if (usage.used < usage.limit) entry.fault = 'REQUEST_LIMIT_EXCEEDED';
      throw new HttpError(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.');
    }
    usage.used++;
    if (faults.take('HTTP_503', entry.kind)) {
      entry.fault = 'HTTP_503';
      throw new HttpError(503, 'SERVER_UNAVAILABLE', 'Server temporarily unavailable, try again later');
    }
    const loseResponse = faults.take('LOSE_RESPONSE', entry.kind);
    const reply = (status: number, payload: unknown, contentType?: string) => {
      entry.status = status;
      if (loseResponse) {
        entry.fault = 'LOSE_RESPONSE';
        res.socket?.destroy();
        return;
      }
      if (contentType && typeof payload === 'string') {
        res.writeHead(status, { ...limitHeader(), 'Content-Type': contentType });
        res.end(payload);
        return;
      }
      sendJson(res, status, payload, limitHeader());
    };
    const ctx: WriteContext = { client: entry.client, autoAssign: entry.autoAssign, kind: entry.kind };
    const method = req.method ?? 'GET';

    switch (entry.kind) {
      case 'versions':
        return reply(200, [{ label: 'Sandbox', url: `/services/data/v${version}`, version }]);
      case 'limits':
        return reply(200, {
          DailyApiRequests: { Max: usage.limit, Remaining: Math.max(0, usage.limit - usage.used) },
          DailyBulkV2QueryJobs: { Max: 10000, Remaining: 10000 },
          DailyBulkApiBatches: { Max: 15000, Remaining: 15000 - jobs.size },
        });
      case 'query':
        return reply(200, query(url.searchParams.get('q'), version, entry));
      case 'queryMore': {
        const locator = rest.split('/')[2] ?? '';
        return reply(200, queryMore(locator, version, entry));
      }
      case 'create':
      case 'update':
      case 'upsert':
        return reply(200, collectionWrite(entry.kind, rest, body, ctx, entry));
      case 'delete': {
        if (method !== 'DELETE') break;
        const ids = (url.searchParams.get('ids') ?? '').split(',').filter(Boolean);
        if (ids.length === 0) throw new HttpError(400, 'MISSING_ARGUMENT', 'ids parameter is required');
        if (ids.length > 200)
          throw new HttpError(
            400,
            'EXCEEDED_ID_LIMIT',
            'record limit reached. cannot submit more than 200 records into this call',
          );
        entry.records = ids.length;
        return reply(
          200,
          ids.map((id) => lockFault(entry.kind) ?? store.destroy(undefined, id, ctx)),
        );
      }
      case 'bulkCreateJob':
        return reply(200, createJob(body, version));
      case 'bulkUpload': {
        const job = getJob(rest);
        if (method !== 'PUT') break;
        if (job.state !== 'Open')
          throw new HttpError(
            409,
            'INVALIDJOBSTATE',
            `Job ${job.id} is not Open; data can be uploaded only to an Open job`,
          );
        const rows = parseCsv(body).length - 1;
        entry.records = Math.max(0, rows);
        job.uploads.push(body);
        return reply(201, undefined);
      }
      case 'bulkClose': {
        const job = getJob(rest);
        const patch = parseJson(body);
        const state = isRecordObject(patch) ? patch.state : undefined;
        if (state === 'UploadComplete') {
          if (job.state !== 'Open')
            throw new HttpError(409, 'INVALIDJOBSTATE', `Job ${job.id} is ${job.state}, not Open`);
          job.state = 'UploadComplete';
          job.systemModstamp = sfDateTime(now());
          schedule(job, { client: entry.client, autoAssign: entry.autoAssign, kind: 'bulk' });
        } else if (state === 'Aborted') {
          if (job.state === 'JobComplete' || job.state === 'Failed')
            throw new HttpError(409, 'INVALIDJOBSTATE', `Job ${job.id} is already ${job.state}`);
          job.state = 'Aborted';
        } else {
          throw new HttpError(400, 'INVALIDJOBSTATE', 'state must be UploadComplete or Aborted');
        }
        return reply(200, jobInfo(job));
      }
      case 'bulkStatus':
        return reply(200, jobInfo(getJob(rest)));
      case 'bulkDelete': {
        const job = getJob(rest);
        jobs.delete(job.id);
        return reply(204, undefined);
      }
      case 'bulkResults': {
        const job = getJob(rest);
        const which = rest.split('/').filter(Boolean)[3] ?? '';
        if (job.state !== 'JobComplete' && job.state !== 'Failed' && job.state !== 'Aborted') {
          throw new HttpError(
            409,
            'INVALIDJOBSTATE',
            `Job ${job.id} is ${job.state}: results are available once it is complete`,
          );
        }
        const shuffle = (rows: string[][]) => {
          const copy = [...rows];
          for (let i = copy.length - 1; i > 0; i--) {
            const j = Math.floor(random() * (i + 1));
            [copy[i], copy[j]] = [copy[j] as string[], copy[i] as string[]];
          }
          return copy;
        };
        const eol = job.lineEnding === 'CRLF' ? '\r\n' : '\n';
        if (which === 'successfulResults') {
          entry.records = job.successful.length;
          return reply(
            200,
            toCsv([['sf__Id', 'sf__Created', ...job.header], ...shuffle(job.successful)], {
              lineEnding: eol,
              quoteAll: true,
            }),
            'text/csv',
          );
        }
        if (which === 'failedResults') {
          entry.records = job.failed.length;
          return reply(
            200,
            toCsv([['sf__Id', 'sf__Error', ...job.header], ...shuffle(job.failed)], {
              lineEnding: eol,
              quoteAll: true,
            }),
            'text/csv',
          );
        }
        if (which.toLowerCase() === 'unprocessedrecords') {
          entry.records = job.unprocessed.length;
          return reply(
            200,
            toCsv([job.header, ...job.unprocessed], { lineEnding: eol, quoteAll: true }),
            'text/csv',
          );
        }
        break;
      }
      default:
        break;
    }
    throw new HttpError(404, 'NOT_FOUND', 'The requested resource does not exist');
  }

  function lockFault(kind: RequestKind): SaveResult | undefined {
    if (!faults.take('UNABLE_TO_LOCK_ROW', kind)) return undefined;
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

  function collectionWrite(
    kind: 'create' | 'update' | 'upsert',
    rest: string,
    body: string,
    ctx: WriteContext,
    entry: RequestLogEntry,
  ): SaveResult[] {
    const parsed = parseJson(body);
    if (!isRecordObject(parsed) || !Array.isArray(parsed.records)) {
      throw new HttpError(
        400,
        'JSON_PARSER_ERROR',
        'The request body must be an object with a records array',
      );
    }
    const records = parsed.records as unknown[];
    entry.records = records.length;
    if (records.length > 200) {
      throw new HttpError(
        400,
        'EXCEEDED_ID_LIMIT',
        'record limit reached. cannot submit more than 200 records into this call',
      );
    }
    if (parsed.allOrNone === true) {
      throw new HttpError(400, 'FEATURENOTENABLED', 'The sandbox implements allOrNone:false only');
    }
    const parts = rest.split('/').filter(Boolean);
    const pathObject = kind === 'upsert' ? sobjectName(parts[2]) : undefined;
    const externalIdField = parts[3];
    if (kind === 'upsert' && pathObject && externalIdField) {
      if (!store.isExternalIdField(pathObject, externalIdField)) {
        throw new HttpError(
          400,
          'INVALID_FIELD',
          `Field name provided, ${externalIdField} is not an External ID or indexed field for ${pathObject}`,
          [externalIdField],
        );
      }
    }
    // Two records in one call with the same external id both fail, as the service does.
    const keyCounts = new Map<string, number>();
    if (kind === 'upsert' && externalIdField) {
      for (const r of records) {
        if (!isRecordObject(r)) continue;
        const key = readField(r, externalIdField);
        if (key !== undefined && key !== null)
          keyCounts.set(String(key).toLowerCase(), (keyCounts.get(String(key).toLowerCase()) ?? 0) + 1);
      }
    }
    return store.withIndex(() =>
      records.map((raw): SaveResult => {
        if (
          !isRecordObject(raw) ||
          !isRecordObject(raw.attributes) ||
          typeof raw.attributes.type !== 'string'
        ) {
          return {
            success: false,
            errors: [
              { statusCode: 'INVALID_FIELD', message: 'Each record needs attributes.type', fields: [] },
            ],
          };
        }
        let type: SObjectName;
        try {
          type = sobjectName(raw.attributes.type);
        } catch {
          return {
            success: false,
            errors: [
              {
                statusCode: 'INVALID_TYPE',
                message: `sObject type '${raw.attributes.type}' is not supported.`,
                fields: [],
              },
            ],
          };
        }
        if (pathObject && type !== pathObject) {
          return {
            success: false,
            errors: [
              {
                statusCode: 'INVALID_TYPE',
                message: `Record type ${type} does not match ${pathObject}`,
                fields: [],
              },
            ],
          };
        }
        const { attributes: _a, ...record } = raw;
        const locked = lockFault(entry.kind);
        if (locked) return locked;
        if (kind === 'create') return store.create(type, record, ctx);
        if (kind === 'update') return store.update(type, record, ctx);
        const field = externalIdField as string;
        const key = readField(record, field);
        if (key !== undefined && key !== null && (keyCounts.get(String(key).toLowerCase()) ?? 0) > 1) {
          return {
            success: false,
            errors: [
              {
                statusCode: 'DUPLICATE_EXTERNAL_ID',
                message: `Duplicate external id specified: ${String(key)}`,
                fields: [field],
              },
            ],
          };
        }
        return store.upsert(type, field, record, ctx);
      }),
    );
  }

  function project(
    query: SoqlQuery,
    sobject: SObjectName,
    version: string,
    record: SfRecord,
  ): Record<string, unknown> {
    const out: Record<string, unknown> = {
      attributes: { type: sobject, url: `/services/data/v${version}/sobjects/${sobject}/${record.Id}` },
    };
    for (const field of query.fields) {
      const canonical = Object.keys(record).find((k) => k.toLowerCase() === field.toLowerCase()) ?? field;
      out[canonical] = record[canonical] ?? null;
    }
    return out;
  }

  function page(records: Record<string, unknown>[], offset: number, version: string, existing?: string) {
    const slice = records.slice(offset, offset + pageSize);
    const done = offset + pageSize >= records.length;
    const result: Record<string, unknown> = { totalSize: records.length, done, records: slice };
    if (!done) {
      const locator = existing ?? `${KEY_PREFIX.QueryLocator}${randomBytes(6).toString('hex').toUpperCase()}`;
      cursors.set(locator, records);
      result.nextRecordsUrl = `/services/data/v${version}/query/${locator}-${offset + pageSize}`;
    }
    return result;
  }

  function query(q: string | null, version: string, entry: RequestLogEntry) {
    if (!q) throw new HttpError(400, 'MALFORMED_QUERY', 'q parameter is required');
    let parsed: SoqlQuery;
    try {
      parsed = parseSoql(q);
    } catch (error) {
      if (error instanceof SoqlParseError) throw new HttpError(400, 'MALFORMED_QUERY', error.message);
      throw error;
    }
    if (parsed.object.toLowerCase() === 'organization') return queryOrganization(store, parsed, version);
    const sobject = SOBJECTS.find((s) => s.toLowerCase() === parsed.object.toLowerCase());
    if (!sobject)
      throw new HttpError(400, 'INVALID_TYPE', `sObject type '${parsed.object}' is not supported.`);
    const rows = runQuery(parsed, store.table(sobject).values());
    if (parsed.count) {
      entry.records = 0;
      return { totalSize: rows.length, done: true, records: [] };
    }
    const records = rows.map((r) => project(parsed, sobject, version, r));
    const result = page(records, 0, version);
    entry.records = (result.records as unknown[]).length;
    return result;
  }

  function queryMore(locatorWithOffset: string, version: string, entry: RequestLogEntry) {
    const [locator = '', offsetText = ''] = locatorWithOffset.split('-');
    const records = cursors.get(locator);
    const offset = Number(offsetText);
    if (!records || !Number.isInteger(offset) || offset < 0)
      throw new HttpError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
    const result = page(records, offset, version, locator);
    entry.records = (result.records as unknown[]).length;
    return result;
  }

  function getJob(rest: string): BulkJob {
    const id = rest.split('/').filter(Boolean)[2] ?? '';
    const job = jobs.get(id);
    if (!job) throw new HttpError(404, 'NOT_FOUND', `Job ${id} not found`);
    return job;
  }

  function jobInfo(job: BulkJob) {
    return {
      id: job.id,
      operation: job.operation,
      object: job.object,
      createdById: userId,
      createdDate: job.createdDate,
      systemModstamp: job.systemModstamp,
      state: job.state,
      ...(job.externalIdFieldName ? { externalIdFieldName: job.externalIdFieldName } : {}),
      concurrencyMode: 'Parallel',
      contentType: 'CSV',
      apiVersion: Number(job.apiVersion),
      jobType: 'V2Ingest',
      contentUrl: `services/data/v${job.apiVersion}/jobs/ingest/${job.id}/batches`,
      lineEnding: job.lineEnding,
      columnDelimiter: 'COMMA',
      numberRecordsProcessed: job.numberRecordsProcessed,
      numberRecordsFailed: job.numberRecordsFailed,
      retries: 0,
      totalProcessingTime: 0,
      apiActiveProcessingTime: 0,
      apexProcessingTime: 0,
      ...(job.errorMessage ? { errorMessage: job.errorMessage } : {}),
    };
  }

  function createJob(body: string, version: string) {
    const spec = parseJson(body);
    if (!isRecordObject(spec))
      throw new HttpError(400, 'INVALIDJOB', 'The request body must be a JSON object');
    const object = sobjectName(typeof spec.object === 'string' ? spec.object : undefined);
    const operation = spec.operation;
    if (operation !== 'upsert' && operation !== 'insert') {
      throw new HttpError(
        400,
        'INVALIDJOB',
        `The sandbox supports operation upsert or insert, not ${String(operation)}`,
      );
    }
    const externalIdFieldName =
      typeof spec.externalIdFieldName === 'string' ? spec.externalIdFieldName : undefined;
    if (operation === 'upsert') {
      if (!externalIdFieldName)
        throw new HttpError(400, 'INVALIDJOB', 'externalIdFieldName is required for upsert');
      if (!store.isExternalIdField(object, externalIdFieldName)) {
        throw new HttpError(
          400,
          'INVALIDJOB',
          `InvalidJob : Field name provided, ${externalIdFieldName} is not an External ID or indexed field for ${object}`,
        );
      }
    }
    if (spec.contentType !== undefined && spec.contentType !== 'CSV')
      throw new HttpError(400, 'INVALIDJOB', 'contentType must be CSV');
    const lineEnding = spec.lineEnding === 'CRLF' ? 'CRLF' : 'LF';
    const stamp = sfDateTime(now());
    const job: BulkJob = {
      id: store.ids.next(KEY_PREFIX.BulkJob),
      object,
      operation,
      externalIdFieldName,
      state: 'Open',
      numberRecordsProcessed: 0,
      numberRecordsFailed: 0,
      createdDate: stamp,
      systemModstamp: stamp,
      lineEnding,
      apiVersion: version,
      uploads: [],
      header: [],
      successful: [],
      failed: [],
      unprocessed: [],
    };
    jobs.set(job.id, job);
    return jobInfo(job);
  }

  function schedule(job: BulkJob, ctx: WriteContext): void {
    const step = (fn: () => void) => {
      const t = setTimeout(() => {
        timers.delete(t);
        fn();
      }, bulkDelay);
      timers.add(t);
    };
    step(() => {
      if (job.state !== 'UploadComplete') return;
      job.state = 'InProgress';
      step(() => processJob(job, ctx));
    });
  }

  function processJob(job: BulkJob, ctx: WriteContext): void {
    if (job.state !== 'InProgress') return;
    const failure = faults.takeRule('BULK_JOB_FAILED', 'bulkClose');
    store.withIndex(() => processRows(job, ctx, failure?.afterRows ?? (failure ? 0 : undefined)));
    if (failure) {
      job.state = 'Failed';
      job.errorMessage =
        'InternalServerError : the job could not be completed (sandbox fault BULK_JOB_FAILED)';
    } else job.state = 'JobComplete';
    job.systemModstamp = sfDateTime(now());
  }

  /** Processes the uploaded rows; with `stopAfter`, rows past it are left unprocessed (a job failing midway). */
  function processRows(job: BulkJob, ctx: WriteContext, stopAfter?: number): void {
    let seen = 0;
    for (const upload of job.uploads) {
      const [header, ...rows] = parseCsv(upload);
      if (!header) continue;
      if (job.header.length === 0) job.header = header;
      for (const row of rows) {
        if (stopAfter !== undefined && seen++ >= stopAfter) {
          job.unprocessed.push(job.header.map((_, i) => row[i] ?? ''));
          continue;
        }
        const record: Record<string, unknown> = {};
        header.forEach((name, i) => {
          const v = row[i] ?? '';
          if (v === '') return; // empty = leave unchanged
          record[name] = v === '#N/A' ? null : v;
        });
        const original = job.header.map((_, i) => row[i] ?? '');
        const result =
          lockFault('bulkClose') ??
          (job.operation === 'upsert'
            ? store.upsert(job.object, job.externalIdFieldName as string, record, ctx)
            : store.create(job.object, record, ctx));
        job.numberRecordsProcessed++;
        if (result.success) {
          job.successful.push([
            result.id ?? '',
            String(result.created ?? job.operation === 'insert'),
            ...original,
          ]);
        } else {
          job.numberRecordsFailed++;
          const error = result.errors[0];
          const text = error
            ? `${error.statusCode}:${error.message}:${error.fields.join(',')} --`
            : 'UNKNOWN_EXCEPTION:unknown:--';
          job.failed.push([result.id ?? '', text, ...original]);
        }
      }
    }
  }

  const stats: SandboxStats = {
    requests: log,
    countByKind() {
      const out: Record<string, number> = {};
      for (const e of log) out[e.kind] = (out[e.kind] ?? 0) + 1;
      return out;
    },
    recordsPerCall(kind) {
      return log.filter((e) => e.kind === kind).map((e) => e.records ?? 0);
    },
    apiVersions() {
      return [...new Set(log.flatMap((e) => (e.apiVersion ? [e.apiVersion] : [])))];
    },
    reset() {
      log.length = 0;
    },
  };

  const close = (server: Server) =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });

  return {
    loginUrl,
    instanceUrl,
    clientId,
    clientSecret,
    state: store,
    faults,
    stats,
    apiUsage: () => ({ ...usage }),
    setApiUsage(used, limit) {
      usage.used = used;
      if (limit !== undefined) usage.limit = limit;
    },
    bulkJobs: () =>
      [...jobs.values()].map(
        ({
          id,
          object,
          operation,
          externalIdFieldName,
          state,
          numberRecordsProcessed,
          numberRecordsFailed,
        }) => ({
          id,
          object,
          operation,
          externalIdFieldName,
          state,
          numberRecordsProcessed,
          numberRecordsFailed,
        }),
      ),
    tasksByActivityId: (activityId) =>
      [...store.tasks.values()].filter(
        (t) =>
          typeof t.Marketo_Activity_Id__c === 'string' &&
          t.Marketo_Activity_Id__c.toLowerCase() === activityId.toLowerCase(),
      ),
    async stop() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await Promise.all([close(loginServer), close(instanceServer)]);
    },
  };
}
