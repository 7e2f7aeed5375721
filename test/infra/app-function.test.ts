import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { describe, expect, it } from 'vitest';
import { AppFunction, TABLE_ACTIONS } from '../../infra/app-function.js';
import { DEFAULT_SETTINGS_INPUT, parseSettings } from '../../shared/config/settings.js';
import { logicalId, newTestApp } from './sync-test-app.js';

const settings = parseSettings(DEFAULT_SETTINGS_INPUT);

describe('AppFunction', () => {
  it('grants read-only table access without a single write action', () => {
    const app = newTestApp();
    const stack = new Stack(app, 'ReadProbe');
    const table = new Table(stack, 'Ledger', {
      partitionKey: { name: 'marketoGUID', type: AttributeType.STRING },
    });
    const fn = new AppFunction(stack, 'Probe', {
      entry: 'reconcile-optouts',
      description: 'probe',
      settings,
      tables: { ledger: table },
    }).bindTable('ledger', 'read');
    const template = Template.fromStack(stack);
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as { Action: string | string[] }[],
    );
    const actions = statements.flatMap((s) => ([] as string[]).concat(s.Action));
    expect(actions.filter((a) => a.startsWith('dynamodb:')).sort()).toEqual([...TABLE_ACTIONS.read].sort());
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: { LEDGER_TABLE: { Ref: logicalId(table) } },
      },
    });
    expect(fn.function.timeout?.toSeconds()).toBe(30);
  });

  it('refuses a queue consumer whose visibility timeout is under 6 x its timeout', async () => {
    const { QueueWithDeadLetter } = await import('../../infra/queue-with-dead-letter.js');
    const app = newTestApp();
    const stack = new Stack(app, 'ConsumerProbe');
    const queue = new QueueWithDeadLetter(stack, 'Q', {
      definition: { envVar: 'Q_URL', localName: 'q', visibilityTimeoutSeconds: 60, maxReceiveCount: 3 },
    });
    const fn = new AppFunction(stack, 'Probe', {
      entry: 'apply-unsubscribe',
      description: 'probe',
      settings,
    });
    expect(() => fn.bindQueueConsumer(queue, { batchSize: 1 })).toThrow(/under 6 × the 30s timeout/);
  });
});
