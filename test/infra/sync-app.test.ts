import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/app-function.js';
import { parseDeploymentOptions } from '../../infra/deployment-options.js';
import { addSyncStacks } from '../../infra/sync-app.js';
import { DEFAULT_SETTINGS_INPUT, parseSettings } from '../../shared/config/settings.js';
import { buildTestApp, newTestApp } from './sync-test-app.js';

describe('addSyncStacks', () => {
  it('names the stacks from the prefix context', () => {
    const { stateful, stateless } = buildTestApp({ context: { prefix: 'Acme' } });
    expect([stateful.stackName, stateless.stackName]).toEqual(['AcmeStateful', 'AcmeStateless']);
    expect(stateful.environment).toBe('aws://unknown-account/unknown-region');
  });

  it('passes the AWS Solutions checks (cdk-nag) with written acknowledgements only', () => {
    const app = newTestApp();
    addSyncStacks(app, parseSettings(DEFAULT_SETTINGS_INPUT));
    expect(() => app.synth()).not.toThrow();
  });

  it('fails synth when a resource breaks an AWS Solutions rule (the checks are live)', () => {
    const app = newTestApp();
    const { stateless } = addSyncStacks(app, parseSettings(DEFAULT_SETTINGS_INPUT));
    new Queue(stateless, 'PlainQueue', { enforceSSL: false });
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/);
  });
});

describe('parseDeploymentOptions', () => {
  it('applies defaults', () => {
    expect(parseDeploymentOptions({})).toMatchObject({ prefix: 'MarketoSfSync', logRetentionDays: 30 });
  });

  it('names the bad context key', () => {
    expect(() => parseDeploymentOptions({ logRetentionDays: 31 })).toThrow(/context "logRetentionDays"/);
  });
});

describe('infra/app.ts', () => {
  const tsx = join(PROJECT_ROOT, 'node_modules/.bin/tsx');
  const run = (env: Record<string, string>) =>
    spawnSync(tsx, ['infra/app.ts'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, CDK_OUTDIR: mkdtempSync(join(tmpdir(), 'cdk-out-')), ...env },
      encoding: 'utf8',
    });

  it('exits non-zero naming the bad setting', () => {
    const dir = mkdtempSync(join(tmpdir(), 'settings-'));
    const path = join(dir, 'settings.json');
    writeFileSync(
      path,
      JSON.stringify({
        activities: {
          types: [{ name: 'Open Email', subjectTemplate: 'x' }],
          schedule: { cron: 'every night', timeZone: 'America/Los_Angeles' },
        },
      }),
    );
    const result = run({ SYNC_SETTINGS: path });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('activities.schedule.cron');
  });

  it('exits non-zero naming a bad context value', () => {
    const result = run({
      CDK_CONTEXT_JSON: JSON.stringify({ webhookRateLimit: 'fast', 'aws:cdk:bundling-stacks': [] }),
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('context "webhookRateLimit"');
  });
});
