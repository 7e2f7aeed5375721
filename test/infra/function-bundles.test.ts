import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { bundleGzipCeilingKb } from '../../bench/figures.js';
import { ESM_REQUIRE_BANNER } from '../../infra/app-function.js';
import type { SyncStatelessStack } from '../../infra/stateless-stack.js';
import { addSyncStacks } from '../../infra/sync-app.js';
import { DEFAULT_SETTINGS_INPUT, parseSettings } from '../../shared/config/settings.js';
import { logicalId, newTestApp } from './sync-test-app.js';

type FunctionKey = keyof SyncStatelessStack['functions'] | keyof SyncStatelessStack['salesActivityJobs'];

/**
 * The real bundles (esbuild, as `cdk synth` builds them), loaded the way Lambda loads them (ESM
 * on Node 24) with exactly the environment the stack gives each function. This is the contract
 * test between infra and the function code: a composition root that reads a variable the
 * stack does not set fails its cold start here instead of in AWS.
 */
const app = newTestApp({ bundle: true, context: { 'aws:cdk:bundling-stacks': ['*Stateless'] } });
const { stateless } = addSyncStacks(app, parseSettings(DEFAULT_SETTINGS_INPUT));
const assembly = app.synth({ validateOnSynthesis: false });
const template = assembly.getStackByName(stateless.stackName).template as {
  Resources: Record<
    string,
    { Properties: { Code: { S3Key: string }; Environment: { Variables: Record<string, unknown> } } }
  >;
};

/** Every function of the stack, job 4's included. */
const functions = { ...stateless.functions, ...stateless.salesActivityJobs };

function bundleOf(key: FunctionKey) {
  const resource = template.Resources[logicalId(functions[key].function)];
  if (!resource) throw new Error(`no function resource for ${key}`);
  // The asset's S3 key is `<hash>.zip`; the staged bundle is `asset.<hash>/` in the assembly.
  const dir = join(assembly.directory, `asset.${resource.Properties.Code.S3Key.replace(/\.zip$/, '')}`);
  return { dir, env: Object.keys(resource.Properties.Environment.Variables) };
}

function placeholder(name: string): string {
  if (name.endsWith('_QUEUE_URL')) return `https://sqs.us-east-1.amazonaws.com/123456789012/${name}`;
  if (name.endsWith('_SECRET_ARN'))
    return `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`;
  return name;
}

/** The files esbuild put into the bundle, as its source map lists them (paths relative to the map). */
function bundledSources(key: FunctionKey): string[] {
  const map = JSON.parse(readFileSync(join(bundleOf(key).dir, 'index.mjs.map'), 'utf8')) as {
    sources: string[];
  };
  return map.sources;
}

const JSFORCE = /node_modules\/@jsforce\//;
const MARKETO_CLIENT = /shared\/adapters\/marketo\/marketo-client\.ts$/;
const SALESFORCE_CLIENT = /shared\/adapters\/salesforce\/salesforce-client\.ts$/;

/**
 * Vendors a function is granted only under some settings (the bundle is the same code either way):
 * the schedule step reads Salesforce when activities.verify.nightly is on.
 */
const SETTINGS_DEPENDENT_GRANTS: Partial<Record<FunctionKey, readonly ('marketo' | 'salesforce')[]>> = {
  scheduleActivitySync: ['salesforce'],
};

/** Imports the bundle in a clean Node process; returns `function` or the cold-start error. */
function coldStart(key: FunctionKey): string {
  const { dir, env } = bundleOf(key);
  const script = `try { const m = await import(${JSON.stringify(join(dir, 'index.mjs'))}); console.log(typeof m.handler); } catch (e) { console.log(e.name + ': ' + e.message); }`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: {
      PATH: process.env.PATH,
      AWS_REGION: 'us-east-1',
      ...Object.fromEntries(env.map((n) => [n, placeholder(n)])),
      NODE_OPTIONS: '',
    },
    encoding: 'utf8',
  });
  return result.stdout.trim();
}

/**
 * Known contract gap, owned by shared/runtime/activity-runtime.ts: `platformFromEnv` calls
 * `tableNamesFromEnv`, which demands all six table variables, so these two functions (which are
 * bound to four and two tables) fail to cold-start. Remove an entry once that is fixed: `it.fails`
 * then turns red on purpose.
 */
const KNOWN_COLD_START_GAPS: ReadonlySet<FunctionKey> = new Set([]);

describe('function bundles', () => {
  const keys = Object.keys(functions) as FunctionKey[];

  it.each(keys)(
    '%s is an ESM bundle with the require shim, a source map and the settings compiled in',
    (key) => {
      const { dir } = bundleOf(key);
      const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
      expect(code.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
      expect(existsSync(join(dir, 'index.mjs.map'))).toBe(true);
      expect(code).not.toContain('process.env.SYNC_SETTINGS_JSON');
    },
  );

  for (const key of keys) {
    const test = KNOWN_COLD_START_GAPS.has(key) ? it.fails : it;
    test(`${key} cold-starts with only the environment the stack sets`, () => {
      expect(coldStart(key)).toBe('function');
    });
  }

  it('the webhook intake bundles neither jsforce nor the Marketo client', () => {
    const sources = bundledSources('receiveUnsubscribeWebhook');
    expect(sources.some((s) => s.endsWith('shared/optouts/webhook-request.ts'))).toBe(true);
    expect(
      sources.filter((s) => JSFORCE.test(s) || MARKETO_CLIENT.test(s) || SALESFORCE_CLIENT.test(s)),
    ).toEqual([]);
  });

  it.each(keys)('%s bundles a vendor client only when the stack may grant that vendor its secret', (key) => {
    const { env } = bundleOf(key);
    const sources = bundledSources(key);
    const mayCall = (vendor: 'marketo' | 'salesforce') =>
      env.includes(`${vendor.toUpperCase()}_SECRET_ARN`) ||
      (SETTINGS_DEPENDENT_GRANTS[key] ?? []).includes(vendor);
    expect({
      jsforce: sources.some((s) => JSFORCE.test(s)),
      salesforceClient: sources.some((s) => SALESFORCE_CLIENT.test(s)),
      marketoClient: sources.some((s) => MARKETO_CLIENT.test(s)),
    }).toEqual({
      jsforce: mayCall('salesforce'),
      salesforceClient: mayCall('salesforce'),
      marketoClient: mayCall('marketo'),
    });
  });

  it.each(keys)('%s stays under its gzip size target (bench/figures.ts BUNDLE_TARGETS)', (key) => {
    const entry = functions[key].entry;
    const gzipKb = gzipSync(readFileSync(join(bundleOf(key).dir, 'index.mjs'))).length / 1024;
    expect(gzipKb).toBeLessThanOrEqual(bundleGzipCeilingKb(entry));
  });
});
