/**
 * `npm run bench -- [options]`: parsing, presets and the settings each run uses. Pure (unit-tested).
 */
import {
  DEFAULT_SETTINGS_INPUT,
  parseSettings,
  type Settings,
  type SettingsInput,
} from '../shared/config/settings.js';

export const USAGE = `npm run bench -- [options]

  --activities N            activities the back-fill reads (default 100000; --quick: 10000)
  --quick                   smoke run: 10k activities, every time scaled by 1/10 (2 s rate
                            window, 30 ms / 20 ms latency), 3 cold-start samples
  --window-ms N             Marketo rate window of the sandbox and our governor (default 20000)
  --marketo-latency-ms N    per-call latency of the Marketo sandbox (default 300)
  --salesforce-latency-ms N per-call latency of the Salesforce sandbox (default 200)
  --backfill-windows N      activities.backfillWindows (default: the setting's default, 8)
  --salesforce MODE         collections | bulk | default (bulkThreshold 1e9 | 1 | the setting's 2000)
  --lead-cache on|off       off sets activities.leadCacheTtlSeconds to 0
  --backfill-export         the back-fill by Marketo Bulk Activity Extract (exportAbove 1,
                            pollSeconds 1): Marketo REST calls per 1M activities, target ≤ 500;
                            every other preset reads by REST paging (exportAbove: never)
  --calls-per-20s N         marketo.callsPer20s, our budget (default 50)
  --max-concurrent N        marketo.maxConcurrent (default 5)
  --short-pages P           share of Marketo pages the sandbox cuts short while moreResult
                            stays true (documented behaviour; default 0.1, the sandbox's)
  --empty-pages P           share it returns empty (default 0.05); 0 and 0 = an ideal vendor
  --seed N                  world seed (default 20261015)
  --no-bundles              skip bundle size, cold start and peak RSS (no esbuild, faster)
  --only bundles            only bundle size and cold import per function, against the bundle
                            targets (no back-fill, no peak RSS); writes <date>-bundles.json
  --cold-runs N             fresh-process imports per function (default 5; --quick: 3)
  --compare                 run the presets (default, --backfill-windows 1, --salesforce
                            collections, --salesforce bulk, --lead-cache off, --backfill-export)
                            and print one table
  --out DIR                 results directory (default bench/results)
  --help
`;

export type SalesforceMode = 'default' | 'collections' | 'bulk';

/** The Marketo sandbox's own paging-fault defaults (fault-controller.ts). */
export const DEFAULT_SHORT_PAGES = 0.1;
export const DEFAULT_EMPTY_PAGES = 0.05;

/** What differs between presets. */
export interface Preset {
  backfillWindows?: number;
  salesforce: SalesforceMode;
  leadCache: boolean;
  callsPer20s?: number;
  maxConcurrent?: number;
  /** Back-fill by bulk export jobs (activities.backfill.exportAbove 1) instead of the setting's default. */
  backfillExport?: boolean;
}

export interface BenchOptions {
  activities: number;
  quick: boolean;
  windowMs: number;
  marketoLatencyMs: number;
  salesforceLatencyMs: number;
  seed: number;
  /** Marketo sandbox paging faults (documented: pages may be short or empty with moreResult true). */
  shortPages: number;
  emptyPages: number;
  bundles: boolean;
  /** `--only bundles`: measure the bundles against their targets and stop. */
  only?: 'bundles';
  coldRuns: number;
  compare: boolean;
  outDir: string;
  preset: Preset;
  help: boolean;
}

export class BenchUsageError extends Error {
  override readonly name = 'BenchUsageError';
}

function int(flag: string, value: string | undefined, min: number): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < min)
    throw new BenchUsageError(`${flag} needs an integer ≥ ${min}, got ${value ?? 'nothing'}`);
  return n;
}

export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const given = new Map<string, string | true>();
  const valued = new Set([
    '--activities',
    '--window-ms',
    '--marketo-latency-ms',
    '--salesforce-latency-ms',
    '--backfill-windows',
    '--salesforce',
    '--lead-cache',
    '--calls-per-20s',
    '--max-concurrent',
    '--seed',
    '--short-pages',
    '--empty-pages',
    '--cold-runs',
    '--out',
    '--only',
  ]);
  const flags = new Set(['--quick', '--no-bundles', '--compare', '--help', '--backfill-export']);
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = (argv[i] as string).split(/=(.*)/s, 2) as [string, string | undefined];
    if (flags.has(flag)) given.set(flag, true);
    else if (valued.has(flag)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new BenchUsageError(`${flag} needs a value`);
      given.set(flag, value);
    } else throw new BenchUsageError(`unknown option ${flag}`);
  }
  const str = (flag: string) => {
    const v = given.get(flag);
    return typeof v === 'string' ? v : undefined;
  };
  const quick = given.has('--quick');
  const scale = quick ? 10 : 1;
  const salesforce = str('--salesforce') ?? 'default';
  if (!['default', 'collections', 'bulk'].includes(salesforce))
    throw new BenchUsageError(`--salesforce must be collections, bulk or default, got ${salesforce}`);
  const leadCache = str('--lead-cache') ?? 'on';
  if (leadCache !== 'on' && leadCache !== 'off')
    throw new BenchUsageError(`--lead-cache must be on or off, got ${leadCache}`);
  const opt = (flag: string, min: number) => (given.has(flag) ? int(flag, str(flag), min) : undefined);
  const share = (flag: string, fallback: number) => {
    if (!given.has(flag)) return fallback;
    const n = Number(str(flag));
    if (!(n >= 0 && n <= 1))
      throw new BenchUsageError(`${flag} needs a share between 0 and 1, got ${str(flag)}`);
    return n;
  };
  const only = str('--only');
  if (only !== undefined && only !== 'bundles')
    throw new BenchUsageError(`--only takes bundles (the one part that runs alone), got ${only}`);
  if (only && given.has('--no-bundles'))
    throw new BenchUsageError('--only bundles and --no-bundles contradict each other');
  const backfillWindows = opt('--backfill-windows', 1);
  const callsPer20s = opt('--calls-per-20s', 1);
  const maxConcurrent = opt('--max-concurrent', 1);
  return {
    activities: opt('--activities', 1) ?? (quick ? 10_000 : 100_000),
    quick,
    windowMs: opt('--window-ms', 100) ?? 20_000 / scale,
    marketoLatencyMs: opt('--marketo-latency-ms', 0) ?? 300 / scale,
    salesforceLatencyMs: opt('--salesforce-latency-ms', 0) ?? 200 / scale,
    seed: opt('--seed', 0) ?? 20261015,
    shortPages: share('--short-pages', DEFAULT_SHORT_PAGES),
    emptyPages: share('--empty-pages', DEFAULT_EMPTY_PAGES),
    bundles: !given.has('--no-bundles'),
    ...(only ? { only } : {}),
    coldRuns: opt('--cold-runs', 1) ?? (quick ? 3 : 5),
    compare: given.has('--compare'),
    outDir: str('--out') ?? 'bench/results',
    preset: {
      salesforce: salesforce as SalesforceMode,
      leadCache: leadCache === 'on',
      ...(backfillWindows !== undefined ? { backfillWindows } : {}),
      ...(callsPer20s !== undefined ? { callsPer20s } : {}),
      ...(maxConcurrent !== undefined ? { maxConcurrent } : {}),
      ...(given.has('--backfill-export') ? { backfillExport: true } : {}),
    },
    help: given.has('--help'),
  };
}

/** The presets `--compare` runs, each a before/after against the default. */
export function comparePresets(base: Preset): { name: string; preset: Preset }[] {
  return [
    { name: 'default', preset: base },
    { name: 'windows-1', preset: { ...base, backfillWindows: 1 } },
    { name: 'collections', preset: { ...base, salesforce: 'collections' } },
    { name: 'bulk', preset: { ...base, salesforce: 'bulk' } },
    { name: 'lead-cache-off', preset: { ...base, leadCache: false } },
    { name: 'backfill-export', preset: { ...base, backfillExport: true } },
  ];
}

/** Short name of a preset for file names and table headers, e.g. `windows-1+collections`. */
export function presetName(p: Preset): string {
  const parts: string[] = [];
  if (p.backfillWindows !== undefined) parts.push(`windows-${p.backfillWindows}`);
  if (p.salesforce !== 'default') parts.push(p.salesforce);
  if (!p.leadCache) parts.push('lead-cache-off');
  if (p.callsPer20s !== undefined) parts.push(`budget-${p.callsPer20s}`);
  if (p.maxConcurrent !== undefined) parts.push(`concurrent-${p.maxConcurrent}`);
  if (p.backfillExport) parts.push('backfill-export');
  return parts.length ? parts.join('+') : 'default';
}

/** Default settings with the preset applied (validated like any settings document). */
export function settingsFor(p: Preset): Settings {
  const input = structuredClone(DEFAULT_SETTINGS_INPUT) as SettingsInput & {
    activities: Record<string, unknown>;
  };
  if (p.backfillWindows !== undefined) input.activities.backfillWindows = p.backfillWindows;
  if (!p.leadCache) input.activities.leadCacheTtlSeconds = 0;
  // Every other preset measures the REST paging path (the default would export a 100k back-fill).
  input.activities.backfill = p.backfillExport
    ? { exportAbove: 1, pollSeconds: 1 }
    : { exportAbove: Number.MAX_SAFE_INTEGER };
  const salesforce: Record<string, unknown> = { ...(input.salesforce ?? {}) };
  if (p.salesforce === 'collections') salesforce.bulkThreshold = 1_000_000_000;
  if (p.salesforce === 'bulk') salesforce.bulkThreshold = 1;
  input.salesforce = salesforce;
  const marketo: Record<string, unknown> = { ...(input.marketo ?? {}) };
  if (p.callsPer20s !== undefined) marketo.callsPer20s = p.callsPer20s;
  if (p.maxConcurrent !== undefined) marketo.maxConcurrent = p.maxConcurrent;
  input.marketo = marketo;
  return parseSettings(input, 'bench preset');
}

/** The run's name: the preset's, plus the sandbox paging when it is not the default. */
export function runName(p: Preset, o: Pick<BenchOptions, 'shortPages' | 'emptyPages'>): string {
  const paging =
    o.shortPages !== DEFAULT_SHORT_PAGES || o.emptyPages !== DEFAULT_EMPTY_PAGES
      ? `pages-short-${o.shortPages}-empty-${o.emptyPages}`
      : undefined;
  const name = presetName(p);
  return paging ? (name === 'default' ? paging : `${name}+${paging}`) : name;
}

/** `100k`, `10k`, `2.5k`, `750`. */
export function sizeLabel(n: number): string {
  return n >= 1000 ? `${Number((n / 1000).toFixed(1))}k` : String(n);
}
