import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  createWorld,
  mulberry32,
  publicActivity,
  type World,
  type WorldActivity,
  type WorldActivityType,
  type WorldLead,
  type WorldOptions,
} from '../world.js';
import { registerCustomActivityRoutes } from './custom-activity-routes.js';
import { FaultController, type MarketoFault } from './fault-controller.js';
import {
  type ActivityPosition,
  decodePagingToken,
  encodePagingToken,
  type OffsetPosition,
  type PagingPosition,
} from './paging-token.js';

/**
 * A Marketo Engage REST sandbox on loopback that follows the documented contract
 * (shared/API-NOTES.md, reference/marketo/swagger-*.json): client-credentials identity, Bearer
 * tokens only, errors as HTTP 200 envelopes, paging tokens with short and empty pages, the
 * instance-wide limits (100 calls / 20 s, 10 concurrent, daily quota) and seeded fault injection.
 *
 * Paging-token rejection: Marketo's docs do not name the code for an invalid or expired
 * `nextPageToken`; the sandbox answers `1003` with message "Invalid token value: …" (an
 * "invalid data" code), which the client maps to MarketoPagingTokenError on paging endpoints.
 */

export interface MarketoSandboxLimits {
  /** Calls allowed in any rolling `windowMs` (Marketo: 100 / 20 s). */
  callsPerWindow: number;
  windowMs: number;
  /** Concurrent calls allowed (Marketo: 10). */
  maxConcurrent: number;
  /** Daily quota (Marketo: typically 50,000). */
  dailyQuota: number;
  /**
   * When the quota's usage goes back to 0: `manual` (only resetDailyQuota(), the default) or
   * `chicagoMidnight` (as Marketo does: at 00:00 America/Chicago, on the sandbox clock).
   */
  dailyQuotaReset: 'manual' | 'chicagoMidnight';
}

export interface MarketoSandboxOptions {
  world?: World;
  worldOptions?: WorldOptions;
  clientId?: string;
  clientSecret?: string;
  /** Lifetime of a new access token (default 3600 s). */
  tokenLifetimeSec?: number;
  /** Seed of the fault and paging PRNG (default 42). */
  seed?: number;
  limits?: Partial<MarketoSandboxLimits>;
  /** Added to every REST call while it counts as in flight. */
  latency?: { ms: number; jitterMs?: number };
  paging?: { shortPageProbability?: number; emptyPageProbability?: number; tokenTtlMs?: number };
  /** Sandbox clock (epoch ms). Default: the world's now, advancing with real time. */
  clock?: () => number;
  /** Max request-URI length before HTTP 414 (default 8 KB). */
  maxUriBytes?: number;
  port?: number;
}

export interface RecordedRequest {
  seq: number;
  /** Sandbox clock at arrival. */
  at: number;
  method: string;
  /** Method the request is treated as (`GET` for a POST with `_method=GET`). */
  effectiveMethod: string;
  path: string;
  /** URL query (secrets redacted). */
  query: Record<string, string>;
  /** Form parameters of a `_method=GET` POST, or the parsed JSON body. */
  body?: unknown;
  /** Request headers with Authorization/Cookie values redacted. */
  headers: Record<string, string>;
  /** Outcome: "200", an envelope code ("606"), "http500", "http414", "timeout", "drop". */
  result: string;
  /** Counted against the rate window and the daily quota. */
  counted: boolean;
}

export class SandboxStats {
  readonly requests: RecordedRequest[] = [];
  /** `${effectiveMethod} ${path}` → result → count. */
  readonly byEndpoint: Record<string, Record<string, number>> = {};
  identityCalls = 0;
  countedCalls = 0;
  maxConcurrentObserved = 0;
  maxInWindowObserved = 0;

  record(r: RecordedRequest): void {
    this.requests.push(r);
    const key = `${r.effectiveMethod} ${r.path}`;
    const bucket = this.byEndpoint[key] ?? {};
    bucket[r.result] = (bucket[r.result] ?? 0) + 1;
    this.byEndpoint[key] = bucket;
    if (r.path.startsWith('/identity/')) this.identityCalls += 1;
    if (r.counted) this.countedCalls += 1;
  }

  count(effectiveMethodAndPath: string, result?: string): number {
    const bucket = this.byEndpoint[effectiveMethodAndPath] ?? {};
    if (result) return bucket[result] ?? 0;
    return Object.values(bucket).reduce((s, n) => s + n, 0);
  }

  reset(): void {
    this.requests.length = 0;
    for (const k of Object.keys(this.byEndpoint)) delete this.byEndpoint[k];
    this.identityCalls = 0;
    this.countedCalls = 0;
    this.maxConcurrentObserved = 0;
    this.maxInWindowObserved = 0;
  }
}

export interface SandboxClock {
  now(): number;
  /** Pins the sandbox clock to `ms` (it keeps advancing with real time from there). */
  set(ms: number): void;
  advance(ms: number): void;
}

export interface MarketoSandbox {
  baseUrl: string;
  /** REST base + identity base are both under baseUrl (`/rest/v1`, `/identity`). */
  world: World;
  faults: FaultController;
  stats: SandboxStats;
  clock: SandboxClock;
  limits: MarketoSandboxLimits;
  credentials: { clientId: string; clientSecret: string };
  setLatency(ms: number, jitterMs?: number): void;
  /** Daily quota used so far. */
  dailyUsed(): number;
  resetDailyQuota(): void;
  /** Other integrations on the instance made this many calls today (the daily quota is shared). */
  spendDailyQuota(calls: number): void;
  /** Makes every issued token expired (next REST call → 602). */
  expireTokens(): void;
  /** Forgets every issued token (next REST call → 601). */
  revokeTokens(): void;
  /** Custom activity types created through the API. */
  customTypes: Map<string, WorldActivityType & { status: 'draft' | 'approved' }>;
  stop(): Promise<void>;
}

const CHICAGO_DAY = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'America/Chicago',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});
/** The calendar day in America/Chicago (the zone of Marketo's quota reset), e.g. `2026-10-15`. */
const chicagoDay = (ms: number): string => CHICAGO_DAY.format(new Date(ms));

/** Outcome codes that do not count against quota or rate limit (API-NOTES). */
const UNCOUNTED = new Set(['601', '602', '604', '605', '608', '611']);

const ERROR_MESSAGES: Record<string, string> = {
  '502': 'Bad Gateway',
  '601': 'Access token invalid',
  '602': 'Access token expired',
  '603': 'Access denied',
  '604': 'Request timed out',
  '605': 'HTTP Method not supported',
  '606': 'Max rate limit 100 exceeded with in 20 secs',
  '607': 'Daily quota reached',
  '608': 'API Temporarily Unavailable',
  '609': 'Invalid JSON',
  '610': 'Requested resource not found',
  '611': 'System error',
  '612': 'Invalid Content Type',
  '614': 'Invalid Subscription',
  '615': 'Concurrent access limit reached',
  '713': 'Transient Error',
};

class EnvelopeError extends Error {
  constructor(
    readonly code: string,
    message?: string,
  ) {
    super(message ?? ERROR_MESSAGES[code] ?? `Error ${code}`);
  }
}

type Params = Record<string, string>;

interface RouteContext {
  params: Params;
  body: unknown;
  now: number;
  pathParams: Record<string, string>;
}

type RouteResult = Record<string, unknown>;

const LEAD_FIELDS: readonly (keyof WorldLead)[] = [
  'id',
  'email',
  'firstName',
  'lastName',
  'company',
  'createdAt',
  'updatedAt',
  'unsubscribed',
  'unsubscribedReason',
  'emailInvalid',
  'sfdcType',
  'sfdcLeadId',
  'sfdcContactId',
  'sfdcAccountId',
];
const DEFAULT_LEAD_FIELDS = ['id', 'email', 'updatedAt', 'createdAt', 'firstName', 'lastName'];
const WRITABLE_LEAD_FIELDS = new Set([
  'email',
  'firstName',
  'lastName',
  'company',
  'unsubscribed',
  'unsubscribedReason',
]);

export async function startMarketoSandbox(options: MarketoSandboxOptions = {}): Promise<MarketoSandbox> {
  const world = options.world ?? createWorld(options.worldOptions);
  const rand = mulberry32(options.seed ?? 42);
  const faults = new FaultController(rand, options.paging);
  const stats = new SandboxStats();
  const clientId = options.clientId ?? 'sandbox-client-id';
  const clientSecret = options.clientSecret ?? 'sandbox-client-secret';
  const tokenLifetimeMs = (options.tokenLifetimeSec ?? 3600) * 1000;
  const pagingTokenTtlMs = options.paging?.tokenTtlMs;
  const maxUriBytes = options.maxUriBytes ?? 8192;
  const limits: MarketoSandboxLimits = {
    callsPerWindow: options.limits?.callsPerWindow ?? 100,
    windowMs: options.limits?.windowMs ?? 20_000,
    maxConcurrent: options.limits?.maxConcurrent ?? 10,
    dailyQuota: options.limits?.dailyQuota ?? 50_000,
    dailyQuotaReset: options.limits?.dailyQuotaReset ?? 'manual',
  };
  let latency = options.latency ?? { ms: 0, jitterMs: 0 };

  // Business clock (visibility of late activities, token and paging-token expiry). Default: the
  // world's now, advancing with real time. set()/advance() shift it, also over a caller's clock.
  const startedReal = Date.now();
  const baseClock = options.clock ?? (() => world.now + (Date.now() - startedReal));
  let clockOffset = 0;
  const clock: SandboxClock = {
    now: () => baseClock() + clockOffset,
    set(ms) {
      clockOffset = ms - baseClock();
    },
    advance(ms) {
      clockOffset += ms;
    },
  };

  const tokens = new Map<string, { expiresAt: number }>();
  let currentToken: string | undefined;
  const windowLog: number[] = [];
  let dailyUsed = 0;
  /** Calendar day in Chicago whose usage `dailyUsed` counts (see limits.dailyQuotaReset). */
  let quotaDay = chicagoDay(clock.now());
  let inFlight = 0;
  let requestSeq = 0;
  let customTypeSeq = 100_100;
  const customTypes = new Map<string, WorldActivityType & { status: 'draft' | 'approved' }>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const hex = (n: number) =>
    Math.floor(rand() * 16 ** n)
      .toString(16)
      .padStart(n, '0');
  const requestId = () => `${hex(4)}#${(Date.now() + requestSeq).toString(16)}`;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  // ---- helpers ---------------------------------------------------------------------------------

  const sendJson = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json;charset=UTF-8',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  };
  const envelopeError = (code: string, message?: string) => ({
    requestId: requestId(),
    success: false,
    errors: [{ code, message: message ?? ERROR_MESSAGES[code] ?? `Error ${code}` }],
  });

  const pruneWindow = (now: number) => {
    while (windowLog.length > 0 && (windowLog[0] ?? 0) <= now - limits.windowMs) windowLog.shift();
  };

  const tokenFor = (position: Omit<ActivityPosition, 'i'> | Omit<OffsetPosition, 'i'>, now: number): string =>
    encodePagingToken({ ...position, i: now });

  const readToken = (token: string | undefined, now: number): PagingPosition => {
    if (!token) throw new EnvelopeError('701', 'nextPageToken cannot be blank');
    const pos = decodePagingToken(token);
    if (!pos) throw new EnvelopeError('1003', `Invalid token value: ${token.slice(0, 40)}`);
    if (pagingTokenTtlMs !== undefined && now - pos.i > pagingTokenTtlMs)
      throw new EnvelopeError('1003', `Invalid token value: token expired`);
    return pos;
  };

  const parseIdList = (
    raw: string | undefined,
    name: string,
    max: number,
    required: boolean,
  ): number[] | undefined => {
    if (raw === undefined || raw.trim() === '') {
      if (required) throw new EnvelopeError('701', `${name} cannot be blank`);
      return undefined;
    }
    const ids = raw.split(',').map((s) => s.trim());
    if (ids.some((s) => !/^\d+$/.test(s)))
      throw new EnvelopeError('1001', `Invalid value '${raw}'. Required of type 'Integer'`);
    if (ids.length > max)
      throw new EnvelopeError('1003', `Too many values for '${name}': ${ids.length} (max ${max})`);
    return ids.map(Number);
  };

  const parseBatchSize = (raw: string | undefined): number => {
    if (raw === undefined || raw === '') return 300;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 300)
      throw new EnvelopeError('1003', `Invalid batchSize '${raw}' (1-300)`);
    return n;
  };

  /** One page of an activity stream: the shared engine of activities/leadchanges/deletedleads. */
  const activityPage = (
    ctx: RouteContext,
    matches: (a: WorldActivity) => boolean,
    present: (a: WorldActivity) => Record<string, unknown>,
  ): RouteResult => {
    const pos = readToken(ctx.params.nextPageToken, ctx.now);
    if (pos.kind !== 'a') throw new EnvelopeError('1003', 'Invalid token value: not an activity token');
    const batchSize = parseBatchSize(ctx.params.batchSize);
    const leadIds = parseIdList(ctx.params.leadIds, 'leadIds', 30, false);
    const leadSet = leadIds ? new Set(leadIds) : undefined;
    const visible = (a: WorldActivity) =>
      a.visibleAtMs <= ctx.now && matches(a) && (!leadSet || leadSet.has(a.leadId));
    const target = faults.pageSize(batchSize);
    const items: WorldActivity[] = [];
    let i = world.indexAfter(pos.t, pos.s);
    const acts = world.activities;
    for (; i < acts.length && items.length < target; i++) {
      const a = acts[i]!;
      if (visible(a)) items.push(a);
    }
    let more = false;
    for (let j = i; j < acts.length; j++) {
      if (visible(acts[j]!)) {
        more = true;
        break;
      }
    }
    const last = items[items.length - 1];
    const nextPos = last
      ? { kind: 'a' as const, t: last.dateMs, s: last.seq }
      : { kind: 'a' as const, t: pos.t, s: pos.s };
    return {
      nextPageToken: tokenFor(nextPos, ctx.now),
      moreResult: more,
      ...(items.length > 0 ? { result: items.map(present) } : {}),
    };
  };

  const leadView = (lead: WorldLead, fields: string[]) => {
    const out: Record<string, unknown> = { id: lead.id };
    for (const f of fields) out[f] = (lead as unknown as Record<string, unknown>)[f] ?? null;
    return out;
  };

  // ---- routes ----------------------------------------------------------------------------------

  type Handler = (ctx: RouteContext) => RouteResult;
  const routes: { method: string; pattern: RegExp; names: string[]; handler: Handler }[] = [];
  const route = (method: string, path: string, handler: Handler) => {
    const names: string[] = [];
    const pattern = new RegExp(
      `^${path.replace(/\{(\w+)\}/g, (_m, n: string) => {
        names.push(n);
        return '([^/]+)';
      })}$`,
    );
    routes.push({ method, pattern, names, handler });
  };

  route('GET', '/rest/v1/activities/pagingtoken.json', (ctx) => {
    const raw = ctx.params.sinceDatetime;
    if (!raw) throw new EnvelopeError('701', 'sinceDatetime cannot be blank');
    const ms = Date.parse(raw);
    if (!/^\d{4}-\d{2}-\d{2}/.test(raw) || Number.isNaN(ms))
      throw new EnvelopeError('1001', `Invalid value '${raw}'. Required of type 'Date'`);
    return { nextPageToken: tokenFor({ kind: 'a', t: ms, s: -1 }, ctx.now) };
  });

  route('GET', '/rest/v1/activities.json', (ctx) => {
    const typeIds = parseIdList(ctx.params.activityTypeIds, 'activityTypeIds', 10, true)!;
    const types = new Set(typeIds);
    return activityPage(
      ctx,
      (a) => types.has(a.activityTypeId),
      (a) => {
        const { fields: _f, ...rest } = publicActivity(a);
        return rest;
      },
    );
  });

  route('GET', '/rest/v1/activities/leadchanges.json', (ctx) => {
    const raw = ctx.params.fields;
    if (!raw) throw new EnvelopeError('701', 'fields cannot be blank');
    const wanted = new Set(raw.split(',').map((f) => f.trim().toLowerCase()));
    return activityPage(
      ctx,
      (a) =>
        a.activityTypeId === 12 ||
        (a.activityTypeId === 13 && (a.fields ?? []).some((f) => wanted.has(f.name.toLowerCase()))),
      (a) => {
        const pub = publicActivity(a);
        const fields = (a.fields ?? []).filter((f) => wanted.has(f.name.toLowerCase()));
        return { ...pub, fields };
      },
    );
  });

  route('GET', '/rest/v1/activities/deletedleads.json', (ctx) =>
    activityPage(
      ctx,
      (a) => a.activityTypeId === 37,
      (a) => publicActivity(a),
    ),
  );

  route('GET', '/rest/v1/activities/types.json', () => ({
    result: world.activityTypes.map(({ apiName: _a, ...t }) => t),
  }));

  route('GET', '/rest/v1/activities/external/types.json', () => ({
    result: [...customTypes.values()],
  }));

  route('POST', '/rest/v1/activities/external/type.json', (ctx) => {
    const body = ctx.body as {
      apiName?: string;
      name?: string;
      triggerName?: string;
      filterName?: string;
      description?: string;
      primaryAttribute?: { apiName?: string; name?: string; description?: string };
    };
    if (!body?.apiName || !body.name || !body.triggerName || !body.filterName || !body.primaryAttribute?.name)
      throw new EnvelopeError(
        '1003',
        'apiName, name, triggerName, filterName and primaryAttribute are required',
      );
    if (customTypes.size + world.activityTypes.filter((t) => t.id >= 100000).length >= 10)
      throw new EnvelopeError('1027', 'Max limit of 10 custom activity types reached');
    if (customTypes.has(body.apiName) || world.activityTypes.some((t) => t.apiName === body.apiName))
      throw new EnvelopeError('1003', `Custom activity type '${body.apiName}' already exists`);
    const type = {
      id: customTypeSeq++,
      apiName: body.apiName,
      name: body.name,
      description: body.description ?? '',
      primaryAttribute: {
        apiName: body.primaryAttribute.apiName ?? body.primaryAttribute.name,
        name: body.primaryAttribute.name,
        dataType: 'string',
      },
      attributes: [],
      status: 'draft' as const,
    };
    customTypes.set(body.apiName, type);
    return { result: [type] };
  });

  route('POST', '/rest/v1/activities/external/type/{apiName}/approve.json', (ctx) => {
    const apiName = ctx.pathParams.apiName ?? '';
    const type = customTypes.get(apiName);
    if (!type) throw new EnvelopeError('610', `Custom activity type '${apiName}' not found`);
    const approved = { ...type, status: 'approved' as const };
    customTypes.set(apiName, approved);
    if (!world.activityTypes.some((t) => t.id === type.id)) {
      const { status: _s, ...plain } = approved;
      world.activityTypes.push(plain);
    }
    return { result: [approved] };
  });

  registerCustomActivityRoutes({
    route,
    customTypes,
    world,
    fail: (code, message) => {
      throw new EnvelopeError(code, message);
    },
  });

  route('GET', '/rest/v1/leads.json', (ctx) => {
    const filterType = ctx.params.filterType;
    if (!filterType) throw new EnvelopeError('701', 'filterType cannot be blank');
    if (!['id', 'email', 'sfdcLeadId', 'sfdcContactId', 'sfdcAccountId'].includes(filterType))
      throw new EnvelopeError('1003', `Invalid filterType '${filterType}'`);
    const rawValues = ctx.params.filterValues;
    if (!rawValues) throw new EnvelopeError('701', 'filterValues cannot be blank');
    const values = rawValues.split(',');
    if (values.length > 300)
      throw new EnvelopeError('1003', `Too many filterValues: ${values.length} (max 300)`);
    const fields = ctx.params.fields
      ? ctx.params.fields.split(',').map((f) => f.trim())
      : DEFAULT_LEAD_FIELDS;
    const unknown = fields.find((f) => !(LEAD_FIELDS as readonly string[]).includes(f));
    if (unknown) throw new EnvelopeError('1006', `Field '${unknown}' not found`);
    const batchSize = parseBatchSize(ctx.params.batchSize);
    const matches: WorldLead[] = [];
    const seen = new Set<number>();
    for (const v of values) {
      for (const l of world.findLeads(filterType, v)) {
        if (!seen.has(l.id)) {
          seen.add(l.id);
          matches.push(l);
        }
      }
    }
    const fingerprint = `${filterType}:${rawValues.length}:${rawValues.slice(0, 32)}`;
    let offset = 0;
    if (ctx.params.nextPageToken) {
      const pos = readToken(ctx.params.nextPageToken, ctx.now);
      if (pos.kind !== 'o' || pos.q !== fingerprint) throw new EnvelopeError('1003', 'Invalid token value');
      offset = pos.n;
    }
    const page = matches.slice(offset, offset + batchSize);
    const more = offset + batchSize < matches.length;
    return {
      result: page.map((l) => leadView(l, fields)),
      ...(more
        ? {
            moreResult: true,
            nextPageToken: tokenFor({ kind: 'o', n: offset + batchSize, q: fingerprint }, ctx.now),
          }
        : {}),
    };
  });

  route('POST', '/rest/v1/leads.json', (ctx) => {
    const body = ctx.body as { action?: string; lookupField?: string; input?: Record<string, unknown>[] };
    if (!body || !Array.isArray(body.input)) throw new EnvelopeError('1003', 'input is required');
    if (body.input.length > 300)
      throw new EnvelopeError('1003', `Too many input records: ${body.input.length} (max 300)`);
    const action = body.action ?? 'createOrUpdate';
    if (!['createOnly', 'updateOnly', 'createOrUpdate', 'createDuplicate'].includes(action))
      throw new EnvelopeError('1003', `Invalid action '${action}'`);
    const lookupField = body.lookupField ?? 'email';
    const result = body.input.map((rec) => {
      const key = rec[lookupField];
      if (key === undefined || key === null || key === '')
        return {
          status: 'skipped',
          reasons: [{ code: '1003', message: `Value for lookup field '${lookupField}' missing` }],
        };
      const found = action === 'createDuplicate' ? [] : world.findLeads(lookupField, String(key));
      const existing = found[found.length - 1];
      if (existing && action === 'createOnly')
        return {
          id: existing.id,
          status: 'skipped',
          reasons: [{ code: '1005', message: 'Lead already exists' }],
        };
      if (!existing && action === 'updateOnly')
        return { status: 'skipped', reasons: [{ code: '1004', message: 'Lead not found' }] };
      const bad = Object.keys(rec).find(
        (k) => k !== lookupField && k !== 'id' && !WRITABLE_LEAD_FIELDS.has(k),
      );
      if (bad) return { status: 'skipped', reasons: [{ code: '1006', message: `Field '${bad}' not found` }] };
      if (!existing) {
        const email = typeof rec.email === 'string' ? rec.email : '';
        const lead = world.createLead(
          {
            email,
            firstName: typeof rec.firstName === 'string' ? rec.firstName : '',
            lastName: typeof rec.lastName === 'string' ? rec.lastName : '',
          },
          ctx.now,
        );
        return { id: lead.id, status: 'created' };
      }
      if (typeof rec.unsubscribed === 'boolean' || typeof rec.unsubscribedReason === 'string') {
        world.recordLeadChange(existing.id, {
          unsubscribed: typeof rec.unsubscribed === 'boolean' ? rec.unsubscribed : existing.unsubscribed,
          ...(typeof rec.unsubscribedReason === 'string' ? { reason: rec.unsubscribedReason } : {}),
          at: ctx.now,
          source: 'Web service API',
        });
      }
      for (const f of ['email', 'firstName', 'lastName', 'company'] as const) {
        if (typeof rec[f] === 'string' && f !== lookupField)
          world.recordFieldChange(existing.id, f, rec[f], ctx.now);
      }
      return { id: existing.id, status: 'updated' };
    });
    return { result };
  });

  route('POST', '/rest/v1/activities/external.json', (ctx) => {
    const body = ctx.body as { input?: Record<string, unknown>[] };
    if (!body || !Array.isArray(body.input)) throw new EnvelopeError('1003', 'input is required');
    if (body.input.length > 300)
      throw new EnvelopeError('1003', `Too many input records: ${body.input.length} (max 300)`);
    const result = body.input.map((rec) => {
      const skip = (code: string, message: string) => ({ status: 'skipped', errors: [{ code, message }] });
      const leadId = Number(rec.leadId);
      if (!Number.isInteger(leadId) || !world.lead(leadId)) return skip('1004', 'Lead not found');
      const typeId = Number(rec.activityTypeId);
      const type = world.activityTypes.find((t) => t.id === typeId);
      if (!type || typeId < 100000)
        return skip('1003', `Invalid activityTypeId '${String(rec.activityTypeId)}'`);
      if (typeof rec.primaryAttributeValue !== 'string' || rec.primaryAttributeValue === '')
        return skip('1003', 'primaryAttributeValue is required');
      const date = typeof rec.activityDate === 'string' ? Date.parse(rec.activityDate) : Number.NaN;
      if (Number.isNaN(date))
        return skip('1001', `Invalid value '${String(rec.activityDate)}'. Required of type 'Date'`);
      const attrs = Array.isArray(rec.attributes) ? (rec.attributes as Record<string, unknown>[]) : [];
      if (Buffer.byteLength(JSON.stringify(attrs)) > 65_536)
        return skip('1049', 'Attribute values exceed 65536 bytes');
      const added = world.addActivity({
        leadId,
        activityDate: new Date(date).toISOString(),
        activityTypeId: typeId,
        primaryAttributeValue: rec.primaryAttributeValue,
        attributes: attrs.map((a) => ({
          name: String(a.name ?? a.apiName ?? ''),
          value:
            typeof a.value === 'number' || typeof a.value === 'boolean' ? a.value : String(a.value ?? ''),
        })),
        visibleAtMs: ctx.now,
      });
      return { id: added.id, marketoGUID: added.marketoGUID, status: 'added' };
    });
    return { result };
  });

  // ---- request pipeline ------------------------------------------------------------------------

  const readBody = (req: IncomingMessage): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });

  const redactHeaders = (req: IncomingMessage): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined) continue;
      const value = Array.isArray(v) ? v.join(', ') : v;
      if (k === 'authorization') out[k] = value.replace(/^(\S+)\s+.*$/, '$1 <redacted>');
      else if (k === 'cookie') out[k] = '<redacted>';
      else out[k] = value;
    }
    return out;
  };

  const applyFault = async (
    f: MarketoFault,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<{ result: string; counted: boolean } | undefined> => {
    switch (f.kind) {
      case 'http':
        res.writeHead(f.status, { 'content-type': 'text/html' });
        res.end(`<html><body><h1>${f.status} Server Error</h1></body></html>`);
        return { result: `http${f.status}`, counted: false };
      case 'timeout':
        await sleep(f.hangMs ?? 600_000);
        req.socket.destroy();
        return { result: 'timeout', counted: false };
      case 'drop': {
        res.writeHead(200, { 'content-type': 'application/json;charset=UTF-8', 'content-length': 4096 });
        res.write('{"requestId":"dead#beef","success":true,"result":[{"id":');
        await sleep(5);
        req.socket.destroy();
        return { result: 'drop', counted: false };
      }
      default:
        return undefined;
    }
  };

  const handleIdentity = (url: URL, res: ServerResponse): string => {
    const q = url.searchParams;
    if (q.get('grant_type') !== 'client_credentials') {
      sendJson(res, 400, { error: 'invalid_request', error_description: 'Unsupported grant type' });
      return 'http400';
    }
    if (q.get('client_id') !== clientId || q.get('client_secret') !== clientSecret) {
      sendJson(res, 401, { error: 'unauthorized', error_description: 'Bad client credentials' });
      return 'http401';
    }
    const now = clock.now();
    const existing = currentToken ? tokens.get(currentToken) : undefined;
    if (!currentToken || !existing || existing.expiresAt <= now) {
      currentToken = `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}:ab`;
      tokens.set(currentToken, { expiresAt: now + tokenLifetimeMs });
    }
    const expiresAt = tokens.get(currentToken)!.expiresAt;
    sendJson(res, 200, {
      access_token: currentToken,
      token_type: 'bearer',
      expires_in: Math.max(0, Math.floor((expiresAt - now) / 1000)),
      scope: 'sync-integration@example.com',
    });
    return '200';
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const arrival = clock.now();
    const rawUrl = req.url ?? '/';
    const url = new URL(rawUrl, 'http://sandbox.local');
    const method = req.method ?? 'GET';
    const bodyBuf = await readBody(req);
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams)
      query[k] = k === 'client_secret' || k === 'access_token' ? '<redacted>' : v;
    const rec: RecordedRequest = {
      seq: ++requestSeq,
      at: arrival,
      method,
      effectiveMethod: method,
      path: url.pathname,
      query,
      headers: redactHeaders(req),
      result: '200',
      counted: false,
    };
    const finish = (result: string, counted = false) => {
      rec.result = result;
      rec.counted = counted;
      stats.record(rec);
    };

    if (Buffer.byteLength(rawUrl) > maxUriBytes) {
      res.writeHead(414, { 'content-type': 'text/html' });
      res.end('<html><body>414 Request-URI Too Long</body></html>');
      return finish('http414');
    }
    if (bodyBuf.length > 1_048_576) {
      res.writeHead(413, { 'content-type': 'text/html' });
      res.end('<html><body>413 Request Entity Too Large</body></html>');
      return finish('http413');
    }

    // Parameters: query, plus a form body for POST `_method=GET`.
    const params: Params = {};
    for (const [k, v] of url.searchParams) params[k] = v;
    let body: unknown;
    const contentType = String(req.headers['content-type'] ?? '');
    if (method === 'POST' && contentType.startsWith('application/x-www-form-urlencoded')) {
      const form = new URLSearchParams(bodyBuf.toString('utf8'));
      const formParams: Record<string, string> = {};
      for (const [k, v] of form) formParams[k] = v;
      Object.assign(params, formParams);
      body = formParams;
    }
    if (params._method === 'GET' && method === 'POST') rec.effectiveMethod = 'GET';
    delete params._method;
    const effective = rec.effectiveMethod;

    const f = faults.pick(effective, url.pathname);
    if (f) {
      const outcome = await applyFault(f, req, res);
      if (outcome) return finish(outcome.result, outcome.counted);
    }

    if (url.pathname === '/identity/oauth/token') {
      if (f?.kind === 'envelope') {
        sendJson(res, 401, { error: 'unauthorized', error_description: f.message ?? 'Injected failure' });
        return finish('http401');
      }
      if (method !== 'GET' && method !== 'POST') {
        res.writeHead(405).end();
        return finish('http405');
      }
      return finish(handleIdentity(url, res));
    }

    if (!url.pathname.startsWith('/rest/v1/')) {
      sendJson(res, 404, envelopeError('610'));
      return finish('http404');
    }

    // JSON body for write endpoints.
    if (method === 'POST' && effective === 'POST') {
      if (!contentType.startsWith('application/json')) {
        sendJson(res, 200, envelopeError('612'));
        return finish('612', true);
      }
      try {
        body = JSON.parse(bodyBuf.toString('utf8') || 'null');
      } catch {
        sendJson(res, 200, envelopeError('609'));
        return finish('609', true);
      }
    }
    rec.body = body;

    // Authentication: only the Authorization header is accepted.
    const auth = String(req.headers.authorization ?? '');
    const bearer = /^Bearer\s+(\S+)$/i.exec(auth)?.[1];
    const tokenInfo = bearer ? tokens.get(bearer) : undefined;
    const authError = (() => {
      if (url.searchParams.has('access_token')) return '601';
      if (!bearer || !tokenInfo) return '601';
      if (tokenInfo.expiresAt <= arrival) return '602';
      return undefined;
    })();
    if (authError) {
      sendJson(res, 200, envelopeError(authError));
      return finish(authError, false);
    }

    // Limits run on wall-clock time (the sandbox clock may be frozen or moved by a test).
    const wallArrival = Date.now();
    /** Rejections are counted at once; accepted calls reserve their slot on arrival (see below). */
    const outcome = (code: string) => {
      const counted = !UNCOUNTED.has(code);
      if (counted) {
        windowLog.push(wallArrival);
        dailyUsed += 1;
        stats.maxInWindowObserved = Math.max(stats.maxInWindowObserved, windowLog.length);
      }
      return counted;
    };
    let reserved = false;
    /** Final outcome of an accepted call: give the reserved slot back when its code is not counted. */
    const settle = (code: string) => {
      const counted = !UNCOUNTED.has(code);
      if (reserved && !counted) {
        const idx = windowLog.indexOf(wallArrival);
        if (idx >= 0) windowLog.splice(idx, 1);
        dailyUsed -= 1;
      }
      return counted;
    };

    // Instance-wide limits, in the order Marketo applies them.
    pruneWindow(wallArrival);
    if (limits.dailyQuotaReset === 'chicagoMidnight' && chicagoDay(arrival) !== quotaDay) {
      quotaDay = chicagoDay(arrival);
      dailyUsed = 0;
    }
    if (dailyUsed >= limits.dailyQuota) {
      sendJson(res, 200, envelopeError('607'));
      return finish('607', outcome('607'));
    }
    if (windowLog.length >= limits.callsPerWindow) {
      sendJson(res, 200, envelopeError('606'));
      return finish('606', outcome('606'));
    }
    if (inFlight >= limits.maxConcurrent) {
      sendJson(res, 200, envelopeError('615'));
      return finish('615', outcome('615'));
    }

    windowLog.push(wallArrival);
    dailyUsed += 1;
    reserved = true;
    stats.maxInWindowObserved = Math.max(stats.maxInWindowObserved, windowLog.length);
    inFlight += 1;
    stats.maxConcurrentObserved = Math.max(stats.maxConcurrentObserved, inFlight);
    try {
      const delay = latency.ms + (latency.jitterMs ? rand() * latency.jitterMs : 0);
      if (delay > 0) await sleep(delay);

      if (f?.kind === 'envelope') {
        sendJson(res, 200, envelopeError(f.code, f.message));
        return finish(f.code, settle(f.code));
      }

      const r = routes.find((x) => x.method === effective && x.pattern.test(url.pathname));
      if (!r) {
        const exists = routes.some((x) => x.pattern.test(url.pathname));
        const code = exists ? '605' : '610';
        sendJson(res, 200, envelopeError(code));
        return finish(code, settle(code));
      }
      const m = r.pattern.exec(url.pathname)!;
      const pathParams: Record<string, string> = {};
      r.names.forEach((n, i) => {
        pathParams[n] = decodeURIComponent(m[i + 1] ?? '');
      });
      try {
        if (f?.kind === 'pagingTokenRejected')
          throw new EnvelopeError('1003', 'Invalid token value: token expired');
        const result = r.handler({ params, body, now: clock.now(), pathParams });
        sendJson(res, 200, { requestId: requestId(), success: true, ...result });
        return finish('200', settle('200'));
      } catch (err) {
        if (!(err instanceof EnvelopeError)) throw err;
        sendJson(res, 200, envelopeError(err.code, err.message));
        return finish(err.code, settle(err.code));
      }
    } finally {
      inFlight -= 1;
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: 'sandbox failure', message: (err as Error).message });
      else res.destroy();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    world,
    faults,
    stats,
    clock,
    limits,
    credentials: { clientId, clientSecret },
    customTypes,
    setLatency(ms, jitterMs = 0) {
      latency = { ms, jitterMs };
    },
    dailyUsed: () => dailyUsed,
    resetDailyQuota() {
      dailyUsed = 0;
    },
    spendDailyQuota(calls) {
      dailyUsed += calls;
    },
    expireTokens() {
      for (const t of tokens.values()) t.expiresAt = Math.min(t.expiresAt, clock.now() - 1);
    },
    revokeTokens() {
      tokens.clear();
      currentToken = undefined;
    },
    async stop() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
