import type { ApiHandler } from '../sandbox-state.js';

/**
 * `GET /services/data/` (versions) and `GET /services/data/vXX.X/limits` (Salesforce REST API
 * Developer Guide, "Versions" and "Limits" resources): DailyApiRequests Max/Remaining as the org
 * counts it; the Bulk allocations are the sandbox's fixed values.
 */

export const versions: ApiHandler = ({ reply, version }) =>
  reply(200, [{ label: 'Sandbox', url: `/services/data/v${version}`, version }]);

export const limits: ApiHandler = ({ reply, state }) =>
  reply(200, {
    DailyApiRequests: {
      Max: state.usage.limit,
      Remaining: Math.max(0, state.usage.limit - state.usage.used),
    },
    DailyBulkV2QueryJobs: { Max: 10000, Remaining: 10000 },
    DailyBulkApiBatches: { Max: 15000, Remaining: 15000 - state.jobs.size },
  });
