import { readFileSync } from 'node:fs';
import { App, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnElement } from 'aws-cdk-lib/core';
import type { IConstruct } from 'constructs';
import { addSyncStacks, type SyncStacks } from '../../infra/sync-app.js';
import { TABLES, type TableKey } from '../../shared/adapters/dynamodb/table-definitions.js';
import { QUEUES, type QueueKey } from '../../shared/adapters/sqs/queue-definitions.js';
import { DEFAULT_SETTINGS_INPUT, parseSettings, type Settings } from '../../shared/config/settings.js';

/** The project's real cdk.json context, so tests see the feature flags a deploy sees. */
const CDK_JSON_CONTEXT = (
  JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  }
).context;

export interface TestApp extends SyncStacks {
  readonly app: App;
  readonly statefulTemplate: Template;
  readonly statelessTemplate: Template;
  readonly labels: ResourceLabels;
}

/** An App with the project's cdk.json context (esbuild bundling skipped unless `bundle`). */
export function newTestApp(options: { context?: Record<string, unknown>; bundle?: boolean } = {}): App {
  return new App({
    context: {
      ...CDK_JSON_CONTEXT,
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      ...options.context,
    },
  });
}

/** Builds both stacks with the cdk-nag plugin registered, and their templates. */
export function buildTestApp(
  options: {
    context?: Record<string, unknown>;
    settings?: Settings;
    bundle?: boolean;
    /** Changes the stacks before they are synthesized (e.g. plants a violation a test must find). */
    customize?: (stacks: SyncStacks) => void;
  } = {},
): TestApp {
  const app = newTestApp(options);
  const stacks = addSyncStacks(app, options.settings ?? parseSettings(DEFAULT_SETTINGS_INPUT));
  options.customize?.(stacks);
  const statefulTemplate = Template.fromStack(stacks.stateful);
  const statelessTemplate = Template.fromStack(stacks.stateless);
  return { app, ...stacks, statefulTemplate, statelessTemplate, labels: resourceLabels(stacks) };
}

export function logicalId(construct: IConstruct): string {
  const child = construct.node.defaultChild ?? construct;
  const stack = (child as CfnElement).stack as Stack;
  return stack.getLogicalId(child as CfnElement);
}

/** Stateful resources by the label tests use (`table:ledger`, `queue:write`, `dlq:write`, `secret:webhook`). */
export type ResourceLabels = ReadonlyMap<string, string>;

function resourceLabels({ stateful }: SyncStacks): ResourceLabels {
  const labels = new Map<string, string>();
  for (const key of Object.keys(TABLES) as TableKey[])
    labels.set(logicalId(stateful.tables[key]), `table:${key}`);
  for (const key of Object.keys(QUEUES) as QueueKey[]) {
    labels.set(logicalId(stateful.queues[key].queue), `queue:${key}`);
    labels.set(logicalId(stateful.queues[key].deadLetterQueue), `dlq:${key}`);
  }
  labels.set(logicalId(stateful.scheduleDeadLetterQueue), 'dlq:schedule');
  labels.set(logicalId(stateful.credentialsSecrets.marketo), 'secret:marketo');
  labels.set(logicalId(stateful.credentialsSecrets.salesforce), 'secret:salesforce');
  labels.set(logicalId(stateful.webhookSecret), 'secret:webhook');
  return labels;
}

/**
 * Names a CloudFormation value from the stateless template: a cross-stack import names the
 * stateful resource's logical id in its export name. `*` stays `*`; anything else is `other`.
 */
export function labelOf(value: unknown, labels: ResourceLabels): string {
  if (value === '*') return '*';
  const text = JSON.stringify(value);
  const found = [...labels].filter(([id]) => text.includes(id)).map(([, label]) => label);
  if (found.length > 1) throw new Error(`ambiguous resource ${text}: ${found.join(', ')}`);
  return found[0] ?? 'other';
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** Every Allow statement of every policy attached to the role, as { label → sorted actions }. */
export function grantsOfRole(
  template: Template,
  roleLogicalId: string,
  labels: ResourceLabels,
): Record<string, string[]> {
  const grants: Record<string, Set<string>> = {};
  const policies = template.findResources('AWS::IAM::Policy');
  for (const policy of Object.values(policies)) {
    const props = policy.Properties as { Roles: unknown[]; PolicyDocument: { Statement: Statement[] } };
    if (!props.Roles.some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleLogicalId }))) continue;
    for (const statement of props.PolicyDocument.Statement) {
      if (statement.Effect !== 'Allow') continue;
      const actions = ([] as string[]).concat(statement.Action);
      const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
      for (const resource of resources) {
        const label = labelOf(resource, labels);
        grants[label] ??= new Set();
        for (const action of actions) grants[label].add(action);
      }
    }
  }
  return Object.fromEntries(Object.entries(grants).map(([label, set]) => [label, [...set].sort()]));
}
