/**
 * From one instrumented run to the figures the issue asks for (and the JSON written under
 * bench/results/), and their table. Assembly and formatting only: measuring is elsewhere.
 */
import type { Settings } from '../shared/config/settings.js';
import {
  type AwsUsage,
  BUNDLE_TARGETS,
  type CostBreakdown,
  costOf,
  evaluateBundleTargets,
  evaluateTargets,
  exportCallsAt,
  floorPerThousand,
  lambdaGbSeconds,
  MARKETO_PAGE_SIZE,
  median,
  minSpanUnderBudget,
  perThousand,
  ratePerSecond,
  ratio,
  readCeiling,
  SALESFORCE_COLLECTION_SIZE,
  scaleCost,
  type Target,
} from './figures.js';
import type { BundleFigures, LambdaFunctionInfo } from './lambda-functions.js';
import type { PipelineMeasurement } from './pipeline-run.js';
import { PRICES } from './pricing.js';
import type { RssFigures } from './rss-probe.js';
import type { WritePathCpu } from './write-path-cpu.js';

export interface RunConfig {
  preset: string;
  activities: number;
  quick: boolean;
  windowMs: number;
  marketoLatencyMs: number;
  salesforceLatencyMs: number;
  shortPages: number;
  emptyPages: number;
  /** The write event source's batching window (the stack's; the CLI's own default is shorter). */
  writeBatchingWindowMs?: number;
  seed: number;
  settings: {
    callsPer20s: number;
    maxConcurrent: number;
    batchSize: number;
    backfillWindows: number;
    bulkThreshold: number;
    leadCacheTtlSeconds: number;
  };
}

export interface FunctionFigures {
  entry: string;
  memoryMb: number;
  invocations: number;
  gbSeconds: number;
  bundle?: BundleFigures;
  rss?: RssFigures;
}

export interface BenchResult {
  config: RunConfig;
  run: {
    status: string;
    read: number;
    written: number;
    skipped: Record<string, number>;
    failed: number;
    retried: number;
    wallSeconds: number;
    readSeconds: number;
    world: PipelineMeasurement['world'];
    correctness: PipelineMeasurement['correctness'];
  };
  /**
   * `ceiling`: every call a full page of 300. `budgetBound`: the budget's calls per second × the
   * activities per page the server served (short and empty pages are the server's doing).
   */
  readRate: {
    activitiesPerSecond: number;
    ceiling: number;
    pctOfCeiling: number;
    budgetBound: number;
    pctOfBudgetBound: number;
  };
  marketo: {
    calls: { pages: number; pagingTokens: number; leadLookups: number; other: number; total: number };
    /** Back-fill by export: the calls by kind, and extrapolated to 1M activities (figures.ts exportCallsAt). */
    exportAt1M?: ReturnType<typeof exportCallsAt>;
    identityCallsExcluded: number;
    perThousand: { all: number; withoutPagingTokens: number; pagesOnly: number };
    floorPerThousand: number;
    ratioToFloor: { all: number; withoutPagingTokens: number };
    /** All calls (pages, tokens, look-ups, other) over the pages the server forced. */
    callsPerPage: number;
    activitiesPerPage: number;
    rejected: { '606': number; '615': number; other: Record<string, number> };
    maxCallsInAnyWindow: number;
    maxConcurrentObserved: number;
    /**
     * Calls made during the read phase, and the shortest span the budget allows for them: near
     * 100 % the read was bound by the budget; lower, by the pipeline (latency, CPU) between calls.
     */
    readPhase: { calls: number; minSecondsUnderBudget: number; budgetBusyPct: number };
  };
  salesforce: {
    tasks: number;
    callsByKind: Record<string, number>;
    total: number;
    perThousandTasks: number;
    collections: {
      calls: number;
      tasks: number;
      perThousand: number;
      floorPerThousand: number;
      ratioToFloor: number;
    };
    bulk: { calls: number; rows: number; jobs: number; callsPer100k: number };
  };
  cpu?: WritePathCpu;
  functions: FunctionFigures[];
  aws: {
    usage: AwsUsage;
    sqs: { requests: Record<string, number>; emptyReceives: number };
    dynamodb: PipelineMeasurement['dynamodb'];
    cost: CostBreakdown;
    costPerMillion: CostBreakdown;
    prices: typeof PRICES;
    notes: string[];
  };
  targets: Target[];
}

const COLLECTION_KINDS = new Set(['create', 'update', 'upsert']);

/** Lambda usage: invocations of each queue's consumer (from the SQS traffic), the schedule step, and the Bulk flush tail. */
export function lambdaUsage(
  m: Pick<PipelineMeasurement, 'startedAt' | 'wallMs' | 'scheduleMs'> & {
    summary: { bulkJobs?: number };
    sqs: Pick<PipelineMeasurement['sqs'], 'invocations' | 'activity'>;
  },
  functions: readonly Pick<LambdaFunctionInfo, 'entry' | 'memoryMb' | 'consumes'>[],
): FunctionFigures[] {
  const out: FunctionFigures[] = [];
  const drainIdleMs = 600;
  let lastSettled = 0;
  for (const a of Object.values(m.sqs.activity)) lastSettled = Math.max(lastSettled, a.lastSettledAt);
  for (const fn of functions) {
    let durations: number[] = [];
    if (fn.consumes) {
      const invs = m.sqs.invocations.filter((i) => i.queue === fn.consumes?.queue);
      const ended = invs.flatMap((i) => (i.endedAt === undefined ? [] : [i.endedAt - i.startedAt]));
      const typical = median(ended);
      durations = invs.map((i) => (i.endedAt === undefined ? typical : i.endedAt - i.startedAt));
      // The CLI flushes staged Tasks in-process once the queues drain; in AWS the flush function does.
      if (fn.consumes.queue === 'flush' && invs.length === 0 && (m.summary.bulkJobs ?? 0) > 0) {
        const tail = Math.max(0, m.startedAt + m.wallMs - lastSettled - drainIdleMs);
        const jobs = m.summary.bulkJobs ?? 1;
        durations = Array.from({ length: jobs }, () => tail / jobs);
      }
    } else if (fn.entry === 'schedule-activity-sync') durations = [m.scheduleMs];
    if (durations.length === 0) continue;
    out.push({
      entry: fn.entry,
      memoryMb: fn.memoryMb,
      invocations: durations.length,
      gbSeconds: lambdaGbSeconds(durations, fn.memoryMb),
    });
  }
  return out;
}

export function buildResult(input: {
  config: RunConfig;
  settings: Settings;
  measurement: PipelineMeasurement;
  functions: LambdaFunctionInfo[];
  bundles: BundleFigures[];
  rss: RssFigures[];
  cpu?: WritePathCpu;
}): BenchResult {
  const { measurement: m, settings, config } = input;
  const read = m.summary.read;
  // Read rate
  const ceiling = readCeiling(settings.marketo.callsPer20s, config.windowMs, settings.marketo.batchSize);
  const rate = ratePerSecond(read, m.readMs);
  // Marketo
  const e = m.marketo.byEndpoint;
  const pages = e['GET /rest/v1/activities.json'] ?? 0;
  const pagingTokens = e['GET /rest/v1/activities/pagingtoken.json'] ?? 0;
  const leadLookups = e['GET /rest/v1/leads.json'] ?? 0;
  const total = Object.values(e).reduce((s, n) => s + n, 0);
  const floor = floorPerThousand(MARKETO_PAGE_SIZE);
  const { '606': r606 = 0, '615': r615 = 0, ...otherRejected } = m.marketo.rejected;
  // The budget's calls per second × the activities per page the server served.
  const budgetBound =
    pages > 0 ? readCeiling(settings.marketo.callsPer20s, config.windowMs, read / pages) : 0;
  const readPhaseCalls = m.marketo.callTimes.filter((t) => t <= m.readMs).length;
  const minSpan = minSpanUnderBudget(readPhaseCalls, settings.marketo.callsPer20s, config.windowMs);
  // Salesforce
  const byKind = m.salesforce.byKind;
  const sfTotal = Object.values(byKind).reduce((s, n) => s + n, 0);
  let collectionCalls = 0;
  let collectionTasks = 0;
  let bulkCalls = 0;
  for (const [kind, n] of Object.entries(byKind)) {
    if (COLLECTION_KINDS.has(kind)) collectionCalls += n;
    if (kind.startsWith('bulk')) bulkCalls += n;
  }
  for (const [kind, records] of Object.entries(m.salesforce.recordsPerCall))
    if (COLLECTION_KINDS.has(kind)) collectionTasks += records.reduce((s, r) => s + r, 0);
  const bulkRows = (m.salesforce.recordsPerCall.bulkUpload ?? []).reduce((s, r) => s + r, 0);
  const tasks = m.summary.written;
  const sfFloor = floorPerThousand(SALESFORCE_COLLECTION_SIZE);
  // AWS
  const functions = lambdaUsage(m, input.functions).map((f) => ({
    ...f,
    ...(input.bundles.find((b) => b.entry === f.entry)
      ? { bundle: input.bundles.find((b) => b.entry === f.entry) }
      : {}),
    ...(input.rss.find((r) => r.entry === f.entry)
      ? { rss: input.rss.find((r) => r.entry === f.entry) }
      : {}),
  }));
  for (const fn of input.functions) {
    if (functions.some((f) => f.entry === fn.entry)) continue;
    const bundle = input.bundles.find((b) => b.entry === fn.entry);
    const rss = input.rss.find((r) => r.entry === fn.entry);
    functions.push({
      entry: fn.entry,
      memoryMb: fn.memoryMb,
      invocations: 0,
      gbSeconds: 0,
      ...(bundle ? { bundle } : {}),
      ...(rss ? { rss } : {}),
    });
  }
  const arch = new Map(input.functions.map((f) => [f.entry, f.architecture]));
  const usage: AwsUsage = {
    lambda: functions
      .filter((f) => f.invocations > 0)
      .map((f) => ({
        function: f.entry,
        invocations: f.invocations,
        gbSeconds: f.gbSeconds,
        architecture: arch.get(f.entry) ?? 'arm64',
      })),
    sqsBilledRequests: m.sqs.billedRequests,
    dynamodb: { readUnits: m.dynamodb.readUnits, writeUnits: m.dynamodb.writeUnits },
  };
  const cost = costOf(usage);
  const costPerMillion = scaleCost(cost, read);
  const result: BenchResult = {
    config,
    run: {
      status: m.summary.status,
      read,
      written: m.summary.written,
      skipped: m.summary.skipped,
      failed: m.summary.failed,
      retried: m.summary.retried,
      wallSeconds: m.wallMs / 1000,
      readSeconds: m.readMs / 1000,
      world: m.world,
      correctness: m.correctness,
    },
    readRate: {
      activitiesPerSecond: rate,
      ceiling,
      pctOfCeiling: (rate / ceiling) * 100,
      budgetBound,
      pctOfBudgetBound: budgetBound > 0 ? (rate / budgetBound) * 100 : 0,
    },
    marketo: {
      calls: { pages, pagingTokens, leadLookups, other: total - pages - pagingTokens - leadLookups, total },
      ...(settings.activities.backfill.exportAbove === 1 && read > 0
        ? { exportAt1M: exportCallsAt(e, read, 1_000_000) }
        : {}),
      identityCallsExcluded: m.marketo.identityCalls,
      perThousand: {
        all: perThousand(total, read),
        withoutPagingTokens: perThousand(total - pagingTokens, read),
        pagesOnly: perThousand(pages, read),
      },
      floorPerThousand: floor,
      ratioToFloor: {
        all: ratio(perThousand(total, read), floor),
        withoutPagingTokens: ratio(perThousand(total - pagingTokens, read), floor),
      },
      callsPerPage: pages > 0 ? total / pages : 0,
      activitiesPerPage: pages > 0 ? read / pages : 0,
      rejected: { '606': r606, '615': r615, other: otherRejected },
      maxCallsInAnyWindow: m.marketo.maxInWindowObserved,
      maxConcurrentObserved: m.marketo.maxConcurrentObserved,
      readPhase: {
        calls: readPhaseCalls,
        minSecondsUnderBudget: minSpan / 1000,
        budgetBusyPct: m.readMs > 0 ? (minSpan / m.readMs) * 100 : 0,
      },
    },
    salesforce: {
      tasks,
      callsByKind: byKind,
      total: sfTotal,
      perThousandTasks: perThousand(sfTotal, tasks),
      collections: {
        calls: collectionCalls,
        tasks: collectionTasks,
        perThousand: perThousand(collectionCalls, collectionTasks),
        floorPerThousand: sfFloor,
        ratioToFloor: ratio(perThousand(collectionCalls, collectionTasks), sfFloor),
      },
      bulk: {
        calls: bulkCalls,
        rows: bulkRows,
        jobs: m.salesforce.bulkJobs,
        callsPer100k: bulkRows > 0 ? (bulkCalls * 100_000) / bulkRows : 0,
      },
    },
    ...(input.cpu ? { cpu: input.cpu } : {}),
    functions,
    aws: {
      usage,
      sqs: { requests: m.sqs.requests, emptyReceives: m.sqs.emptyReceives },
      dynamodb: m.dynamodb,
      cost,
      costPerMillion,
      prices: PRICES,
      notes: [
        'Lambda duration: per invocation from the moment its batch was complete (full, or the batching window over) to the deletion of its messages; fetch invocations include waiting for the Marketo governor, as Lambda bills it. Measured against dynalite and fauxqs on the benchmark machine, so the DynamoDB/SQS round trips inside it are slower than in AWS. The Bulk flush, run in-process by the CLI, is billed as one flush-function invocation per Bulk job for the time after the queues drained.',
        'SQS: send/receive/delete/change-visibility requests in 64 KB chunks; empty receives are excluded (in AWS, Lambda long-polls each queue whatever the volume: a fixed cost, about 0.26 USD per queue per month).',
        'DynamoDB: ConsumedCapacity=TOTAL on every item command (dynalite sizes items as DynamoDB does), plus one write unit per refused conditional write; on-demand request units.',
        'Not included: storage (the ledger holds ~0.2 KB per activity), CloudWatch Logs, X-Ray traces, Secrets Manager calls (cached 5 min), free tiers.',
      ],
    },
    targets: [],
  };
  result.targets = evaluateTargets({
    readRatePctOfBudgetBound: result.readRate.pctOfBudgetBound,
    marketoCallsPerPage: result.marketo.callsPerPage,
    ...(collectionTasks > 0
      ? { salesforceCollectionsRatioToFloor: result.salesforce.collections.ratioToFloor }
      : {}),
    ...(bulkRows > 0 ? { salesforceBulkCallsPer100k: result.salesforce.bulk.callsPer100k } : {}),
    rejected606: r606,
    rejected615: r615,
    costPerMillion: costPerMillion.total,
    ...(result.marketo.exportAt1M ? { exportMarketoCallsPerMillion: result.marketo.exportAt1M.total } : {}),
  });
  result.targets.push(...evaluateBundleTargets(input.bundles));
  return result;
}

const f0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '–');
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '–');
const usd = (n: number) => (Number.isFinite(n) ? `$${n.toFixed(n < 0.1 ? 4 : 3)}` : '–');

/** One row per figure: [figure, value, target]. */
export function resultRows(r: BenchResult): [string, string, string][] {
  const t = (name: string) => r.targets.find((x) => x.figure === name);
  const mark = (name: string) => {
    const x = t(name);
    return x ? `${x.target} ${x.met ? '✓' : '✗'}` : '';
  };
  const rows: [string, string, string][] = [
    ['activities read / Tasks written', `${f0(r.run.read)} / ${f0(r.run.written)}`, ''],
    ['missing / duplicate Tasks', `${r.run.correctness.missing} / ${r.run.correctness.duplicates}`, '0 / 0'],
    ['wall time (read phase)', `${f1(r.run.wallSeconds)} s (${f1(r.run.readSeconds)} s)`, ''],
    [
      'back-fill read rate',
      `${f0(r.readRate.activitiesPerSecond)}/s = ${f1(r.readRate.pctOfBudgetBound)} % of the budget-bound ${f0(r.readRate.budgetBound)}/s (${f1(r.readRate.pctOfCeiling)} % of the full-page ceiling ${f0(r.readRate.ceiling)}/s)`,
      mark('back-fill read rate, % of budget-bound maximum'),
    ],
    [
      'Marketo calls / pages the server forced',
      `${f2(r.marketo.callsPerPage)} (${r.marketo.calls.total} calls, ${r.marketo.calls.pages} pages)`,
      mark('Marketo calls / pages'),
    ],
    [
      'Marketo calls / 1k activities (all)',
      `${f2(r.marketo.perThousand.all)} = ${f2(r.marketo.ratioToFloor.all)} × floor ${f2(r.marketo.floorPerThousand)}`,
      '',
    ],
    [
      '… without paging-token calls',
      `${f2(r.marketo.perThousand.withoutPagingTokens)} = ${f2(r.marketo.ratioToFloor.withoutPagingTokens)} × floor`,
      '',
    ],
    [
      '… pages / tokens / lead look-ups / other',
      `${r.marketo.calls.pages} / ${r.marketo.calls.pagingTokens} / ${r.marketo.calls.leadLookups} / ${r.marketo.calls.other} (${f0(r.marketo.activitiesPerPage)} per page)`,
      '',
    ],
    [
      'Marketo max calls in any window / in flight',
      `${r.marketo.maxCallsInAnyWindow} / ${r.marketo.maxConcurrentObserved} (budget ${r.config.settings.callsPer20s} / ${r.config.settings.maxConcurrent})`,
      '',
    ],
    [
      'read phase: Marketo calls / budget-bound minimum time',
      `${r.marketo.readPhase.calls} calls in ${f1(r.run.readSeconds)} s; the budget allows ${f1(r.marketo.readPhase.minSecondsUnderBudget)} s (${f0(r.marketo.readPhase.budgetBusyPct)} %)`,
      '',
    ],
    [
      '606 / 615 provoked',
      `${r.marketo.rejected['606']} / ${r.marketo.rejected['615']}`,
      t('606 provoked')?.met && t('615 provoked')?.met ? '0 ✓' : '0 ✗',
    ],
    ['Salesforce calls / 1k Tasks (all)', f2(r.salesforce.perThousandTasks), ''],
  ];
  if (r.salesforce.collections.tasks > 0)
    rows.push([
      '… collections',
      `${f2(r.salesforce.collections.perThousand)} = ${f2(r.salesforce.collections.ratioToFloor)} × floor ${f2(r.salesforce.collections.floorPerThousand)} (${f0(r.salesforce.collections.tasks)} Tasks)`,
      mark('Salesforce calls / floor (collections)'),
    ]);
  if (r.salesforce.bulk.rows > 0)
    rows.push([
      '… Bulk API 2.0 calls / 100k Tasks',
      `${f1(r.salesforce.bulk.callsPer100k)} (${r.salesforce.bulk.calls} calls, ${r.salesforce.bulk.jobs} jobs, ${f0(r.salesforce.bulk.rows)} rows)`,
      mark('Salesforce calls / 100k Tasks (Bulk)'),
    ]);
  if (r.cpu)
    rows.push([
      'CPU ms / 1k activities: map+validate+serialise vs bare JSON',
      `${f1(r.cpu.mapValidateSerialiseMs)} vs ${f1(r.cpu.bareJsonMs)} (${f1(r.cpu.ratio)}×)`,
      '',
    ]);
  const rss = r.functions.filter((f) => f.rss);
  if (rss.length) {
    const top = rss.reduce((a, b) => ((a.rss?.peakRssMb ?? 0) >= (b.rss?.peakRssMb ?? 0) ? a : b));
    rows.push([
      'peak RSS (largest function)',
      `${f0(top.rss?.peakRssMb ?? 0)} MB ${top.entry} (of ${top.memoryMb} MB)`,
      '',
    ]);
  }
  const c = r.aws.costPerMillion;
  rows.push([
    'AWS cost / 1M activities',
    `${usd(c.total)} (Lambda ${usd(c.lambdaRequests + c.lambdaCompute)}, SQS ${usd(c.sqs)}, DynamoDB ${usd(c.dynamodbReads + c.dynamodbWrites)})`,
    mark('AWS cost per 1M activities (USD)'),
  ]);
  return rows;
}

/** Markdown table of one result. */
export function resultTable(r: BenchResult): string {
  const lines = ['| figure | value | target |', '|---|---|---|'];
  for (const [a, b, c] of resultRows(r)) lines.push(`| ${a} | ${b} | ${c} |`);
  return lines.join('\n');
}

/** Markdown table of the per-function figures (bundle, cold start, RSS, Lambda use in the run). */
export function functionTable(r: BenchResult): string {
  const mark = (entry: string, figure: string) => {
    const t = r.targets.find((x) => x.group === 'bundles' && x.subject === entry && x.figure === figure);
    return t ? ` ${t.met ? '✓' : '✗'} ${t.target}` : '';
  };
  const lines = [
    '| function | memory | bundle (gzip) | cold import (process) | RSS after init / peak | invocations | GB-s |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const f of r.functions) {
    const b = f.bundle;
    lines.push(
      `| ${f.entry} | ${f.memoryMb} MB | ${b ? `${f0(b.bundleKb)} KB (${f0(b.gzipKb)} KB${mark(f.entry, 'bundle gzip KB')})` : '–'} | ${b ? `${f0(b.coldImportMs)} ms (${f0(b.coldProcessMs)} ms)${mark(f.entry, 'cold import ms')}` : '–'} | ${b ? `${f0(b.rssAfterInitMb)} MB` : '–'} / ${f.rss ? `${f0(f.rss.peakRssMb)} MB` : '–'} | ${f.invocations} | ${f1(f.gbSeconds)} |`,
    );
  }
  return lines.join('\n');
}

/** Side-by-side table of several runs (the `--compare` presets): one column per run. */
export function compareTable(results: BenchResult[]): string {
  const rows = results.map(resultRows);
  const names = results.map((r) => r.config.preset);
  // Every figure any run has, each after the figure that precedes it in the run that has it.
  const figures: string[] = [];
  for (const rs of rows)
    rs.forEach(([f], j) => {
      if (figures.includes(f)) return;
      const before = j > 0 ? figures.indexOf((rs[j - 1] as [string, string, string])[0]) : -1;
      figures.splice(before + 1, 0, f);
    });
  const lines = [`| figure | ${names.join(' | ')} |`, `|---|${names.map(() => '---').join('|')}|`];
  for (const figure of figures) {
    const cells = rows.map((rs) => {
      const row = rs.find(([f]) => f === figure);
      return row ? `${row[1]}${row[2].endsWith('✗') ? ' ✗' : row[2].endsWith('✓') ? ' ✓' : ''}` : '–';
    });
    lines.push(`| ${figure} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** The `--only bundles` result: each function's bundle figures and the bundle targets. */
export interface BundleResult {
  bundles: BundleFigures[];
  targets: Target[];
}

export function buildBundleResult(bundles: BundleFigures[]): BundleResult {
  return { bundles, targets: evaluateBundleTargets(bundles) };
}

/** Markdown table of the bundle targets: per function, the size before the split, now, and its cold import. */
export function bundleTargetTable(r: BundleResult): string {
  const mark = (entry: string, figure: string) => {
    const t = r.targets.find((x) => x.subject === entry && x.figure === figure);
    return t ? `${t.target} ${t.met ? '✓' : '✗'}` : '';
  };
  const lines = [
    '| function | gzip before (cdce109) | bundle (gzip) | gzip target | cold import (process) | cold import target |',
    '|---|---|---|---|---|---|',
  ];
  for (const b of r.bundles) {
    const before = BUNDLE_TARGETS.baselineGzipKb[b.entry];
    lines.push(
      `| ${b.entry} | ${before === undefined ? '–' : `${before} KB`} | ${f0(b.bundleKb)} KB (${f0(b.gzipKb)} KB) | ${mark(b.entry, 'bundle gzip KB')} | ${f0(b.coldImportMs)} ms (${f0(b.coldProcessMs)} ms) | ${mark(b.entry, 'cold import ms')} |`,
    );
  }
  return lines.join('\n');
}
