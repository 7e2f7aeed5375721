import { Logger } from '@aws-lambda-powertools/logger';
import { type ZodType, z } from 'zod';
import {
  type Activity,
  type ActivityPage,
  type ActivityType,
  activitySchema,
  activityTypeSchema,
  type CustomActivityInput,
  type CustomActivityResult,
  type Lead,
  type LeadChange,
  type LeadFilterType,
  leadChangeSchema,
  leadSchema,
  type MarketoApi,
  type MarketoCallCounts,
  type SyncLeadResult,
} from '../../ports/marketo-api.js';
import { type CallGovernor, InMemoryCallGovernor, type Lease, realSleep } from './call-governor.js';
import {
  MarketoApiError,
  MarketoAuthError,
  MarketoDailyQuotaError,
  MarketoPagingTokenError,
  MarketoRequestError,
  MarketoResponseValidationError,
  MarketoTransportError,
  type TransportFailure,
} from './errors.js';
import {
  type CustomActivityType,
  customActivityResultSchema,
  customActivityTypeSchema,
  type Envelope,
  envelopeSchema,
  identitySchema,
  syncLeadResultSchema,
} from './marketo-schemas.js';
import {
  classifyCode,
  DEFAULT_RETRY_POLICY,
  nextChicagoMidnight,
  type RetryPolicyOptions,
  retryDelay,
} from './retry-policy.js';

/** Structural subset of Powertools' Logger, so tests can pass a silent or recording logger. */
export interface MarketoLogger {
  debug(message: string, ...extra: Record<string, unknown>[]): void;
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

export type TimeoutKind = 'identity' | 'pagingToken' | 'activities' | 'leads' | 'writes';

/** Per-endpoint timeouts from the Marketo docs (API-NOTES). */
export const DEFAULT_TIMEOUTS: Record<TimeoutKind, number> = {
  identity: 30_000,
  pagingToken: 300_000,
  activities: 30_000,
  leads: 60_000,
  writes: 90_000,
};

export interface MarketoClientOptions {
  /** REST base, e.g. `https://123-ABC-456.mktorest.com` (identity at `{base}/identity`). */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  fetch?: typeof globalThis.fetch;
  sleep?: (ms: number) => Promise<void>;
  clock?: () => number;
  random?: () => number;
  logger?: MarketoLogger;
  /** Shared call budget; default: an in-process governor at the recommended 50 / 20 s and 5 concurrent. */
  governor?: CallGovernor;
  retry?: Partial<RetryPolicyOptions>;
  timeouts?: Partial<Record<TimeoutKind, number>>;
  /** Renew the access token this long before it expires (default 60 s). */
  tokenRenewMarginMs?: number;
  /** Longest request URI before a GET is re-sent as POST with `_method=GET` (default 8 KB). */
  maxUriBytes?: number;
}

interface Operation {
  method: 'GET' | 'POST';
  /** Path under the base, e.g. `/rest/v1/activities.json`. */
  path: string;
  timeout: TimeoutKind;
  /** Safe to re-send after an ambiguous failure (the request may have been applied). */
  idempotent: boolean;
  /** Takes a nextPageToken: a refused token is a MarketoPagingTokenError. */
  paged?: boolean;
}

/** An endpoint for MarketoClient.request: `idempotent` = safe to re-send after an ambiguous failure. */
export type MarketoRequest = Pick<Operation, 'method' | 'path' | 'idempotent'>;

const OPS = {
  pagingToken: {
    method: 'GET',
    path: '/rest/v1/activities/pagingtoken.json',
    timeout: 'pagingToken',
    idempotent: true,
  },
  activities: {
    method: 'GET',
    path: '/rest/v1/activities.json',
    timeout: 'activities',
    idempotent: true,
    paged: true,
  },
  leadChanges: {
    method: 'GET',
    path: '/rest/v1/activities/leadchanges.json',
    timeout: 'activities',
    idempotent: true,
    paged: true,
  },
  deletedLeads: {
    method: 'GET',
    path: '/rest/v1/activities/deletedleads.json',
    timeout: 'activities',
    idempotent: true,
    paged: true,
  },
  activityTypes: {
    method: 'GET',
    path: '/rest/v1/activities/types.json',
    timeout: 'activities',
    idempotent: true,
  },
  getLeads: { method: 'GET', path: '/rest/v1/leads.json', timeout: 'leads', idempotent: true, paged: true },
  // Sync Leads with explicit field values is idempotent (re-applying the same update is harmless).
  syncLeads: { method: 'POST', path: '/rest/v1/leads.json', timeout: 'writes', idempotent: true },
  // Add Custom Activities has no idempotency key: a blind re-send can duplicate activities.
  addCustomActivities: {
    method: 'POST',
    path: '/rest/v1/activities/external.json',
    timeout: 'writes',
    idempotent: false,
  },
  customTypes: {
    method: 'GET',
    path: '/rest/v1/activities/external/types.json',
    timeout: 'activities',
    idempotent: true,
  },
  createCustomType: {
    method: 'POST',
    path: '/rest/v1/activities/external/type.json',
    timeout: 'writes',
    idempotent: false,
  },
} as const satisfies Record<string, Operation>;

const MAX_TYPE_IDS = 10;
const MAX_BATCH = 300;
const MAX_BODY_BYTES = 1_048_576;

interface CachedToken {
  value: string;
  /** Epoch ms (client clock). */
  expiresAt: number;
}

interface HttpOutcome {
  status: number;
  text: string;
}

class TransportFailureSignal extends Error {
  constructor(
    readonly failure: TransportFailure,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Hand-written Marketo REST client (no maintained library exists). One place — `call()` — turns
 * `success:false` envelopes into typed errors and applies the retry table of API-NOTES; every
 * counted request runs inside a call-governor lease.
 */
export class MarketoClient implements MarketoApi {
  private readonly base: string;
  private readonly fetchImpl: typeof globalThis.fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly clock: () => number;
  private readonly random: () => number;
  private readonly logger: MarketoLogger;
  private readonly governor: CallGovernor;
  private readonly policy: RetryPolicyOptions;
  private readonly timeouts: Record<TimeoutKind, number>;
  private readonly renewMarginMs: number;
  private readonly maxUriBytes: number;
  private token: CachedToken | undefined;
  private tokenInFlight: Promise<CachedToken> | undefined;
  private readonly counts: MarketoCallCounts = { total: 0, byEndpoint: {}, errors: {} };
  private identityCount = 0;

  constructor(private readonly options: MarketoClientOptions) {
    this.base = options.baseUrl.replace(/\/+$/, '');
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    this.sleep = options.sleep ?? realSleep;
    this.clock = options.clock ?? Date.now;
    this.random = options.random ?? Math.random;
    this.logger = options.logger ?? new Logger({ serviceName: 'marketo-client' });
    this.governor = options.governor ?? new InMemoryCallGovernor({ callsPerWindow: 50, maxConcurrent: 5 });
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.renewMarginMs = options.tokenRenewMarginMs ?? 60_000;
    this.maxUriBytes = options.maxUriBytes ?? 8192;
  }

  // ---- MarketoApi ------------------------------------------------------------------------------

  async getPagingToken(sinceDatetime: Date): Promise<string> {
    if (Number.isNaN(sinceDatetime.getTime()))
      throw new MarketoRequestError('getPagingToken needs a valid date.', { endpoint: key(OPS.pagingToken) });
    const env = await this.call(OPS.pagingToken, { sinceDatetime: sinceDatetime.toISOString() });
    if (!env.nextPageToken)
      throw new MarketoResponseValidationError('Get Paging Token answered without nextPageToken.', {
        endpoint: key(OPS.pagingToken),
        ...(env.requestId ? { requestId: env.requestId } : {}),
      });
    return env.nextPageToken;
  }

  async getActivities(params: {
    nextPageToken: string;
    activityTypeIds: number[];
    batchSize?: number;
  }): Promise<ActivityPage<Activity>> {
    const endpoint = key(OPS.activities);
    const ids = [...new Set(params.activityTypeIds)];
    if (ids.length === 0 || ids.length > MAX_TYPE_IDS || ids.some((id) => !Number.isInteger(id) || id <= 0))
      throw new MarketoRequestError(
        `getActivities takes 1 to ${MAX_TYPE_IDS} positive integer activity type ids per call (got ${ids.length}); split the types into several streams.`,
        { endpoint },
      );
    this.requirePageToken(params.nextPageToken, endpoint);
    const env = await this.call(OPS.activities, {
      nextPageToken: params.nextPageToken,
      activityTypeIds: ids.join(','),
      ...this.batchSizeParam(params.batchSize, endpoint),
    });
    return this.page(env, activitySchema, endpoint);
  }

  async getLeadChanges(params: {
    nextPageToken: string;
    fields: string[];
    batchSize?: number;
  }): Promise<ActivityPage<LeadChange>> {
    const endpoint = key(OPS.leadChanges);
    if (params.fields.length === 0)
      throw new MarketoRequestError(
        'getLeadChanges needs at least one field name (Marketo requires `fields`).',
        {
          endpoint,
        },
      );
    this.requirePageToken(params.nextPageToken, endpoint);
    const env = await this.call(OPS.leadChanges, {
      nextPageToken: params.nextPageToken,
      fields: params.fields.join(','),
      ...this.batchSizeParam(params.batchSize, endpoint),
    });
    return this.page(env, leadChangeSchema, endpoint);
  }

  async getDeletedLeads(params: {
    nextPageToken: string;
    batchSize?: number;
  }): Promise<ActivityPage<LeadChange>> {
    const endpoint = key(OPS.deletedLeads);
    this.requirePageToken(params.nextPageToken, endpoint);
    const env = await this.call(OPS.deletedLeads, {
      nextPageToken: params.nextPageToken,
      ...this.batchSizeParam(params.batchSize, endpoint),
    });
    return this.page(env, leadChangeSchema, endpoint);
  }

  async getActivityTypes(): Promise<ActivityType[]> {
    const env = await this.call(OPS.activityTypes, {});
    return this.parse(z.array(activityTypeSchema), env.result ?? [], env, key(OPS.activityTypes));
  }

  async getLeads(params: {
    filterType: LeadFilterType;
    filterValues: (string | number)[];
    fields: string[];
  }): Promise<Lead[]> {
    const endpoint = key(OPS.getLeads);
    const values = params.filterValues.map(String);
    if (values.some((v) => v.includes(',')))
      throw new MarketoRequestError('getLeads filter values must not contain commas.', { endpoint });
    const out: Lead[] = [];
    for (let i = 0; i < values.length; i += MAX_BATCH) {
      const chunk = values.slice(i, i + MAX_BATCH);
      let nextPageToken: string | undefined;
      do {
        const env = await this.call(OPS.getLeads, {
          filterType: params.filterType,
          filterValues: chunk.join(','),
          ...(params.fields.length > 0 ? { fields: params.fields.join(',') } : {}),
          ...(nextPageToken ? { nextPageToken } : {}),
        });
        out.push(...this.parse(z.array(leadSchema), env.result ?? [], env, endpoint));
        nextPageToken = env.moreResult && env.nextPageToken ? env.nextPageToken : undefined;
      } while (nextPageToken);
    }
    return out;
  }

  async syncLeads(params: {
    action: 'createOnly' | 'updateOnly' | 'createOrUpdate';
    lookupField: string;
    input: Record<string, unknown>[];
  }): Promise<SyncLeadResult[]> {
    const endpoint = key(OPS.syncLeads);
    this.requireBatch(params.input.length, endpoint);
    if (params.input.length === 0) return [];
    const env = await this.call(OPS.syncLeads, {}, params);
    const results = this.parse(z.array(syncLeadResultSchema), env.result ?? [], env, endpoint);
    this.requireSameLength(results.length, params.input.length, env, endpoint);
    return results;
  }

  async addCustomActivities(input: CustomActivityInput[]): Promise<CustomActivityResult[]> {
    const endpoint = key(OPS.addCustomActivities);
    this.requireBatch(input.length, endpoint);
    if (input.length === 0) return [];
    const env = await this.call(OPS.addCustomActivities, {}, { input });
    const results = this.parse(z.array(customActivityResultSchema), env.result ?? [], env, endpoint);
    this.requireSameLength(results.length, input.length, env, endpoint);
    return results;
  }

  callCounts(): MarketoCallCounts {
    return {
      total: this.counts.total,
      byEndpoint: { ...this.counts.byEndpoint },
      errors: { ...this.counts.errors },
    };
  }

  // ---- additions beyond the port (custom activity type set-up) ---------------------------------

  /** Identity calls made (free; not in callCounts().total). */
  identityCalls(): number {
    return this.identityCount;
  }

  async getCustomActivityTypes(): Promise<CustomActivityType[]> {
    const env = await this.call(OPS.customTypes, {});
    return this.parse(z.array(customActivityTypeSchema), env.result ?? [], env, key(OPS.customTypes));
  }

  /** Creates a draft custom activity type (`POST /rest/v1/activities/external/type.json`). */
  async createCustomActivityType(input: {
    apiName: string;
    name: string;
    triggerName: string;
    filterName: string;
    description?: string;
    primaryAttribute: { apiName: string; name: string; description?: string };
  }): Promise<CustomActivityType> {
    const endpoint = key(OPS.createCustomType);
    const env = await this.call(OPS.createCustomType, {}, input);
    const [created] = this.parse(z.array(customActivityTypeSchema), env.result ?? [], env, endpoint);
    if (!created)
      throw new MarketoResponseValidationError('Create Custom Activity Type returned no record.', {
        endpoint,
      });
    return created;
  }

  /** Approves a draft custom activity type so activities can be added to it. */
  async approveCustomActivityType(apiName: string): Promise<CustomActivityType> {
    const op: Operation = {
      method: 'POST',
      path: `/rest/v1/activities/external/type/${encodeURIComponent(apiName)}/approve.json`,
      timeout: 'writes',
      idempotent: true,
    };
    const env = await this.call(op, {}, undefined);
    const [approved] = this.parse(z.array(customActivityTypeSchema), env.result ?? [], env, key(op));
    if (!approved)
      throw new MarketoResponseValidationError('Approve returned no record.', { endpoint: key(op) });
    return approved;
  }

  /**
   * A documented endpoint the methods above do not wrap (custom-activity-endpoints.ts uses it),
   * through the same governor, retry table and error mapping as every other call.
   */
  async request(op: MarketoRequest, query: Record<string, string> = {}, body?: unknown): Promise<Envelope> {
    return this.call({ ...op, timeout: op.method === 'GET' ? 'activities' : 'writes' }, query, body);
  }

  // ---- the one place errors and retries are handled -------------------------------------------

  private async call(op: Operation, query: Record<string, string>, body?: unknown): Promise<Envelope> {
    const endpoint = key(op);
    if (body !== undefined && Buffer.byteLength(JSON.stringify(body)) > MAX_BODY_BYTES)
      throw new MarketoRequestError(
        'Request body exceeds 1 MB (Marketo answers 413): send fewer records per call.',
        {
          endpoint,
        },
      );
    let attempt = 0;
    let reauthenticated = false;
    let asForm = false;
    for (;;) {
      attempt += 1;
      const token = await this.accessToken();
      const lease = await this.governor.acquire();
      let outcome: HttpOutcome;
      try {
        this.counts.total += 1;
        this.counts.byEndpoint[endpoint] = (this.counts.byEndpoint[endpoint] ?? 0) + 1;
        outcome = await this.send(op, query, body, token.value, asForm);
      } catch (err) {
        if (!(err instanceof TransportFailureSignal)) throw err;
        this.countError(err.failure === 'http' ? `http${err.status}` : err.failure);
        const ambiguous = !op.idempotent && err.failure !== 'invalid-response';
        if ((ambiguous && !this.policy.retryAmbiguousWrites) || attempt >= this.policy.maxAttempts) {
          throw new MarketoTransportError(
            ambiguous
              ? `${endpoint} failed (${err.message}) and may have been applied; not re-sent because Marketo has no idempotency key — reconcile before retrying.`
              : `${endpoint} failed after ${attempt} attempts: ${err.message}. Marketo may be unreachable; retry later.`,
            {
              endpoint,
              failure: err.failure,
              ...(err.status !== undefined ? { status: err.status } : {}),
              ambiguous,
              attempts: attempt,
              cause: err,
            },
          );
        }
        const delay = retryDelay('transient', attempt, this.policy, this.random);
        this.logger.warn('Marketo call failed in transport; retrying', {
          endpoint,
          failure: err.failure,
          status: err.status,
          attempt,
          delayMs: delay,
        });
        await this.sleep(delay);
        continue;
      } finally {
        await this.release(lease);
      }

      if (outcome.status === 414 && op.method === 'GET' && !asForm) {
        // URI too long: re-send as POST with `_method=GET` (does not consume an attempt).
        this.countError('http414');
        asForm = true;
        attempt -= 1;
        continue;
      }
      if (outcome.status === 401) {
        this.countError('http401');
        if (!reauthenticated) {
          reauthenticated = true;
          this.invalidateToken(token.value);
          attempt -= 1;
          continue;
        }
        throw new MarketoAuthError(`${endpoint} refused the access token twice (HTTP 401).`, {
          endpoint,
          status: 401,
          attempts: attempt,
        });
      }

      const env = this.envelope(outcome, endpoint);
      if (env.success) return env;

      const first = env.errors?.[0] ?? { code: 'unknown', message: '' };
      const code = first.code;
      this.countError(code);
      const requestId = env.requestId;
      const cls = classifyCode(code);
      const context = { endpoint, code, requestId, attempt };

      if (op.paged && isPagingTokenRejection(code, first.message))
        throw new MarketoPagingTokenError(
          `${endpoint} refused the nextPageToken (${code} ${first.message}); regenerate one from the datetime watermark with getPagingToken().`,
          { code, requestId, endpoint, attempts: attempt },
        );

      switch (cls) {
        case 'auth':
          if (!reauthenticated) {
            reauthenticated = true;
            this.invalidateToken(token.value);
            this.logger.info('Marketo access token refused; re-authenticating once', context);
            attempt -= 1;
            continue;
          }
          throw new MarketoAuthError(
            `${endpoint} refused a freshly issued access token (${code} ${first.message}); check the API user and its role.`,
            { endpoint, code, attempts: attempt },
          );
        case 'quota': {
          const resetAt = new Date(nextChicagoMidnight(this.clock()));
          this.logger.error('Marketo daily quota reached; parking all Marketo calls', {
            ...context,
            resetAt: resetAt.toISOString(),
          });
          await this.governor.park(
            resetAt.getTime(),
            `607 daily quota reached (requestId ${requestId ?? 'n/a'})`,
          );
          throw new MarketoDailyQuotaError({ requestId, endpoint, attempts: attempt, resetAt });
        }
        case 'rate':
        case 'concurrency':
        case 'transient': {
          if (attempt >= this.policy.maxAttempts)
            throw new MarketoApiError(
              `${endpoint} still failing with ${code} (${first.message}) after ${attempt} attempts; retry later.`,
              { code, requestId, endpoint, attempts: attempt, retryable: true },
            );
          const delay = retryDelay(cls, attempt, this.policy, this.random);
          this.logger.warn('Marketo call throttled or transiently failed; retrying', {
            ...context,
            delayMs: delay,
          });
          await this.sleep(delay);
          continue;
        }
        case 'fatal':
          throw new MarketoApiError(`${endpoint} failed with ${code}: ${first.message}`, {
            code,
            requestId,
            endpoint,
            attempts: attempt,
          });
      }
    }
  }

  private async send(
    op: Operation,
    query: Record<string, string>,
    body: unknown,
    accessToken: string,
    asForm: boolean,
  ): Promise<HttpOutcome> {
    const qs = new URLSearchParams(query).toString();
    let url = `${this.base}${op.path}${qs ? `?${qs}` : ''}`;
    const headers: Record<string, string> = {
      authorization: `Bearer ${accessToken}`,
      accept: 'application/json',
    };
    let method: string = op.method;
    let payload: string | undefined;
    if (op.method === 'GET' && (asForm || Buffer.byteLength(url) > this.maxUriBytes)) {
      method = 'POST';
      url = `${this.base}${op.path}?_method=GET`;
      headers['content-type'] = 'application/x-www-form-urlencoded';
      payload = qs;
    } else if (op.method === 'POST') {
      headers['content-type'] = 'application/json';
      payload = body === undefined ? undefined : JSON.stringify(body);
    }
    return this.http(
      url,
      { method, headers, ...(payload !== undefined ? { body: payload } : {}) },
      op.timeout,
    );
  }

  /** One HTTP exchange with a hard timeout covering headers and body. */
  private async http(url: string, init: RequestInit, timeout: TimeoutKind): Promise<HttpOutcome> {
    const controller = new AbortController();
    const ms = this.timeouts[timeout];
    const timer = setTimeout(() => controller.abort(), ms);
    try {
      const res = await this.fetchImpl(url, { ...init, signal: controller.signal });
      const text = await res.text();
      if (res.status >= 500) throw new TransportFailureSignal('http', `HTTP ${res.status}`, res.status);
      return { status: res.status, text };
    } catch (err) {
      if (err instanceof TransportFailureSignal) throw err;
      if (controller.signal.aborted)
        throw new TransportFailureSignal('timeout', `no response within ${ms} ms`, undefined, { cause: err });
      throw new TransportFailureSignal(
        'network',
        `connection failed (${(err as Error).message})`,
        undefined,
        {
          cause: err,
        },
      );
    } finally {
      clearTimeout(timer);
    }
  }

  private envelope(outcome: HttpOutcome, endpoint: string): Envelope {
    if (outcome.status === 413)
      throw new MarketoApiError(
        `${endpoint}: request body too large (HTTP 413); send fewer records per call.`,
        {
          code: '413',
          endpoint,
        },
      );
    if (outcome.status === 414)
      throw new MarketoApiError(`${endpoint}: request URI too long (HTTP 414).`, { code: '414', endpoint });
    let json: unknown;
    try {
      json = JSON.parse(outcome.text);
    } catch (err) {
      throw new MarketoResponseValidationError(
        `${endpoint} answered HTTP ${outcome.status} with a non-JSON body.`,
        {
          endpoint,
          cause: err,
        },
      );
    }
    const parsed = envelopeSchema.safeParse(json);
    if (!parsed.success || outcome.status !== 200)
      throw new MarketoResponseValidationError(
        `${endpoint} answered HTTP ${outcome.status} with an unexpected body${parsed.success ? '' : `: ${parsed.error.message}`}.`,
        { endpoint, ...(parsed.success ? {} : { cause: parsed.error }) },
      );
    return parsed.data;
  }

  // ---- auth ------------------------------------------------------------------------------------

  private async accessToken(): Promise<CachedToken> {
    const cached = this.token;
    if (cached && this.clock() < cached.expiresAt - this.renewMarginMs) return cached;
    // Single flight: concurrent callers share one identity request.
    this.tokenInFlight ??= this.authenticate().finally(() => {
      this.tokenInFlight = undefined;
    });
    return this.tokenInFlight;
  }

  private invalidateToken(value: string): void {
    if (this.token?.value === value) this.token = undefined;
  }

  private async authenticate(): Promise<CachedToken> {
    const endpoint = 'GET /identity/oauth/token';
    const qs = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.options.clientId,
      client_secret: this.options.clientSecret,
    });
    for (let attempt = 1; ; attempt++) {
      this.identityCount += 1;
      let outcome: HttpOutcome;
      try {
        outcome = await this.http(`${this.base}/identity/oauth/token?${qs}`, { method: 'GET' }, 'identity');
      } catch (err) {
        if (!(err instanceof TransportFailureSignal)) throw err;
        if (attempt >= this.policy.maxAttempts)
          throw new MarketoTransportError(
            `Marketo identity unreachable after ${attempt} attempts: ${err.message}.`,
            {
              endpoint,
              failure: err.failure,
              attempts: attempt,
              cause: err,
            },
          );
        await this.sleep(retryDelay('transient', attempt, this.policy, this.random));
        continue;
      }
      if (outcome.status === 401 || outcome.status === 400 || outcome.status === 403)
        throw new MarketoAuthError(
          `Marketo identity refused the client credentials (HTTP ${outcome.status}); check MARKETO_CLIENT_ID and MARKETO_CLIENT_SECRET.`,
          { endpoint, status: outcome.status, attempts: attempt },
        );
      let json: unknown;
      try {
        json = JSON.parse(outcome.text);
      } catch (err) {
        throw new MarketoResponseValidationError('Marketo identity answered with a non-JSON body.', {
          endpoint,
          cause: err,
        });
      }
      const parsed = identitySchema.safeParse(json);
      if (!parsed.success)
        throw new MarketoResponseValidationError(
          `Marketo identity answered an unexpected body (HTTP ${outcome.status}).`,
          {
            endpoint,
            cause: parsed.error,
          },
        );
      const token = {
        value: parsed.data.access_token,
        expiresAt: this.clock() + parsed.data.expires_in * 1000,
      };
      this.token = token;
      this.logger.debug('Marketo access token obtained', { expiresInSec: parsed.data.expires_in });
      return token;
    }
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private async release(lease: Lease): Promise<void> {
    try {
      await lease.release();
    } catch (err) {
      // A lease that cannot be released expires on its own after leaseMs.
      this.logger.warn('Could not release Marketo call lease; it will expire', {
        error: (err as Error).name,
      });
    }
  }

  private countError(code: string): void {
    this.counts.errors[code] = (this.counts.errors[code] ?? 0) + 1;
  }

  private requirePageToken(token: string, endpoint: string): void {
    if (!token)
      throw new MarketoRequestError('A nextPageToken is required (get one with getPagingToken()).', {
        endpoint,
      });
  }

  private requireBatch(n: number, endpoint: string): void {
    if (n > MAX_BATCH)
      throw new MarketoRequestError(`At most ${MAX_BATCH} records per call (got ${n}); split the batch.`, {
        endpoint,
      });
  }

  private requireSameLength(got: number, sent: number, env: Envelope, endpoint: string): void {
    if (got !== sent)
      throw new MarketoResponseValidationError(`${endpoint} returned ${got} results for ${sent} records.`, {
        endpoint,
        ...(env.requestId ? { requestId: env.requestId } : {}),
      });
  }

  private batchSizeParam(batchSize: number | undefined, endpoint: string): Record<string, string> {
    if (batchSize === undefined) return {};
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH)
      throw new MarketoRequestError(`batchSize must be 1..${MAX_BATCH} (got ${batchSize}).`, { endpoint });
    return { batchSize: String(batchSize) };
  }

  private page<T>(env: Envelope, schema: ZodType<T>, endpoint: string): ActivityPage<T> {
    if (!env.nextPageToken)
      throw new MarketoResponseValidationError(`${endpoint} answered without nextPageToken.`, {
        endpoint,
        ...(env.requestId ? { requestId: env.requestId } : {}),
      });
    return {
      items: this.parse(z.array(schema), env.result ?? [], env, endpoint),
      nextPageToken: env.nextPageToken,
      moreResult: env.moreResult ?? false,
    };
  }

  private parse<T>(schema: ZodType<T>, value: unknown, env: Envelope, endpoint: string): T {
    const parsed = schema.safeParse(value);
    if (!parsed.success)
      throw new MarketoResponseValidationError(`${endpoint} returned records of an unexpected shape.`, {
        endpoint,
        ...(env.requestId ? { requestId: env.requestId } : {}),
        cause: parsed.error,
      });
    return parsed.data;
  }
}

function key(op: Operation): string {
  return `${op.method} ${op.path}`;
}

/**
 * Marketo does not document the code for a refused nextPageToken; on paging endpoints we treat
 * 1003 (invalid data) / 1001 (invalid value) mentioning the token, and 601-free "token" messages, as one.
 */
export function isPagingTokenRejection(code: string, message: string): boolean {
  return (code === '1003' || code === '1001' || code === '701') && /token/i.test(message);
}

export function createMarketoClient(options: MarketoClientOptions): MarketoClient {
  return new MarketoClient(options);
}
