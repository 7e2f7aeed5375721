import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { World } from '../world.js';
import { BulkExportState } from './bulk-export-state.js';
import { registerCustomActivityRoutes } from './custom-activity-routes.js';
import { EnvelopeError } from './envelope.js';
import type { FaultController } from './fault-controller.js';
import { sendJson } from './http.js';
import { handleRequest } from './pipeline.js';
import { Router } from './router.js';
import { activityRoutes } from './routes/activities.js';
import { bulkExportRoutes } from './routes/bulk-export.js';
import { customActivityRoutes } from './routes/custom-activities.js';
import { leadRoutes } from './routes/leads.js';
import {
  type CustomActivityType,
  createMarketoState,
  type MarketoSandboxLimits,
  type MarketoSandboxOptions,
  type SandboxClock,
} from './sandbox-state.js';
import type { SandboxStats } from './sandbox-stats.js';

/**
 * A Marketo Engage REST sandbox on loopback that follows the documented contract
 * (shared/API-NOTES.md, reference/marketo/swagger-*.json): client-credentials identity, Bearer
 * tokens only, errors as HTTP 200 envelopes, paging tokens with short and empty pages, the
 * instance-wide limits (100 calls / 20 s, 10 concurrent, daily quota) and seeded fault injection.
 *
 * Layout: `sandbox-state.ts` (the shared state), `pipeline.ts` (auth, limits, faults, dispatch),
 * `router.ts`, and one module per route family under `routes/` (identity, activities, leads,
 * custom activities, bulk activity export). A new route family is a `xxxRoutes(router, state)` function added below.
 */

export type {
  CustomActivityType,
  MarketoSandboxLimits,
  MarketoSandboxOptions,
  SandboxClock,
} from './sandbox-state.js';
export { type RecordedRequest, SandboxStats } from './sandbox-stats.js';

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
  customTypes: Map<string, CustomActivityType>;
  /** Bulk Activity Extract jobs, the daily export allowance used (`usedBytes`) and its limits. */
  bulkExport: BulkExportState;
  stop(): Promise<void>;
}

export async function startMarketoSandbox(options: MarketoSandboxOptions = {}): Promise<MarketoSandbox> {
  const state = createMarketoState(options);
  const router = new Router();
  activityRoutes(router, state);
  customActivityRoutes(router, state);
  registerCustomActivityRoutes({
    route: (method, path, handler) => router.route(method as 'GET' | 'POST', path, handler),
    customTypes: state.customTypes,
    world: state.world,
    fail: (code, message) => {
      throw new EnvelopeError(code, message);
    },
  });
  leadRoutes(router, state);
  const bulkExport = new BulkExportState(options.bulkExport);
  bulkExportRoutes(router, state, bulkExport);

  const server: Server = createServer((req, res) => {
    handleRequest(state, router, req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: 'sandbox failure', message: (err as Error).message });
      else res.destroy();
    });
  });
  server.on('connection', (s) => {
    state.sockets.add(s);
    s.on('close', () => state.sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    world: state.world,
    faults: state.faults,
    stats: state.stats,
    clock: state.clock,
    limits: state.limits,
    credentials: { clientId: state.clientId, clientSecret: state.clientSecret },
    customTypes: state.customTypes,
    bulkExport,
    setLatency(ms, jitterMs = 0) {
      state.latency = { ms, jitterMs };
    },
    dailyUsed: () => state.dailyUsed,
    resetDailyQuota() {
      state.dailyUsed = 0;
    },
    spendDailyQuota(calls) {
      state.dailyUsed += calls;
    },
    expireTokens() {
      for (const t of state.tokens.values()) t.expiresAt = Math.min(t.expiresAt, state.clock.now() - 1);
    },
    revokeTokens() {
      state.tokens.clear();
      state.currentToken = undefined;
    },
    async stop() {
      for (const t of state.timers) clearTimeout(t);
      state.timers.clear();
      for (const s of state.sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
