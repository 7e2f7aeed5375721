import {
  type ActivityCycleOptions,
  type ActivityCycleSummary,
  runActivityCycle,
} from '../../cli/commands/activities.js';
import { type LocalEnvironment, startLocalEnvironment } from '../../cli/embedded/local-environment.js';
import type { MarketoSandboxOptions } from '../../sandboxes/marketo/marketo-sandbox.js';
import type { SalesforceSandboxOptions } from '../../sandboxes/salesforce/salesforce-sandbox.js';
import { createWorld, type World, type WorldOptions } from '../../sandboxes/world.js';
import { DynamoDbCallGovernor } from '../../shared/adapters/marketo/dynamodb-call-governor.js';
import {
  DEFAULT_SETTINGS_INPUT,
  parseSettings,
  type Settings,
  type SettingsInput,
} from '../../shared/config/settings.js';
import { createLogger } from '../../shared/observability/logger.js';

/** Marketo budget scaled to a 2 s window so tests keep the same shape as 50 / 20 s without the wait. */
export const TEST_WINDOW_MS = 2_000;

export interface Embedded {
  local: LocalEnvironment;
  world: World;
  settings: Settings;
  runCycle(options?: ActivityCycleOptions): Promise<ActivityCycleSummary>;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  world?: WorldOptions;
  settings?: (input: SettingsInput) => SettingsInput;
  marketo?: Omit<MarketoSandboxOptions, 'world'>;
  salesforce?: Omit<SalesforceSandboxOptions, 'seed'>;
  visibilitySeconds?: number;
}

/** The embedded default in memory (no dataDir), with a small world and a fast Marketo window. */
export async function startEmbedded(options: EmbeddedOptions = {}): Promise<Embedded> {
  const world = createWorld({
    seed: 7,
    people: 300,
    activities: 2_500,
    days: 90,
    now: Date.now(),
    ...options.world,
  });
  // Back-fills by REST paging unless a test asks for bulk export: the export estimate's two calls
  // per stream would shift the seeded sandbox's page sequence that crash and fault tests aim at.
  const input: SettingsInput = {
    ...structuredClone(DEFAULT_SETTINGS_INPUT),
    activities: { ...structuredClone(DEFAULT_SETTINGS_INPUT.activities), backfill: { exportAbove: 0 } },
  };
  const settings = parseSettings(options.settings ? options.settings(input) : input);
  const logger = createLogger('test', { logLevel: process.env.TEST_LOG_LEVEL ?? 'CRITICAL' });
  const vis = options.visibilitySeconds ?? 30;
  const local = await startLocalEnvironment({
    settings,
    logger,
    env: {},
    world,
    marketoSandbox: {
      limits: { windowMs: TEST_WINDOW_MS, callsPerWindow: 100, maxConcurrent: 10 },
      ...options.marketo,
    },
    ...(options.salesforce ? { salesforceSandbox: options.salesforce } : {}),
    visibilityTimeoutSeconds: { fetch: vis, write: vis, unsubscribe: vis },
  });
  const governor = () =>
    new DynamoDbCallGovernor({
      doc: local.platform.doc,
      tableName: local.platform.tables.governor,
      callsPerWindow: settings.marketo.callsPer20s,
      maxConcurrent: settings.marketo.maxConcurrent,
      windowMs: TEST_WINDOW_MS,
    });
  return {
    local,
    world,
    settings,
    runCycle: (o = {}) => runActivityCycle(local, { governor: governor(), timeoutMs: 120_000, ...o }),
    stop: () => local.stop(),
  };
}

/** What a perfect sync must have produced: one Task per eligible activity, on the right WhoId. */
export function expectedTasks(
  e: Embedded,
  options: { untilMs?: number; sinceMs?: number } = {},
): Map<string, string> {
  const enabled = new Map<number, string>();
  const byName = new Map(e.world.activityTypes.map((t) => [t.name.toLowerCase(), t.id]));
  for (const t of e.settings.activities.types) {
    const id = byName.get(t.name.toLowerCase());
    if (t.enabled && id !== undefined) enabled.set(id, t.name);
  }
  const sinceMs = options.sinceMs ?? Date.now() - e.settings.activities.lookbackDays * 86_400_000 - 60_000;
  const out = new Map<string, string>();
  for (const a of e.world.visibleActivities(options.untilMs ?? Date.now(), [...enabled.keys()], sinceMs)) {
    const lead = e.world.lead(a.leadId);
    if (!lead || e.world.deletedLeadIds.has(a.leadId)) continue;
    const who =
      lead.sfdcType === 'Contact' ? lead.sfdcContactId : lead.sfdcType === 'Lead' ? lead.sfdcLeadId : null;
    if (who) out.set(a.marketoGUID, who);
  }
  return out;
}

/** Tasks in the Salesforce sandbox by Marketo activity id (more than one = a duplicate). */
export function tasksByActivity(e: Embedded): Map<string, { Id: string; WhoId: unknown }[]> {
  const out = new Map<string, { Id: string; WhoId: unknown }[]>();
  for (const t of e.local.salesforceSandbox!.state.tasks.values()) {
    const key = String(t.Marketo_Activity_Id__c);
    out.set(key, [...(out.get(key) ?? []), { Id: t.Id, WhoId: t.WhoId }]);
  }
  return out;
}

/** How many Tasks each Marketo activity id has in the Salesforce sandbox. */
export function taskCountsByActivity(e: Embedded): Map<string, number> {
  return new Map([...tasksByActivity(e)].map(([guid, tasks]) => [guid, tasks.length]));
}

/** Exactly-once check: counts of missing, duplicate, wrong-WhoId and unexpected Tasks. */
export function reconcile(
  expected: Map<string, string>,
  actual: Map<string, { Id: string; WhoId: unknown }[]>,
) {
  let missing = 0;
  let duplicates = 0;
  let wrongWho = 0;
  for (const [guid, who] of expected) {
    const tasks = actual.get(guid) ?? [];
    if (tasks.length === 0) missing++;
    if (tasks.length > 1) duplicates += tasks.length - 1;
    if (tasks.some((t) => t.WhoId !== who)) wrongWho++;
  }
  let unexpected = 0;
  for (const guid of actual.keys()) if (!expected.has(guid)) unexpected++;
  return { expected: expected.size, missing, duplicates, wrongWho, unexpected };
}
