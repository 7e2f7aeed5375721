import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fault } from '../../../sandboxes/marketo/fault-controller.js';
import type { RecordedRequest } from '../../../sandboxes/marketo/marketo-sandbox.js';
import { type Harness, startHarness } from './helpers.js';

/**
 * Every request the client sends, over a scenario that uses every client method (including the
 * long-URI `_method=GET` form and retries), must be an operation of the vendor's Swagger: path and
 * method exist, every query parameter is declared for it, every required one is present. The
 * Swagger files are copies of shared/reference/marketo/ (public vendor documentation).
 */

interface SwaggerParameter {
  name: string;
  in: string;
  required?: boolean;
}
interface SwaggerDoc {
  paths: Record<string, Record<string, { parameters?: SwaggerParameter[] }>>;
}

const load = (file: string): SwaggerDoc =>
  JSON.parse(readFileSync(new URL(`./fixtures/${file}`, import.meta.url), 'utf8')) as SwaggerDoc;
const mapi = load('swagger-mapi.json');
const identity = load('swagger-identity.json');

function findOperation(path: string, method: string) {
  for (const doc of [mapi, identity]) {
    for (const [template, ops] of Object.entries(doc.paths)) {
      const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+').replace(/\./g, '\\.')}$`);
      if (pattern.test(path)) return { template, operation: ops[method.toLowerCase()] };
    }
  }
  return undefined;
}

/** Parameters a request carried: its URL query, or for `_method=GET` the form body. */
function parametersOf(r: RecordedRequest): Record<string, string> {
  if (r.method === 'POST' && r.effectiveMethod === 'GET') return { ...(r.body as Record<string, string>) };
  const { _method: _m, ...query } = r.query;
  return query;
}

function conformanceProblems(requests: RecordedRequest[]): string[] {
  const problems: string[] = [];
  for (const r of requests) {
    const found = findOperation(r.path, r.effectiveMethod);
    if (!found?.operation) {
      problems.push(`${r.effectiveMethod} ${r.path}: not in Swagger`);
      continue;
    }
    const declared = (found.operation.parameters ?? []).filter((p) => p.in === 'query');
    const sent = parametersOf(r);
    for (const name of Object.keys(sent))
      if (!declared.some((p) => p.name === name))
        problems.push(`${r.effectiveMethod} ${found.template}: undeclared query parameter '${name}'`);
    for (const p of declared)
      if (p.required && !(p.name in sent))
        problems.push(`${r.effectiveMethod} ${found.template}: missing required '${p.name}'`);
    const needsBody = (found.operation.parameters ?? []).some((p) => p.in === 'body' && p.required);
    if (needsBody && (r.body === undefined || r.body === null))
      problems.push(`${r.effectiveMethod} ${found.template}: missing required body`);
  }
  return problems;
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  const { client, sandbox, now } = h;
  const world = sandbox.world;

  const token = await client.getPagingToken(new Date(now.value - 86_400_000));
  await client.getActivities({ nextPageToken: token, activityTypeIds: [6, 7, 10], batchSize: 50 });
  await client.getLeadChanges({
    nextPageToken: token,
    fields: ['unsubscribed', 'unsubscribedReason'],
    batchSize: 100,
  });
  await client.getDeletedLeads({ nextPageToken: token, batchSize: 100 });
  await client.getActivityTypes();
  await client.getLeads({
    filterType: 'id',
    filterValues: world.leads.slice(0, 10).map((l) => l.id),
    fields: ['email'],
  });
  await client.getLeads({
    filterType: 'email',
    filterValues: world.leads.slice(0, 300).map((l) => l.email.trim()),
    fields: ['email', 'sfdcType', 'sfdcLeadId', 'sfdcContactId', 'unsubscribed'],
  });
  const lead = world.leads[0]!;
  await client.getLeads({
    filterType: 'sfdcContactId',
    filterValues: ['0035g0000000010AAA'],
    fields: ['email'],
  });
  await client.syncLeads({
    action: 'updateOnly',
    lookupField: 'id',
    input: [{ id: lead.id, unsubscribed: true }],
  });
  const type = await client.createCustomActivityType({
    apiName: 'salesforceTask_c',
    name: 'Salesforce Task',
    triggerName: 'Has Salesforce Task',
    filterName: 'Had Salesforce Task',
    primaryAttribute: { apiName: 'subject_c', name: 'Subject' },
  });
  await client.approveCustomActivityType(type.apiName);
  await client.getCustomActivityTypes();
  await client.addCustomActivities([
    {
      leadId: lead.id,
      activityDate: '2026-10-15T09:00:00Z',
      activityTypeId: type.id,
      primaryAttributeValue: 'Call',
    },
  ]);
  const job = await client.bulkExport.createActivityExport({
    startAt: new Date('2026-10-01T00:00:00Z'),
    endAt: new Date('2026-10-10T00:00:00Z'),
    activityTypeIds: [6, 7],
  });
  await client.bulkExport.enqueueActivityExport(job.exportId);
  await client.bulkExport.activityExportStatus(job.exportId);
  await client.bulkExport.readActivityExport(job.exportId, { offset: 0, maxBytes: 65_536 });
  const spare = await client.bulkExport.createActivityExport({
    startAt: new Date('2026-09-01T00:00:00Z'),
    endAt: new Date('2026-09-02T00:00:00Z'),
    activityTypeIds: [6],
  });
  await client.bulkExport.cancelActivityExport(spare.exportId);
  // Retries and re-authentication must not change the request shape either.
  sandbox.faults.failNext(1, fault.code('604'), 'activities.json');
  sandbox.expireTokens();
  await client.getActivities({ nextPageToken: token, activityTypeIds: [6] });
});
afterAll(async () => {
  await h.sandbox.stop();
});

describe('Swagger conformance of the Marketo client', () => {
  it('exercised every endpoint of the scenario', () => {
    const seen = new Set(
      h.sandbox.stats.requests.map(
        (r) =>
          `${r.effectiveMethod} ${r.path.replace(/type\/[^/]+\//, 'type/{apiName}/').replace(/export\/[^/]+\/(\w+\.json)$/, 'export/{exportId}/$1')}`,
      ),
    );
    expect([...seen].sort()).toEqual(
      [
        'GET /identity/oauth/token',
        'GET /rest/v1/activities.json',
        'GET /rest/v1/activities/deletedleads.json',
        'GET /rest/v1/activities/external/types.json',
        'GET /rest/v1/activities/leadchanges.json',
        'GET /rest/v1/activities/pagingtoken.json',
        'GET /rest/v1/activities/types.json',
        'GET /rest/v1/leads.json',
        'POST /rest/v1/activities/external.json',
        'POST /rest/v1/activities/external/type.json',
        'POST /rest/v1/activities/external/type/{apiName}/approve.json',
        'POST /rest/v1/leads.json',
        'POST /bulk/v1/activities/export/create.json',
        'POST /bulk/v1/activities/export/{exportId}/enqueue.json',
        'GET /bulk/v1/activities/export/{exportId}/status.json',
        'GET /bulk/v1/activities/export/{exportId}/file.json',
        'POST /bulk/v1/activities/export/{exportId}/cancel.json',
      ].sort(),
    );
    expect(h.sandbox.stats.requests.some((r) => r.method === 'POST' && r.effectiveMethod === 'GET')).toBe(
      true,
    );
  });

  it('sends only documented paths, methods and query parameters, with every required one', () => {
    expect(conformanceProblems(h.sandbox.stats.requests)).toEqual([]);
  });

  it('the check itself flags undeclared and missing parameters', () => {
    const base = h.sandbox.stats.requests.find((r) => r.path === '/rest/v1/activities.json')!;
    const { activityTypeIds: _a, ...withoutTypes } = base.query;
    expect(
      conformanceProblems([
        { ...base, query: { ...base.query, access_token: 'x' } },
        { ...base, query: withoutTypes },
        { ...base, path: '/rest/v1/activities/bogus.json' },
      ]),
    ).toEqual([
      "GET /rest/v1/activities.json: undeclared query parameter 'access_token'",
      "GET /rest/v1/activities.json: missing required 'activityTypeIds'",
      'GET /rest/v1/activities/bogus.json: not in Swagger',
    ]);
  });

  it('authenticates REST calls with the Authorization header only', () => {
    const rest = h.sandbox.stats.requests.filter(
      (r) => r.path.startsWith('/rest/') || r.path.startsWith('/bulk/'),
    );
    expect(rest.length).toBeGreaterThan(10);
    expect(
      rest.filter((r) => r.headers.authorization !== 'Bearer <redacted>' || 'access_token' in r.query),
    ).toEqual([]);
  });
});
