import { describe, expect, it } from 'vitest';
import { CREDENTIAL_KEYS } from '../../infra/stateful-stack.js';
import { TABLES, type TableKey } from '../../shared/adapters/dynamodb/table-definitions.js';
import { QUEUES, type QueueKey } from '../../shared/adapters/sqs/queue-definitions.js';
import { buildTestApp, logicalId } from './sync-test-app.js';

const { statefulTemplate: template, stateful } = buildTestApp();
const resources = template.toJSON().Resources as Record<
  string,
  { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string }
>;

function resourceOf(construct: Parameters<typeof logicalId>[0]) {
  const resource = resources[logicalId(construct)];
  if (!resource) throw new Error(`missing ${construct.node.path}`);
  return resource;
}

describe('SyncStatefulStack tables', () => {
  it.each(Object.keys(TABLES) as TableKey[])(
    'creates %s from TABLES: keys, on-demand, encrypted, PITR',
    (key) => {
      const def = TABLES[key];
      const keySchema: { AttributeName: string; KeyType: string }[] = [
        { AttributeName: def.partitionKey, KeyType: 'HASH' },
      ];
      if ('sortKey' in def) keySchema.push({ AttributeName: def.sortKey, KeyType: 'RANGE' });
      expect(resourceOf(stateful.tables[key]).Properties).toMatchObject({
        KeySchema: keySchema,
        BillingMode: 'PAY_PER_REQUEST',
        SSESpecification: { SSEEnabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      });
    },
  );

  it('turns on TTL exactly where the definition names a TTL attribute', () => {
    for (const [key, def] of Object.entries(TABLES) as [TableKey, (typeof TABLES)[TableKey]][]) {
      const ttl = resourceOf(stateful.tables[key]).Properties.TimeToLiveSpecification;
      if ('ttlAttribute' in def) expect(ttl).toEqual({ AttributeName: def.ttlAttribute, Enabled: true });
      else expect(ttl).toBeUndefined();
    }
  });

  it('retains the ledger, opt-outs, cursors and staged-Tasks tables when the stack is deleted', () => {
    for (const key of ['ledger', 'optOuts', 'cursors', 'staging'] as const) {
      expect(resourceOf(stateful.tables[key]).DeletionPolicy).toBe('Retain');
    }
  });

  it('outputs each table name', () => {
    for (const key of Object.keys(TABLES) as TableKey[]) {
      template.hasOutput(`${key.charAt(0).toUpperCase()}${key.slice(1)}TableName`, {
        Value: { Ref: logicalId(stateful.tables[key]) },
      });
    }
  });
});

describe('SyncStatefulStack queues', () => {
  const queueKeys = Object.keys(QUEUES) as QueueKey[];

  it.each(queueKeys)('redrives %s to its own dead-letter queue after maxReceiveCount', (key) => {
    const pair = stateful.queues[key];
    expect(resourceOf(pair.queue).Properties).toMatchObject({
      VisibilityTimeout: QUEUES[key].visibilityTimeoutSeconds,
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(pair.deadLetterQueue), 'Arn'] },
        maxReceiveCount: QUEUES[key].maxReceiveCount,
      },
    });
    expect(resourceOf(pair.deadLetterQueue).Properties).toMatchObject({
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
  });

  it('gives every queue without a redrive policy a role as a dead-letter queue', () => {
    const targets = new Set(
      Object.values(resources)
        .filter((r) => r.Type === 'AWS::SQS::Queue' && r.Properties.RedrivePolicy)
        .map((r) =>
          JSON.stringify(
            (r.Properties.RedrivePolicy as { deadLetterTargetArn: unknown }).deadLetterTargetArn,
          ),
        ),
    );
    targets.add(JSON.stringify({ 'Fn::GetAtt': [logicalId(stateful.scheduleDeadLetterQueue), 'Arn'] }));
    for (const [id, r] of Object.entries(resources)) {
      if (r.Type !== 'AWS::SQS::Queue' || r.Properties.RedrivePolicy) continue;
      expect(targets.has(JSON.stringify({ 'Fn::GetAtt': [id, 'Arn'] })), id).toBe(true);
    }
  });

  it('encrypts every queue and denies non-TLS access to each', () => {
    const queueIds = Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::SQS::Queue')
      .map(([id]) => id);
    expect(queueIds.length).toBeGreaterThan(0);
    const policies = Object.values(resources).filter((r) => r.Type === 'AWS::SQS::QueuePolicy');
    for (const id of queueIds) {
      expect(resources[id]?.Properties.SqsManagedSseEnabled).toBe(true);
      const policy = policies.find(
        (p) => JSON.stringify(p.Properties.Queues) === JSON.stringify([{ Ref: id }]),
      );
      expect(policy?.Properties.PolicyDocument).toMatchObject({
        Statement: expect.arrayContaining([
          expect.objectContaining({
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 'sqs:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      });
    }
  });

  it('takes maxReceiveCount from CDK context', () => {
    const custom = buildTestApp({ context: { maxReceiveCount: '3' } });
    const queue = custom.statefulTemplate.toJSON().Resources[logicalId(custom.stateful.queues.fetch.queue)];
    expect(queue.Properties.RedrivePolicy.maxReceiveCount).toBe(3);
  });
});

describe('SyncStatefulStack secrets', () => {
  it.each(['marketo', 'salesforce'] as const)(
    "creates one %s credentials secret holding that vendor's keys only, for the user to fill in",
    (vendor) => {
      const generate = resourceOf(stateful.credentialsSecrets[vendor]).Properties.GenerateSecretString as {
        SecretStringTemplate: string;
        GenerateStringKey: string;
      };
      const keys = [...Object.keys(JSON.parse(generate.SecretStringTemplate)), generate.GenerateStringKey];
      expect(keys.sort()).toEqual([...CREDENTIAL_KEYS[vendor]].sort());
      expect(keys.every((k) => k.startsWith(vendor.toUpperCase()))).toBe(true);
    },
  );

  it('generates the webhook secret\'s "current" (whether the generated document is readable: generated-secrets.test.ts)', () => {
    const generate = resourceOf(stateful.webhookSecret).Properties.GenerateSecretString as {
      GenerateStringKey: string;
    };
    expect(generate.GenerateStringKey).toBe('current');
  });

  it('outputs every secret ARN', () => {
    template.hasOutput('MarketoCredentialsSecretArn', {
      Value: { Ref: logicalId(stateful.credentialsSecrets.marketo) },
    });
    template.hasOutput('SalesforceCredentialsSecretArn', {
      Value: { Ref: logicalId(stateful.credentialsSecrets.salesforce) },
    });
    template.hasOutput('WebhookSecretArn', { Value: { Ref: logicalId(stateful.webhookSecret) } });
  });
});
