/**
 * The Lambda functions as the CDK stack builds them: memory, architecture, the queue each one
 * consumes, its environment variable names, and (with bundling) the esbuild bundle `cdk synth`
 * stages — the same code test/infra/function-bundles.test.ts cold-starts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { addSyncStacks } from '../infra/sync-app.js';
import { QUEUES, type QueueKey } from '../shared/adapters/sqs/queue-definitions.js';
import type { Settings } from '../shared/config/settings.js';
import { logicalId, newTestApp } from '../test/infra/sync-test-app.js';
import { median } from './figures.js';
import type { Architecture } from './pricing.js';

export interface LambdaFunctionInfo {
  /** Key in the stateless stack's `functions` (camelCase). */
  key: string;
  /** File under functions/ (kebab-case). */
  entry: string;
  memoryMb: number;
  architecture: Architecture;
  timeoutSeconds: number;
  /** The queue it consumes (SQS event source mapping), the batch size and batching window. */
  consumes?: { queue: QueueKey; batchSize: number; maxBatchingWindowMs: number };
  /** Names of the environment variables the stack sets. */
  env: Record<string, unknown>;
  /** Staged bundle directory (index.mjs), when synthesised with bundling. */
  bundleDir?: string;
}

interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
}

/** Synthesises both stacks from `settings`; with `bundle`, esbuild builds every function as `cdk synth` does. */
export function synthFunctions(settings: Settings, bundle: boolean): LambdaFunctionInfo[] {
  const app = newTestApp({
    bundle,
    ...(bundle ? { context: { 'aws:cdk:bundling-stacks': ['*Stateless'] } } : {}),
  });
  const { stateful, stateless } = addSyncStacks(app, settings);
  const assembly = app.synth({ validateOnSynthesis: false });
  const resources = (
    assembly.getStackByName(stateless.stackName).template as { Resources: Record<string, CfnResource> }
  ).Resources;
  const queueIds = new Map<string, QueueKey>(
    (Object.keys(QUEUES) as QueueKey[]).map((k) => [logicalId(stateful.queues[k].queue), k]),
  );
  const mappings = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping');
  return Object.entries(stateless.functions).map(([key, fn]) => {
    const id = logicalId(fn.function);
    const resource = resources[id];
    if (!resource) throw new Error(`no resource for function ${key}`);
    const p = resource.Properties as {
      MemorySize?: number;
      Architectures?: string[];
      Timeout?: number;
      Environment?: { Variables?: Record<string, unknown> };
      Code?: { S3Key?: string };
    };
    const mapping = mappings.find((m) => JSON.stringify(m.Properties.FunctionName).includes(`"${id}"`));
    const source = mapping ? JSON.stringify(mapping.Properties.EventSourceArn) : undefined;
    const queue = source ? [...queueIds].find(([qid]) => source.includes(qid))?.[1] : undefined;
    const bundleDir = p.Code?.S3Key
      ? join(assembly.directory, `asset.${p.Code.S3Key.replace(/\.zip$/, '')}`)
      : undefined;
    return {
      key,
      entry: fn.entry,
      memoryMb: p.MemorySize ?? 128,
      architecture: p.Architectures?.includes('arm64') ? 'arm64' : 'x86_64',
      timeoutSeconds: p.Timeout ?? 3,
      ...(queue && mapping
        ? {
            consumes: {
              queue,
              batchSize: Number(mapping.Properties.BatchSize ?? 10),
              maxBatchingWindowMs: Number(mapping.Properties.MaximumBatchingWindowInSeconds ?? 0) * 1000,
            },
          }
        : {}),
      env: p.Environment?.Variables ?? {},
      ...(bundleDir && existsSync(join(bundleDir, 'index.mjs')) ? { bundleDir } : {}),
    };
  });
}

export interface BundleFigures {
  entry: string;
  /** index.mjs as deployed (minified), its gzip size, and the source map beside it. */
  bundleKb: number;
  gzipKb: number;
  sourceMapKb: number;
  /** `await import(bundle)` in a fresh `node` process (module load + top-level init), median of runs. */
  coldImportMs: number;
  /** Process start → bundle imported (Node boot + import), median of runs. */
  coldProcessMs: number;
  /** RSS right after the import, median of runs. */
  rssAfterInitMb: number;
  runs: number;
}

/** Placeholder values for the stack's variables (a cold import reads names, it calls nothing). */
function placeholder(name: string): string {
  if (name.endsWith('_QUEUE_URL')) return `https://sqs.us-east-1.amazonaws.com/123456789012/${name}`;
  if (name.endsWith('_SECRET_ARN'))
    return `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`;
  return name;
}

/** Bundle size and cold init of one function, imported `runs` times in fresh processes. */
export function measureBundle(fn: LambdaFunctionInfo, runs: number): BundleFigures | undefined {
  if (!fn.bundleDir) return undefined;
  const file = join(fn.bundleDir, 'index.mjs');
  const code = readFileSync(file);
  const map = join(fn.bundleDir, 'index.mjs.map');
  const script = [
    'const t0 = performance.now();',
    `const m = await import(${JSON.stringify(file)});`,
    'const t1 = performance.now();',
    "if (typeof m.handler !== 'function') throw new Error('no handler export');",
    'console.log(JSON.stringify({ importMs: t1 - t0, processMs: t1, rss: process.memoryUsage().rss }));',
  ].join('\n');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    AWS_REGION: 'us-east-1',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
    ...Object.fromEntries(Object.keys(fn.env).map((n) => [n, placeholder(n)])),
    NODE_OPTIONS: String(fn.env.NODE_OPTIONS ?? ''),
  };
  const samples: { importMs: number; processMs: number; rss: number }[] = [];
  for (let i = 0; i < runs; i++) {
    const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' });
    const line = out.stdout.trim().split('\n').at(-1) ?? '';
    if (out.status !== 0 || !line.startsWith('{'))
      throw new Error(
        `Cold import of ${fn.entry} failed: ${out.stderr.trim().split('\n').slice(-3).join(' ')}`,
      );
    samples.push(JSON.parse(line) as { importMs: number; processMs: number; rss: number });
  }
  return {
    entry: fn.entry,
    bundleKb: code.length / 1024,
    gzipKb: gzipSync(code).length / 1024,
    sourceMapKb: existsSync(map) ? statSync(map).size / 1024 : 0,
    coldImportMs: median(samples.map((s) => s.importMs)),
    coldProcessMs: median(samples.map((s) => s.processMs)),
    rssAfterInitMb: median(samples.map((s) => s.rss)) / 2 ** 20,
    runs,
  };
}
