import { Logger } from '@aws-lambda-powertools/logger';
import type { Activity, ActivityType } from '../../domain/activity.js';
import type {
  ActivityPage,
  CustomActivityInput,
  CustomActivityResult,
  Lead,
  LeadChange,
  LeadFilterType,
  MarketoApi,
  MarketoCallCounts,
  SyncLeadResult,
} from '../../ports/marketo-api.js';
import { type CallGovernor, InMemoryCallGovernor, realSleep } from './call-governor.js';
import * as activities from './endpoints/activities.js';
import { ActivityExportEndpoints } from './endpoints/activity-export.js';
import * as customActivities from './endpoints/custom-activities.js';
import * as leads from './endpoints/leads.js';
import { MarketoAuth } from './marketo-auth.js';
import { type MarketoCall, MarketoCaller, type MarketoLogger } from './marketo-call.js';
import type { CustomActivityType, Envelope } from './marketo-schemas.js';
import { type Deadline, MarketoTransport, type Operation, type TimeoutKind } from './marketo-transport.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicyOptions } from './retry-policy.js';

export type { MarketoLogger } from './marketo-call.js';
export { DEFAULT_TIMEOUTS, type TimeoutKind } from './marketo-transport.js';

export interface MarketoClientOptions {
  /** REST base, e.g. `https://123-ABC-456.mktorest.com` (identity at `{base}/identity`). */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  fetch?: typeof globalThis.fetch;
  sleep?: (ms: number) => Promise<void>;
  clock?: () => number;
  random?: () => number;
  /** Aborts a request after its timeout (default: a real timer). */
  deadline?: Deadline;
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

/**
 * The Marketo REST client (hand-written: no maintained library exists), a façade over layers:
 * transport (marketo-transport.ts: HTTP, timeouts, long-URI fallback), auth (marketo-auth.ts:
 * token cache), the call layer (marketo-call.ts: governor lease, counts, typed errors) consulting
 * the retry table (retry-policy.ts), and one module per endpoint family (endpoints/*.ts).
 *
 * Adding an endpoint: declare its Operation in an endpoints module (or a new one), write a function
 * `(call: MarketoCall, params) => Promise<Result>` that validates the request, sends it through
 * `call` and parses `result` with a zod schema (endpoints/results.ts), then add a one-line method
 * here (and to the MarketoApi port if use cases need it).
 */
export class MarketoClient implements MarketoApi {
  private readonly auth: MarketoAuth;
  private readonly caller: MarketoCaller;
  private readonly call: MarketoCall;
  /** Bulk Activity Extract (create → enqueue → status → file), through the same call layer. */
  readonly bulkExport: ActivityExportEndpoints;

  constructor(options: MarketoClientOptions) {
    const clock = options.clock ?? Date.now;
    const logger = options.logger ?? new Logger({ serviceName: 'marketo-client' });
    const transport = new MarketoTransport({
      baseUrl: options.baseUrl,
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.timeouts ? { timeouts: options.timeouts } : {}),
      ...(options.maxUriBytes !== undefined ? { maxUriBytes: options.maxUriBytes } : {}),
      ...(options.deadline ? { deadline: options.deadline } : {}),
    });
    this.auth = new MarketoAuth(transport, {
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      clock,
      ...(options.tokenRenewMarginMs !== undefined ? { renewMarginMs: options.tokenRenewMarginMs } : {}),
      onToken: (expiresInSec) => logger.debug('Marketo access token obtained', { expiresInSec }),
    });
    this.caller = new MarketoCaller({
      transport,
      auth: this.auth,
      governor: options.governor ?? new InMemoryCallGovernor({ callsPerWindow: 50, maxConcurrent: 5 }),
      policy: { ...DEFAULT_RETRY_POLICY, ...options.retry },
      clock,
      sleep: options.sleep ?? realSleep,
      random: options.random ?? Math.random,
      logger,
    });
    this.call = this.caller.call;
    this.bulkExport = new ActivityExportEndpoints(this.call, (op, query, headers) =>
      this.caller.callForFile(op, query, headers),
    );
  }

  // ---- MarketoApi ------------------------------------------------------------------------------

  getPagingToken(sinceDatetime: Date): Promise<string> {
    return activities.getPagingToken(this.call, sinceDatetime);
  }

  getActivities(params: {
    nextPageToken: string;
    activityTypeIds: number[];
    batchSize?: number;
  }): Promise<ActivityPage<Activity>> {
    return activities.getActivities(this.call, params);
  }

  getLeadChanges(params: {
    nextPageToken: string;
    fields: string[];
    batchSize?: number;
  }): Promise<ActivityPage<LeadChange>> {
    return activities.getLeadChanges(this.call, params);
  }

  getDeletedLeads(params: { nextPageToken: string; batchSize?: number }): Promise<ActivityPage<LeadChange>> {
    return activities.getDeletedLeads(this.call, params);
  }

  getActivityTypes(): Promise<ActivityType[]> {
    return activities.getActivityTypes(this.call);
  }

  getLeads(params: {
    filterType: LeadFilterType;
    filterValues: (string | number)[];
    fields: string[];
  }): Promise<Lead[]> {
    return leads.getLeads(this.call, params);
  }

  syncLeads(params: {
    action: 'createOnly' | 'updateOnly' | 'createOrUpdate';
    lookupField: string;
    input: Record<string, unknown>[];
  }): Promise<SyncLeadResult[]> {
    return leads.syncLeads(this.call, params);
  }

  addCustomActivities(input: CustomActivityInput[]): Promise<CustomActivityResult[]> {
    return customActivities.addCustomActivities(this.call, input);
  }

  callCounts(): MarketoCallCounts {
    return this.caller.callCounts();
  }

  // ---- additions beyond the port (custom activity type set-up) ---------------------------------

  /** Identity calls made (free; not in callCounts().total). */
  identityCalls(): number {
    return this.auth.identityCalls();
  }

  getCustomActivityTypes(): Promise<CustomActivityType[]> {
    return customActivities.getCustomActivityTypes(this.call);
  }

  /** Creates a draft custom activity type (`POST /rest/v1/activities/external/type.json`). */
  createCustomActivityType(input: customActivities.CustomActivityTypeInput): Promise<CustomActivityType> {
    return customActivities.createCustomActivityType(this.call, input);
  }

  /** Approves a draft custom activity type so activities can be added to it. */
  approveCustomActivityType(apiName: string): Promise<CustomActivityType> {
    return customActivities.approveCustomActivityType(this.call, apiName);
  }

  /**
   * A documented endpoint the methods above do not wrap (custom-activity-endpoints.ts uses it),
   * through the same governor, retry table and error mapping as every other call.
   */
  request(op: MarketoRequest, query: Record<string, string> = {}, body?: unknown): Promise<Envelope> {
    return this.call({ ...op, timeout: op.method === 'GET' ? 'activities' : 'writes' }, query, body);
  }
}

/** An endpoint for MarketoClient.request: `idempotent` = safe to re-send after an ambiguous failure. */
export type MarketoRequest = Pick<Operation, 'method' | 'path' | 'idempotent'>;
