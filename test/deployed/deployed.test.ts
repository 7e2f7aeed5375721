import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCampaignsCommand } from '../../cli/commands/campaigns.js';
import { runTasksCommand } from '../../cli/commands/tasks.js';
import { drainUntilIdle } from '../../cli/embedded/sqs-event-source.js';
import { addSyncStacks } from '../../infra/sync-app.js';
import type { MarketoSandbox } from '../../sandboxes/marketo/marketo-sandbox.js';
import type { SalesforceSandbox } from '../../sandboxes/salesforce/salesforce-sandbox.js';
import { DEFAULT_SETTINGS_INPUT, parseSettings } from '../../shared/config/settings.js';
import { METRICS, metricNames } from '../../shared/observability/metrics.js';
import { type Embedded, startEmbedded } from '../helpers/embedded.js';
import { newTestApp } from '../infra/sync-test-app.js';
import { type DeployedStack, PROJECT_VARIABLE, startDeployedStack } from './deployed-stack.js';

/**
 * The stack as synthesized, run end to end on this machine from the template alone (see
 * deployed-stack.ts): one night of activities, webhooks and the opt-out reconcile, compared
 * with the CLI path on the same seeded world. DEPLOYED_SIZE=full runs a bigger world
 * (`npm run test:deployed`); the default is the CI-sized run inside `npm test`.
 */
const FULL = process.env.DEPLOYED_SIZE === 'full';
const WORLD = { seed: 7, people: FULL ? 1_000 : 200, activities: FULL ? 10_000 : 1_200, days: 90 };
const input = structuredClone(DEFAULT_SETTINGS_INPUT);
// The settings file of this deployment (compiled into the bundles): a short Bulk quiet period.
// The webhook answers only the test's source address (an API Gateway sourceIp, see webhookEvent),
// at most 20 requests per source and hour.
const PER_SOURCE_LIMIT = { requests: 20, perSeconds: 3600 };
const settingsInput = {
  ...input,
  salesforce: { ...(input.salesforce as object), bulkFlushQuietSeconds: 2 },
  optOuts: {
    ...(input.optOuts as object),
    webhookAllowedSources: ['127.0.0.0/8'],
    webhookPerSourceLimit: PER_SOURCE_LIMIT,
  },
};
const settings = parseSettings(settingsInput);

let stack: DeployedStack;
let cli: Embedded;
let vendors: Embedded;
let salesforce: SalesforceSandbox;
const now = Date.now();

beforeAll(async () => {
  const app = newTestApp({ bundle: true, context: { 'aws:cdk:bundling-stacks': ['*Stateless'] } });
  const stacks = addSyncStacks(app, settings);
  const assembly = app.synth({ validateOnSynthesis: false });
  // The vendor sandboxes of a second embedded default on the same world serve the deployed stack.
  vendors = await startEmbedded({ world: { ...WORLD, now }, settings: () => structuredClone(settingsInput) });
  const marketo = vendors.local.marketoSandbox as MarketoSandbox;
  salesforce = vendors.local.salesforceSandbox as SalesforceSandbox;
  stack = await startDeployedStack({
    assembly,
    statefulStackName: stacks.stateful.stackName,
    statelessStackName: stacks.stateless.stackName,
    // What an operator does after `cdk deploy`: the vendors' URLs and credentials into their secrets.
    fillSecret: (id, generated) => {
      const doc = JSON.parse(generated) as Record<string, string>;
      if (id.startsWith('MarketoCredentials'))
        return JSON.stringify({
          ...doc,
          MARKETO_BASE_URL: marketo.baseUrl,
          MARKETO_CLIENT_ID: marketo.credentials.clientId,
          MARKETO_CLIENT_SECRET: marketo.credentials.clientSecret,
        });
      if (id.startsWith('SalesforceCredentials'))
        return JSON.stringify({
          ...doc,
          SALESFORCE_LOGIN_URL: salesforce.loginUrl,
          SALESFORCE_CLIENT_ID: salesforce.clientId,
          SALESFORCE_CLIENT_SECRET: salesforce.clientSecret,
        });
      return undefined;
    },
  });
  await stack.startEventSources();
  cli = await startEmbedded({
    world: { ...WORLD, now },
    settings: () => structuredClone(settingsInput),
  });
}, 600_000);

afterAll(async () => {
  await stack?.stop();
  await cli?.stop();
  await vendors?.stop();
});

const mainQueues = () =>
  [...stack.queueUrls.entries()].filter(([id]) => !/DeadLetter/.test(id)).map(([, url]) => url);

async function drain(): Promise<void> {
  await drainUntilIdle({ client: stack.sqs, queues: mainQueues(), idleMs: 1_500, timeoutMs: 300_000 });
}

async function runSchedule(match: RegExp): Promise<void> {
  const schedule = stack.schedules.find((s) => match.test(s.logicalId));
  if (!schedule) throw new Error(`no schedule matching ${match}`);
  // Scheduler substitutes its context attributes into the target's Input.
  const input = schedule.input
    .replaceAll('<aws.scheduler.scheduled-time>', new Date().toISOString())
    .replaceAll('<aws.scheduler.execution-id>', randomUUID());
  await stack.functions.get(schedule.functionId)?.invoke(JSON.parse(input));
}

/** An API Gateway HTTP API payload 2.0 event: lower-cased headers, binary bodies base64-encoded. */
function webhookEvent(
  headers: Record<string, string>,
  body: string,
  sourceIp = '127.0.0.1',
): APIGatewayProxyEventV2 {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const text = /^(application\/json|text\/)/.test(lower['content-type'] ?? '');
  const [method, path] = stack.webhookRouteKey.split(' ') as [string, string];
  return {
    version: '2.0',
    routeKey: stack.webhookRouteKey,
    rawPath: path,
    rawQueryString: '',
    headers: { ...lower, 'content-length': String(Buffer.byteLength(body)) },
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: 'local.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'local',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp, userAgent: 'Marketo' },
      requestId: randomUUID(),
      routeKey: stack.webhookRouteKey,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    body: text ? body : Buffer.from(body).toString('base64'),
    isBase64Encoded: !text,
  };
}

/** Items holding data (the webhook's per-source request counters are rate state, not data). */
async function itemCount(): Promise<number> {
  let n = 0;
  for (const [id, table] of stack.tableNames) {
    if (id.startsWith('WebhookSourcesTable')) continue;
    const out = await stack.dynamo.send(new ScanCommand({ TableName: table, Select: 'COUNT' }));
    n += out.Count ?? 0;
  }
  return n;
}

async function messagesSent(): Promise<number> {
  let n = 0;
  for (const url of stack.queueUrls.values()) {
    const out = await stack.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    n += Number(out.Attributes?.ApproximateNumberOfMessages ?? 0);
    n += Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
  }
  return n;
}

const taskSet = (tasks: Iterable<object>) =>
  new Set(
    [...tasks].map((t) => {
      const task = t as { Marketo_Activity_Id__c?: unknown; WhoId?: unknown };
      return `${String(task.Marketo_Activity_Id__c)}→${String(task.WhoId)}`;
    }),
  );

describe('the synthesized stack, deployed on the embedded emulators', () => {
  it('runs one night: activity schedule → fetch → write → Bulk flush, as the CLI path does', async () => {
    await runSchedule(/^Activities/);
    await drain();
    await cli.runCycle();
    const deployed = taskSet(salesforce.state.tasks.values());
    const local = taskSet(cli.local.salesforceSandbox?.state.tasks.values() ?? []);
    expect(deployed.size).toBeGreaterThan(0);
    expect(deployed).toEqual(local);
  }, 600_000);

  it('answers webhooks as API Gateway would deliver them; every 4xx writes nothing', async () => {
    const secret = JSON.parse(
      [...stack.secrets.entries()].find(([arn]) => arn.includes(':secret:WebhookSecret'))?.[1] ?? '{}',
    ) as { current: string };
    const webhook = stack.functions.get(stack.webhookFunctionId);
    if (!webhook) throw new Error('no webhook function');
    const person = cli.world.leads.find((l) => !l.unsubscribed && l.sfdcType === 'Lead' && l.sfdcLeadId);
    if (!person) throw new Error('no subscribed Lead in the world');
    const json = { 'Content-Type': 'application/json' };
    const refused: [string, APIGatewayProxyEventV2, number][] = [
      [
        'outside optOuts.webhookAllowedSources',
        webhookEvent(
          { ...json, 'X-Webhook-Secret': secret.current },
          JSON.stringify({ email: person.email, leadId: person.id }),
          '203.0.113.7',
        ),
        403,
      ],
      ['forged', webhookEvent({ ...json, 'X-Webhook-Secret': 'forged' }, '{"leadId":1}'), 401],
      ['no secret', webhookEvent(json, '{"leadId":1}'), 401],
      [
        'oversize',
        webhookEvent(
          { ...json, 'X-Webhook-Secret': secret.current },
          JSON.stringify({ leadId: 1, pad: 'x'.repeat(17_000) }),
        ),
        413,
      ],
      [
        'wrong type',
        webhookEvent(
          { 'Content-Type': 'application/octet-stream', 'X-Webhook-Secret': secret.current },
          '{"leadId":1}',
        ),
        415,
      ],
    ];
    for (const [what, event, status] of refused) {
      const items = await itemCount();
      const messages = await messagesSent();
      const res = (await webhook.invoke(event)) as { statusCode: number };
      expect(res.statusCode, what).toBe(status);
      expect(await itemCount(), what).toBe(items);
      expect(await messagesSent(), what).toBe(messages);
    }
    const res = (await webhook.invoke(
      webhookEvent(
        { ...json, 'X-Webhook-Secret': secret.current },
        JSON.stringify({ email: person.email, leadId: person.id }),
      ),
    )) as { statusCode: number };
    expect(res.statusCode).toBe(202);
    await drain();
    expect(salesforce.state.leads.get(person.sfdcLeadId as string)?.HasOptedOutOfEmail).toBe(true);
  }, 300_000);

  it('throttles one source over optOuts.webhookPerSourceLimit with 429 + Retry-After (refused requests count), others unaffected', async () => {
    const webhook = stack.functions.get(stack.webhookFunctionId);
    if (!webhook) throw new Error('no webhook function');
    // Not within 30 s of the hour's end, so every request below falls in one window.
    const leftMs = 3_600_000 - (Date.now() % 3_600_000);
    if (leftMs < 30_000) await new Promise((resolve) => setTimeout(resolve, leftMs + 100));
    const forged = (sourceIp: string) =>
      webhookEvent(
        { 'Content-Type': 'application/json', 'X-Webhook-Secret': 'forged' },
        '{"leadId":1}',
        sourceIp,
      );
    const statuses: number[] = [];
    for (let i = 0; i < PER_SOURCE_LIMIT.requests; i++)
      statuses.push(((await webhook.invoke(forged('127.0.0.9'))) as { statusCode: number }).statusCode);
    expect(new Set(statuses)).toEqual(new Set([401]));
    const messages = await messagesSent();

    const over = (await webhook.invoke(forged('127.0.0.9'))) as {
      statusCode: number;
      headers: Record<string, string>;
      body: string;
    };

    expect(over.statusCode).toBe(429);
    expect(Number(over.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(over.body)).toMatchObject({ error: 'too_many_requests' });
    expect(await messagesSent()).toBe(messages);
    expect(((await webhook.invoke(forged('127.0.0.10'))) as { statusCode: number }).statusCode).toBe(401);
  }, 300_000);

  it('runs the opt-out schedule → reconcile', async () => {
    await runSchedule(/^OptOuts/);
    await drain();
  }, 600_000);

  it('runs the job 4 schedules: Tasks/Events → Marketo custom activities, Campaigns with member status, as the CLI does', async () => {
    await runSchedule(/^SalesActivity/);
    await runSchedule(/^Campaigns/);
    await runTasksCommand(cli.local);
    await runCampaignsCommand(cli.local);
    // Custom activity types have ids ≥ 100000 (Marketo); keyed by the Salesforce record Id → lead.
    const customActivities = (e: Embedded) =>
      new Set(
        e.world.activities
          .filter((a) => a.activityTypeId >= 100_000)
          .map((a) => `${String(a.primaryAttributeValue)}→${a.leadId}`),
      );
    const deployedActivities = customActivities(vendors);
    expect(deployedActivities.size).toBeGreaterThan(0);
    expect(deployedActivities).toEqual(customActivities(cli));
    const members = (org: SalesforceSandbox | undefined) =>
      new Set(
        [...(org?.state.campaigns.CampaignMember.values() ?? [])].map((m) => {
          const campaign = org?.state.campaigns.Campaign.get(String(m.CampaignId));
          return `${String(campaign?.Name)}|${String(m.LeadId ?? m.ContactId)}|${String(m.Status)}`;
        }),
      );
    const deployedMembers = members(salesforce);
    expect(deployedMembers.size).toBeGreaterThan(0);
    expect(deployedMembers).toEqual(members(cli.local.salesforceSandbox as SalesforceSandbox));
  }, 600_000);

  it('invoked every function, with no error, reading only the environment the template gives it', async () => {
    const rows: string[] = [];
    const problems: string[] = [];
    const absent: string[] = [];
    for (const fn of stack.functions.values()) {
      const reads = await fn.reads();
      const project = reads.filter((k) => PROJECT_VARIABLE.test(k));
      const missing = project.filter((k) => !(k in fn.env));
      rows.push(
        `${fn.logicalId.padEnd(48)} invocations ${String(fn.invocations).padStart(4)}  errors ${fn.errors.length}  env read: ${reads.filter((k) => k in fn.env).join(', ')}`,
      );
      if (fn.invocations === 0) problems.push(`${fn.logicalId}: never invoked`);
      for (const e of fn.errors) problems.push(`${fn.logicalId}: ${e.name}: ${e.message}`);
      // Reading an optional variable is fine; failing for want of one the template does not set is not.
      const failures = [...fn.errors.map((e) => e.message), ...fn.errorLogs].join('\n');
      for (const k of missing)
        if (failures.includes(k))
          problems.push(`${fn.logicalId}: needs ${k}, which the template does not set`);
      absent.push(`${fn.logicalId}: ${missing.join(', ') || '-'}`);
    }
    console.log(
      `${rows.join('\n')}\nProject variables read but absent (optional reads):\n${absent.join('\n')}`,
    );
    expect(problems).toEqual([]);
    const completed = [...stack.functions.values()].flatMap((f) =>
      f.metrics.filter((m) => m.name === 'JobCompleted').map((m) => m.dimensions.job),
    );
    expect(new Set(completed)).toEqual(new Set(['activities', 'optouts', 'tasks', 'campaigns']));
    // The night's metrics, as the bundled functions emit them: only catalogue names, the main ones present.
    const emitted = new Set([...stack.functions.values()].flatMap((f) => f.metrics.map((m) => m.name)));
    expect([...emitted].filter((name) => !metricNames().includes(name))).toEqual([]);
    for (const def of [
      METRICS.activitiesRead,
      METRICS.vendorCalls.marketo,
      METRICS.webhookRequests['202'],
      METRICS.optOutsApplied.salesforce,
      METRICS.webhookToAppliedLatency,
    ])
      expect(emitted, def.name).toContain(def.name);
  });
});
