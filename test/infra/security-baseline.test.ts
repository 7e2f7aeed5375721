import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT, TABLE_ACTIONS } from '../../infra/app-function.js';
import type { SyncStatelessStack } from '../../infra/stateless-stack.js';
import { buildTestApp, labelOf, logicalId, newTestApp, type ResourceLabels } from './sync-test-app.js';

/**
 * The security baseline of the synthesized templates, as rules over every IAM policy of both
 * stacks (not only the functions' roles): no wildcard actions, `*` resources only where AWS has no
 * resource-level permission, only allow-listed actions, per-function secrets, encryption at rest.
 * `auditIam` returns the violations, so the tests below can also prove it finds planted ones.
 */

const built = buildTestApp();
const templates = { stateful: built.statefulTemplate, stateless: built.statelessTemplate };
type FunctionKey = keyof SyncStatelessStack['functions'];
const FUNCTION_KEYS = Object.keys(built.stateless.functions) as FunctionKey[];

/** Actions AWS does not scope to a resource; each needs `*` (and has a cdk-nag acknowledgement). */
const RESOURCELESS: Record<string, string> = {
  'xray:PutTraceSegments': 'X-Ray active tracing has no resource-level permissions',
  'xray:PutTelemetryRecords': 'X-Ray active tracing has no resource-level permissions',
};

/** Every action any role may hold. Adding one is a deliberate, reviewed change to this list. */
const ALLOWED_ACTIONS = new Set<string>([
  ...TABLE_ACTIONS.readWrite,
  ...TABLE_ACTIONS.read,
  ...TABLE_ACTIONS.update,
  'sqs:SendMessage',
  'sqs:ReceiveMessage',
  'sqs:DeleteMessage',
  'sqs:ChangeMessageVisibility',
  'sqs:GetQueueAttributes',
  'sqs:GetQueueUrl',
  'secretsmanager:GetSecretValue',
  'logs:CreateLogStream',
  'logs:PutLogEvents',
  'lambda:InvokeFunction',
  ...Object.keys(RESOURCELESS),
]);

interface Grant {
  stack: string;
  policy: string;
  roles: string[];
  action: string;
  resource: string;
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** A resource as a readable label: a stateful resource's label, `local:<LogicalId>[/…]`, or `*`. */
function describeResource(value: unknown, labels: ResourceLabels): string {
  const label = labelOf(value, labels);
  if (label !== 'other') return label;
  const text = JSON.stringify(value);
  const local = /"(?:Ref|Fn::GetAtt)":\s*(?:\["|")([A-Za-z0-9]+)"/.exec(text)?.[1];
  return local ? `local:${local}${text.includes(':*') ? '/*' : ''}` : text;
}

/** Every Allow (action, resource) pair of every identity policy in the templates. */
function identityGrants(all: Record<string, Template>, labels: ResourceLabels): Grant[] {
  const grants: Grant[] = [];
  for (const [stack, template] of Object.entries(all)) {
    const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: never }>;
    for (const [id, r] of Object.entries(resources)) {
      const docs: { name: string; roles: string[]; statements: Statement[] }[] = [];
      if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') {
        const p = r.Properties as { Roles?: { Ref: string }[]; PolicyDocument: { Statement: Statement[] } };
        docs.push({
          name: id,
          roles: (p.Roles ?? []).map((x) => x.Ref),
          statements: p.PolicyDocument.Statement,
        });
      }
      if (r.Type === 'AWS::IAM::Role') {
        const p = r.Properties as { Policies?: { PolicyDocument: { Statement: Statement[] } }[] };
        for (const inline of p.Policies ?? [])
          docs.push({ name: `${id}(inline)`, roles: [id], statements: inline.PolicyDocument.Statement });
      }
      for (const doc of docs)
        for (const s of doc.statements) {
          if (s.Effect !== 'Allow') continue;
          const resourcesOf = Array.isArray(s.Resource) ? s.Resource : [s.Resource];
          for (const action of ([] as string[]).concat(s.Action))
            for (const resource of resourcesOf)
              grants.push({
                stack,
                policy: doc.name,
                roles: doc.roles,
                action,
                resource: describeResource(resource, labels),
              });
        }
    }
  }
  return grants;
}

/** The baseline rules; returns one line per violation (empty = compliant). */
function auditIam(all: Record<string, Template>, labels: ResourceLabels): string[] {
  const violations: string[] = [];
  for (const g of identityGrants(all, labels)) {
    const where = `${g.stack}/${g.policy} ${g.action} on ${g.resource}`;
    if (g.action.includes('*')) violations.push(`wildcard action: ${where}`);
    else if (!ALLOWED_ACTIONS.has(g.action)) violations.push(`action not on the allow-list: ${where}`);
    if (g.resource === '*' && !(g.action in RESOURCELESS))
      violations.push(`* resource for an action that supports resource-level permissions: ${where}`);
  }
  for (const [stack, template] of Object.entries(all))
    for (const [id, role] of Object.entries(template.findResources('AWS::IAM::Role')))
      if ((role.Properties as { ManagedPolicyArns?: unknown[] }).ManagedPolicyArns?.length)
        violations.push(`managed policy attached (broader than we control): ${stack}/${id}`);
  return violations;
}

function grantsOf(key: FunctionKey): { action: string; resource: string }[] {
  const role = logicalId(built.stateless.functions[key].role);
  return identityGrants(templates, built.labels)
    .filter((g) => g.roles.includes(role))
    .map(({ action, resource }) => ({ action, resource }));
}

const secretsOf = (key: FunctionKey) =>
  [
    ...new Set(
      grantsOf(key)
        .filter((g) => g.resource.startsWith('secret:'))
        .map((g) => g.resource),
    ),
  ].sort();

describe('IAM least privilege (both stacks, every role)', () => {
  it('has no wildcard action, no action off the allow-list, no * resource where a resource is known, no managed policy', () => {
    expect(auditIam(templates, built.labels)).toEqual([]);
    // Not vacuous: every function's role holds grants, and the audit saw all of them.
    for (const key of FUNCTION_KEYS) expect(grantsOf(key).length).toBeGreaterThan(3);
  });

  it('finds planted violations (the audit can fail)', () => {
    const probe = buildTestApp({
      customize: ({ stateful, stateless }) => {
        const role = stateless.functions.fetchActivityPage.role;
        // cdk-nag would stop synth on the wildcard action; acknowledge it to reach the audit.
        Validations.of(role).acknowledge({ id: 'AwsSolutions-IAM5[Action::dynamodb:*]', reason: 'probe' });
        role.addToPrincipalPolicy(
          new PolicyStatement({ actions: ['dynamodb:*'], resources: [stateful.tables.ledger.tableArn] }),
        );
        role.addToPrincipalPolicy(new PolicyStatement({ actions: ['dynamodb:GetItem'], resources: ['*'] }));
        role.addToPrincipalPolicy(
          new PolicyStatement({
            actions: ['secretsmanager:PutSecretValue'],
            resources: [stateful.credentialsSecrets.salesforce.secretArn],
          }),
        );
      },
    });
    const violations = auditIam(
      { stateful: probe.statefulTemplate, stateless: probe.statelessTemplate },
      probe.labels,
    );
    expect(violations.sort()).toEqual([
      expect.stringMatching(/^\* resource for an action .*dynamodb:GetItem on \*$/),
      expect.stringMatching(
        /^action not on the allow-list: .*secretsmanager:PutSecretValue on secret:salesforce$/,
      ),
      expect.stringMatching(/^wildcard action: .*dynamodb:\* on table:ledger$/),
    ]);
  });

  it('grants * only for the X-Ray actions, to every function (tracing), and to nothing else', () => {
    const star = identityGrants(templates, built.labels).filter((g) => g.resource === '*');
    expect([...new Set(star.map((g) => g.action))].sort()).toEqual(Object.keys(RESOURCELESS).sort());
  });

  it('gives the Marketo-only steps (schedule, fetch) the Marketo secret and never the Salesforce one', () => {
    expect(secretsOf('scheduleActivitySync')).toEqual(['secret:marketo']);
    expect(secretsOf('fetchActivityPage')).toEqual(['secret:marketo']);
    for (const key of ['writeActivityTasks', 'applyUnsubscribe', 'reconcileOptOuts'] as const)
      expect(secretsOf(key)).toEqual(['secret:marketo', 'secret:salesforce']);
  });

  it('lets only the webhook receiver read the webhook secret, and the receiver nothing else secret', () => {
    const readers = FUNCTION_KEYS.filter((k) => secretsOf(k).includes('secret:webhook'));
    expect(readers).toEqual(['receiveUnsubscribeWebhook']);
    expect(secretsOf('receiveUnsubscribeWebhook')).toEqual(['secret:webhook']);
  });

  it('never lets a function scan (enumerate) a table, delete an item, or touch a table control plane', () => {
    const actions = FUNCTION_KEYS.flatMap((k) => grantsOf(k).map((g) => g.action));
    expect(actions.filter((a) => /^dynamodb:(Scan|DeleteItem|.*Table|.*Backup|Export.*)$/.test(a))).toEqual(
      [],
    );
    expect(actions.filter((a) => /^sqs:(Purge|Delete|Set|Create)Queue/.test(a))).toEqual([]);
  });

  it('grants every DynamoDB operation the stores send (except Scan, which only the CLI runs)', () => {
    const dir = join(PROJECT_ROOT, 'shared');
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    const sent = new Set<string>();
    for (const file of files) {
      const text = readFileSync(join(dir, file), 'utf8');
      if (!text.includes('@aws-sdk/lib-dynamodb') && !text.includes('@aws-sdk/client-dynamodb')) continue;
      for (const m of text.matchAll(/new (\w+?)(?:Item)?Command\(/g)) sent.add(`dynamodb:${m[1]}Item`);
    }
    const operation: Record<string, string> = {
      'dynamodb:BatchGetItem': 'dynamodb:BatchGetItem',
      'dynamodb:BatchWriteItem': 'dynamodb:BatchWriteItem',
      'dynamodb:QueryItem': 'dynamodb:Query',
      'dynamodb:ScanItem': 'dynamodb:Scan',
    };
    const actions = [...sent].map((a) => operation[a] ?? a).filter((a) => a !== 'dynamodb:Scan');
    expect(actions.length).toBeGreaterThanOrEqual(5);
    for (const action of actions) expect(TABLE_ACTIONS.readWrite).toContain(action);
  });
});

describe('encryption at rest', () => {
  const resources = (t: Template, type: string) =>
    Object.entries(t.findResources(type)) as [string, { Properties: Record<string, unknown> }][];

  it('encrypts every table with KMS under the AWS-managed key (aws/dynamodb), with point-in-time recovery', () => {
    const tables = resources(templates.stateful, 'AWS::DynamoDB::Table');
    expect(tables.length).toBeGreaterThanOrEqual(6);
    for (const [, t] of tables) {
      // SSEEnabled true without SSEType/KMSMasterKeyId = KMS with the AWS-managed key; the default
      // (no SSESpecification) would be an AWS-owned key, which CloudTrail cannot show being used.
      expect(t.Properties.SSESpecification).toEqual({ SSEEnabled: true });
      expect(t.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    }
  });

  it('encrypts every queue and dead-letter queue (SSE-SQS) and denies non-TLS access', () => {
    const queues = resources(templates.stateful, 'AWS::SQS::Queue');
    expect(queues.length).toBeGreaterThanOrEqual(7);
    for (const [id, q] of queues) {
      expect(
        q.Properties.SqsManagedSseEnabled === true || q.Properties.KmsMasterKeyId !== undefined,
        id,
      ).toBe(true);
    }
  });

  it('keeps secrets in Secrets Manager under its AWS-managed KMS key (aws/secretsmanager)', () => {
    const secrets = resources(templates.stateful, 'AWS::SecretsManager::Secret');
    expect(secrets.map(([id]) => built.labels.get(id)).sort()).toEqual([
      'secret:marketo',
      'secret:salesforce',
      'secret:webhook',
    ]);
    // No KmsKeyId = aws/secretsmanager; no SecretString = nothing secret in the template.
    for (const [, s] of secrets) {
      expect(s.Properties.KmsKeyId).toBeUndefined();
      expect(s.Properties.SecretString).toBeUndefined();
      expect(s.Properties.GenerateSecretString).toBeDefined();
    }
  });

  it('encrypts the alarm topic with a customer-managed key that rotates', () => {
    for (const [, topic] of resources(templates.stateless, 'AWS::SNS::Topic'))
      expect(topic.Properties.KmsMasterKeyId).toBeDefined();
    for (const [, key] of resources(templates.stateless, 'AWS::KMS::Key'))
      expect(key.Properties.EnableKeyRotation).toBe(true);
  });

  it('puts no secret value in any function environment', () => {
    for (const [, fn] of resources(templates.stateless, 'AWS::Lambda::Function')) {
      const vars = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      for (const name of Object.keys(vars)) expect(name).not.toMatch(/SECRET(?!_ARN$)|PASSWORD|TOKEN/);
    }
  });
});

describe('cdk-nag (AwsSolutionsChecks) acknowledgements', () => {
  const acknowledgements = built.app.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([rule, reason]) => ({
          path: c.node.path,
          rule: rule.replace(/^Annotation::/, ''),
          reason,
        })),
      ),
  );

  it('acknowledges only the expected rules, each on a named construct', () => {
    const rules = [...new Set(acknowledgements.map((a) => a.rule.replace(/\[.*$/, '')))].sort();
    expect(rules).toEqual([
      'AwsSolutions-APIG4',
      'AwsSolutions-IAM5',
      'AwsSolutions-SMG4',
      'AwsSolutions-SQS3',
    ]);
    // Never app- or stack-wide for a whole rule: either a construct below a stack, or one exact finding.
    for (const a of acknowledgements) expect(a.path.includes('/') || a.rule.includes('['), a.path).toBe(true);
  });

  it('gives every acknowledgement a specific written reason', () => {
    expect(acknowledgements.length).toBeGreaterThanOrEqual(8);
    for (const a of acknowledgements) {
      expect(a.reason.length, `${a.path} ${a.rule}`).toBeGreaterThanOrEqual(80);
      expect(a.reason, `${a.path} ${a.rule}`).not.toMatch(
        /\b(todo|tbd|n\/a|not needed|ignore|suppress(ed)?)\b/i,
      );
    }
    // One reason per kind of exception, not one boilerplate line pasted everywhere.
    const byReason = new Map<string, Set<string>>();
    for (const a of acknowledgements)
      byReason.set(a.reason, (byReason.get(a.reason) ?? new Set()).add(a.rule.replace(/\[.*$/, '')));
    for (const [reason, rules] of byReason) expect(rules.size, reason).toBe(1);
  });

  it.each([
    ['an action wildcard on a function role', 'AwsSolutions-IAM5'],
    ['an unencrypted queue', 'AwsSolutions-SQS2'],
    ['a secret without rotation', 'AwsSolutions-SMG4'],
  ] as const)(
    'fails synth on %s (%s): nothing outside the acknowledgements is silenced',
    async (_what, rule) => {
      const { addSyncStacks } = await import('../../infra/sync-app.js');
      const { DEFAULT_SETTINGS_INPUT, parseSettings } = await import('../../shared/config/settings.js');
      const { Queue, QueueEncryption } = await import('aws-cdk-lib/aws-sqs');
      const { Secret } = await import('aws-cdk-lib/aws-secretsmanager');
      const app = newTestApp();
      const { stateless } = addSyncStacks(app, parseSettings(DEFAULT_SETTINGS_INPUT));
      if (rule === 'AwsSolutions-IAM5')
        stateless.functions.fetchActivityPage.role.addToPrincipalPolicy(
          new PolicyStatement({ actions: ['sqs:*'], resources: ['arn:aws:sqs:us-east-1:111111111111:q'] }),
        );
      if (rule === 'AwsSolutions-SQS2') {
        const dlq = new Queue(stateless, 'ProbeDlq', {
          enforceSSL: true,
          encryption: QueueEncryption.SQS_MANAGED,
        });
        new Queue(stateless, 'ProbeQueue', {
          enforceSSL: true,
          encryption: QueueEncryption.UNENCRYPTED,
          deadLetterQueue: { queue: dlq, maxReceiveCount: 3 },
        });
        Validations.of(dlq).acknowledge({
          id: 'AwsSolutions-SQS3',
          reason: 'probe dead-letter queue of this test',
        });
      }
      if (rule === 'AwsSolutions-SMG4') new Secret(stateless, 'ProbeSecret');
      expect(() => app.synth()).toThrow(new RegExp(rule));
    },
  );
});
