/**
 * `npm run bench`: speed, API efficiency and cost of an activity back-fill on the embedded
 * default, against the vendor limits (issue 5). Prints the figures as a Markdown table and writes
 * them as JSON to bench/results/<date>-<size>-<preset>.json. It asserts nothing: read the
 * targets column. `npm run bench -- --help` lists the options.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import {
  type BenchOptions,
  BenchUsageError,
  comparePresets,
  type Preset,
  parseBenchArgs,
  runName,
  settingsFor,
  sizeLabel,
  USAGE,
} from './bench-options.js';
import {
  type BenchResult,
  buildBundleResult,
  buildResult,
  bundleTargetTable,
  compareTable,
  functionTable,
  resultTable,
} from './bench-result.js';
import {
  type BundleFigures,
  type LambdaFunctionInfo,
  measureBundle,
  synthFunctions,
} from './lambda-functions.js';
import { runPipeline, worldFor } from './pipeline-run.js';
import { probeRss, type RssFigures } from './rss-probe.js';
import { measureWritePathCpu } from './write-path-cpu.js';

const log = (line: string) => process.stderr.write(`${line}\n`);

function machine() {
  const list = cpus();
  let commit = 'unknown';
  try {
    commit = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout
  }
  return {
    cpus: list.length,
    cpuModel: list[0]?.model ?? 'unknown',
    ramGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    os: `${process.platform} ${release()}`,
    loadAverageAtStart: loadavg().map((l) => Number(l.toFixed(2))),
    commit,
  };
}

/** Bundle sizes, cold starts and peak RSS: independent of the preset, measured once. */
async function measureFunctions(o: BenchOptions): Promise<{
  functions: LambdaFunctionInfo[];
  bundles: BundleFigures[];
  rss: RssFigures[];
}> {
  const defaults = settingsFor({ salesforce: 'default', leadCache: true });
  log(o.bundles ? 'Synthesising the stacks with bundling (esbuild)…' : 'Synthesising the stacks…');
  const functions = synthFunctions(defaults, o.bundles);
  if (!o.bundles) return { functions, bundles: [], rss: [] };
  log(`Cold-importing each bundle ${o.coldRuns}× in fresh node processes…`);
  const bundles = functions.flatMap((f) => measureBundle(f, o.coldRuns) ?? []);
  log('Peak RSS: the bundled activity functions in their own processes over a small back-fill…');
  const rss = await probeRss(functions, {
    settings: defaults,
    activities: 3_000,
    seed: o.seed,
    marketoLatencyMs: o.marketoLatencyMs,
    salesforceLatencyMs: o.salesforceLatencyMs,
    timeoutMs: 180_000,
  });
  return { functions, bundles, rss };
}

async function runOne(
  o: BenchOptions,
  preset: Preset,
  measured: Awaited<ReturnType<typeof measureFunctions>>,
  meta: ReturnType<typeof machine>,
  command: string,
): Promise<BenchResult & { meta: ReturnType<typeof machine> & { date: string; command: string } }> {
  const settings = settingsFor(preset);
  const name = runName(preset, o);
  log(
    `Back-fill of ~${o.activities.toLocaleString('en-US')} activities, preset ${name}, window ${o.windowMs} ms, latency ${o.marketoLatencyMs} / ${o.salesforceLatencyMs} ms…`,
  );
  // The stack's write batching window, so write batches fill as they would in AWS (scaled in --quick).
  const stackWindowMs = measured.functions.find((f) => f.consumes?.queue === 'write')?.consumes
    ?.maxBatchingWindowMs;
  const writeBatchingWindowMs = stackWindowMs === undefined ? undefined : stackWindowMs / (o.quick ? 10 : 1);
  const measurement = await runPipeline({
    ...(writeBatchingWindowMs !== undefined ? { writeBatchingWindowMs } : {}),
    settings,
    activities: o.activities,
    seed: o.seed,
    windowMs: o.windowMs,
    marketoLatencyMs: o.marketoLatencyMs,
    salesforceLatencyMs: o.salesforceLatencyMs,
    shortPages: o.shortPages,
    emptyPages: o.emptyPages,
    timeoutMs: 2 * 3600_000,
    progress: process.stderr.isTTY === true,
  });
  log('CPU of the write path (map + validate + serialise) against bare JSON…');
  const cpu = measureWritePathCpu(worldFor(10_000, settings, o.seed), settings);
  const result = buildResult({
    config: {
      preset: name,
      activities: o.activities,
      quick: o.quick,
      windowMs: o.windowMs,
      marketoLatencyMs: o.marketoLatencyMs,
      salesforceLatencyMs: o.salesforceLatencyMs,
      shortPages: o.shortPages,
      emptyPages: o.emptyPages,
      ...(writeBatchingWindowMs !== undefined ? { writeBatchingWindowMs } : {}),
      seed: o.seed,
      settings: {
        callsPer20s: settings.marketo.callsPer20s,
        maxConcurrent: settings.marketo.maxConcurrent,
        batchSize: settings.marketo.batchSize,
        backfillWindows: settings.activities.backfillWindows,
        bulkThreshold: settings.salesforce.bulkThreshold,
        leadCacheTtlSeconds: settings.activities.leadCacheTtlSeconds,
      },
    },
    settings,
    measurement,
    functions: measured.functions,
    bundles: measured.bundles,
    rss: measured.rss,
    cpu,
  });
  const date = new Date().toISOString();
  const full = { meta: { ...meta, date, command }, ...result };
  mkdirSync(o.outDir, { recursive: true });
  const file = join(
    o.outDir,
    `${date.slice(0, 10)}-${sizeLabel(o.activities)}${o.quick ? '-quick' : ''}-${name}.json`,
  );
  writeFileSync(file, `${JSON.stringify(full, null, 2)}\n`);
  log(`Wrote ${file}`);
  return full;
}

/** `--only bundles`: every function's bundle and cold import against the bundle targets, nothing else. */
function runBundlesOnly(o: BenchOptions, meta: ReturnType<typeof machine>, command: string): void {
  log('Synthesising the stacks with bundling (esbuild)…');
  const functions = synthFunctions(settingsFor({ salesforce: 'default', leadCache: true }), true);
  log(`Cold-importing each bundle ${o.coldRuns}× in fresh node processes…`);
  const result = buildBundleResult(functions.flatMap((f) => measureBundle(f, o.coldRuns) ?? []));
  const date = new Date().toISOString();
  mkdirSync(o.outDir, { recursive: true });
  const file = join(o.outDir, `${date.slice(0, 10)}-bundles.json`);
  writeFileSync(file, `${JSON.stringify({ meta: { ...meta, date, command }, ...result }, null, 2)}\n`);
  log(`Wrote ${file}`);
  const header = `${command} — ${meta.cpus} × ${meta.cpuModel}, load ${meta.loadAverageAtStart.join(' / ')}, Node ${meta.node}, commit ${meta.commit}`;
  const met = result.targets.filter((t) => t.met).length;
  process.stdout.write(
    `\n${header}\n\n${bundleTargetTable(result)}\n\n${met} of ${result.targets.length} bundle targets met\n`,
  );
}

async function main(): Promise<void> {
  let o: BenchOptions;
  try {
    o = parseBenchArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof BenchUsageError)) throw err;
    process.stderr.write(`${err.message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (o.help) {
    process.stdout.write(USAGE);
    return;
  }
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const meta = machine();
  if (o.only === 'bundles') {
    runBundlesOnly(o, meta, command);
    return;
  }
  const measured = await measureFunctions(o);
  const presets = o.compare ? comparePresets(o.preset).map((p) => p.preset) : [o.preset];
  const results: BenchResult[] = [];
  for (const preset of presets) results.push(await runOne(o, preset, measured, meta, command));
  const header = `${command} — ${meta.cpus} × ${meta.cpuModel}, ${meta.ramGb} GB RAM, Node ${meta.node}, ${new Date().toISOString().slice(0, 10)}, commit ${meta.commit}`;
  const out = [`\n${header}\n`];
  for (const r of results) out.push(`### ${r.config.preset}\n`, resultTable(r), '');
  if (results.length > 1) out.push('### compared\n', compareTable(results), '');
  const first = results[0];
  if (first && o.bundles) out.push('### functions\n', functionTable(first), '');
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
