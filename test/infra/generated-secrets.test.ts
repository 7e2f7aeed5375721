import { readFileSync } from 'node:fs';
import type { CfnResource } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { CREDENTIAL_PLACEHOLDER } from '../../infra/stateful-stack.js';
import { SECRET_ENV } from '../../infra/stateless-stack.js';
import {
  describeIssues,
  generateSecretValue,
  SECRET_READERS,
  type SecretReader,
  type TemplateJson,
  templateSecrets,
} from './generated-secret.js';
import { buildTestApp } from './sync-test-app.js';

/**
 * Problems of the secrets as `cdk deploy` creates them, read as the code reads them. A secret
 * whose generated value holds the placeholder is filled in by the operator: its keys must be
 * exactly the reader's and the README's `put-secret-value` example for it must parse. Any other
 * secret must parse as generated (20 generated values each).
 */
function secretProblems(
  readers: Readonly<Record<string, SecretReader>>,
  customize?: Parameters<typeof buildTestApp>[0],
): string[] {
  const { statefulTemplate, statelessTemplate } = buildTestApp(customize);
  const problems: string[] = [];
  const examples = readmeSecretExamples();
  for (const secret of templateSecrets(
    statefulTemplate.toJSON() as TemplateJson,
    statelessTemplate.toJSON() as TemplateJson,
  )) {
    if (secret.envVars.length === 0) problems.push(`${secret.logicalId}: no function reads it`);
    for (const envVar of secret.envVars) {
      const reader = readers[envVar];
      if (!reader) {
        problems.push(`${secret.logicalId} (${envVar}): no known reader schema`);
        continue;
      }
      for (let i = 0; i < 20; i++) {
        const doc = JSON.parse(generateSecretValue(secret.generate)) as Record<string, unknown>;
        if (Object.values(doc).includes(CREDENTIAL_PLACEHOLDER)) {
          const example = examples.get(envVar);
          if (!example) {
            problems.push(`${secret.logicalId} (${envVar}): no put-secret-value example in the README`);
            break;
          }
          const keys = (v: object) => Object.keys(v).sort().join(',');
          if (keys(doc) !== keys(example))
            problems.push(`${secret.logicalId} (${envVar}): keys ${keys(doc)} ≠ README ${keys(example)}`);
          const parsed = reader.safeParse(example);
          if (!parsed.success)
            problems.push(`${secret.logicalId} (${envVar}): README example: ${describeIssues(parsed)}`);
          break;
        }
        const parsed = reader.safeParse(doc);
        if (!parsed.success) {
          problems.push(`${secret.logicalId} (${envVar}): as generated: ${describeIssues(parsed)}`);
          break;
        }
      }
    }
  }
  return problems;
}

/** `--secret-id "$<ENV>" ... --secret-string '<json>'` pairs from the README's deploy guide. */
function readmeSecretExamples(): Map<string, Record<string, unknown>> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const out = new Map<string, Record<string, unknown>>();
  for (const m of readme.matchAll(/--secret-id "\$(\w+)"[\s\\]*--secret-string '([^']+)'/g)) {
    out.set(m[1] as string, JSON.parse(m[2] as string) as Record<string, unknown>);
  }
  return out;
}

describe('secrets as cdk deploy creates them', () => {
  it('are each read by some function, and parse with the schema that function reads them with', () => {
    expect(secretProblems(SECRET_READERS)).toEqual([]);
  });

  it('finds the fresh-deployment bug: the original webhook schema refused the generated {"previous": ""}', () => {
    const original = z.object({ current: z.string().min(1), previous: z.string().min(1).nullish() });
    const problems = secretProblems({ ...SECRET_READERS, [SECRET_ENV.webhook]: original });
    expect(problems).toEqual([
      expect.stringMatching(/^WebhookSecret\w* \(WEBHOOK_SECRET_ARN\): as generated: previous:/),
    ]);
  });

  it('finds a planted template whose generated key is not the one the code reads', () => {
    const problems = secretProblems(SECRET_READERS, {
      customize: ({ stateful }) => {
        const cfn = stateful.webhookSecret.node.defaultChild as CfnResource;
        cfn.addPropertyOverride('GenerateSecretString.GenerateStringKey', 'secret');
      },
    });
    expect(problems).toEqual([
      expect.stringMatching(/WebhookSecret\w* \(WEBHOOK_SECRET_ARN\): as generated: current:/),
    ]);
  });
});

describe('generateSecretValue', () => {
  it('honours length, exclusions and the template, as GetRandomPassword does', () => {
    const value = JSON.parse(
      generateSecretValue({
        SecretStringTemplate: '{"a":"x"}',
        GenerateStringKey: 'k',
        PasswordLength: 48,
        ExcludePunctuation: true,
        ExcludeCharacters: 'abc',
      }),
    ) as { a: string; k: string };
    expect(value.a).toBe('x');
    expect(value.k).toMatch(/^[d-zA-Z0-9]{48}$/);
    expect(value.k).toMatch(/[0-9]/);
    expect(value.k).toMatch(/[A-Z]/);
    expect(generateSecretValue({})).toHaveLength(32);
  });
});
