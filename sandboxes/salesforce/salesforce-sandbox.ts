/**
 * A Salesforce org on loopback that speaks the documented REST contract: OAuth 2.0
 * client-credentials, sObject Collections, SOQL query with nextRecordsUrl paging, /limits,
 * Bulk API 2.0 ingest, `Sforce-Limit-Info` on every response, the documented error shapes.
 *
 * The token endpoint listens on `loginUrl`, the data API on `instanceUrl` (a second port),
 * so a client that ignores `instance_url` fails here as it would against a real org.
 *
 * Layout: `sandbox-state.ts` (the shared state and the route context), `pipeline.ts` (session,
 * limits, faults, dispatch), `router.ts` (request kind → handler), one module per route family
 * under `routes/` (oauth, limits, query, collections, bulk-ingest).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleRequest } from './pipeline.js';
import type { FaultController, RequestKind } from './sandbox-faults.js';
import {
  type BulkJobView,
  createSalesforceState,
  type RequestLogEntry,
  type SalesforceSandboxOptions,
} from './sandbox-state.js';
import type { SandboxStore, SfRecord } from './sandbox-store.js';

export type { FaultKind, FaultOptions, RequestKind } from './sandbox-faults.js';
export type { BulkJobView, RequestLogEntry, SalesforceSandboxOptions } from './sandbox-state.js';
export type {
  SandboxSeed,
  SaveResult,
  SeedContact,
  SeedLead,
  SfRecord,
  WriteLogEntry,
} from './sandbox-store.js';

export interface SandboxStats {
  readonly requests: RequestLogEntry[];
  /** API requests by kind (oauth included as its own kind; it does not count against limits). */
  countByKind(): Record<string, number>;
  /** Records per call for one kind, in call order. */
  recordsPerCall(kind: RequestKind): number[];
  apiVersions(): string[];
  reset(): void;
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

const listen = (server: Server): Promise<number> =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });

const close = (server: Server) =>
  new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });

export async function startSalesforceSandbox(
  options: SalesforceSandboxOptions = {},
): Promise<SalesforceSandbox> {
  const state = createSalesforceState(options);
  const { log, store, usage, jobs } = state;
  const loginServer = createServer((req, res) => void handleRequest(state, req, res, 'login'));
  const instanceServer = createServer((req, res) => void handleRequest(state, req, res, 'instance'));
  state.loginUrl = `http://127.0.0.1:${await listen(loginServer)}`;
  state.instanceUrl = `http://127.0.0.1:${await listen(instanceServer)}`;

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

  return {
    loginUrl: state.loginUrl,
    instanceUrl: state.instanceUrl,
    clientId: state.clientId,
    clientSecret: state.clientSecret,
    state: store,
    faults: state.faults,
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
          state: jobState,
          numberRecordsProcessed,
          numberRecordsFailed,
        }) => ({
          id,
          object,
          operation,
          externalIdFieldName,
          state: jobState,
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
      for (const t of state.timers) clearTimeout(t);
      state.timers.clear();
      await Promise.all([close(loginServer), close(instanceServer)]);
    },
  };
}
