import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type SalesforceSandbox,
  startSalesforceSandbox,
} from '../../../sandboxes/salesforce/salesforce-sandbox.js';
import { parseCsv } from '../../../shared/adapters/salesforce/csv.js';
import { SalesforceClient } from '../../../shared/adapters/salesforce/salesforce-client.js';
import { soql } from '../../../shared/domain/soql.js';
import { SalesforceUnknownOutcomeError } from '../../../shared/ports/salesforce-errors.js';

const LEAD = { Id: '00Q000000000001AAA', Email: 'a@example.com', LastName: 'A', Company: 'C' };

let sandbox: SalesforceSandbox;
let token: string;

async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${sandbox.instanceUrl}/services/data/v62.0${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body === undefined
        ? {}
        : { 'Content-Type': typeof body === 'string' ? 'text/csv' : 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) as unknown };
}

beforeEach(async () => {
  sandbox = await startSalesforceSandbox({ seed: { leads: [LEAD] }, bulkProcessingDelayMs: 1 });
  const res = await fetch(`${sandbox.loginUrl}/services/oauth2/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: sandbox.clientId,
      client_secret: sandbox.clientSecret,
    }),
  });
  const body = (await res.json()) as Record<string, string>;
  expect(Object.keys(body).sort()).toEqual([
    'access_token',
    'id',
    'instance_url',
    'issued_at',
    'scope',
    'signature',
    'token_type',
  ]);
  expect(body.instance_url).toBe(sandbox.instanceUrl);
  token = body.access_token as string;
});

afterEach(() => sandbox.stop());

describe('Salesforce sandbox contract', () => {
  it('answers bad client credentials with 400 invalid_client', async () => {
    const res = await fetch(`${sandbox.loginUrl}/services/oauth2/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&client_id=x&client_secret=y',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('answers an unknown token with 401 INVALID_SESSION_ID and counts nothing', async () => {
    token = 'nope';
    const res = await api('GET', '/limits');
    expect(res.status).toBe(401);
    expect(res.json()).toEqual([{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
    expect(sandbox.apiUsage().used).toBe(0);
  });

  it('expires sessions after the configured lifetime', async () => {
    await sandbox.stop();
    sandbox = await startSalesforceSandbox({ sessionLifetimeMs: 300 });
    const client = new SalesforceClient({
      loginUrl: sandbox.loginUrl,
      clientId: sandbox.clientId,
      clientSecret: sandbox.clientSecret,
    });
    await client.query(soql`SELECT Id FROM Lead`);
    await new Promise((r) => setTimeout(r, 350));
    await client.query(soql`SELECT Id FROM Lead`);
    expect(sandbox.stats.requests.map((r) => `${r.kind}:${r.status}`)).toEqual([
      'oauth:200',
      'query:200',
      'query:401',
      'oauth:200',
      'query:200',
    ]);
  });

  it('puts Sforce-Limit-Info on every API response, errors included, and refuses past the limit', async () => {
    sandbox.setApiUsage(0, 3);
    const ok = await api('GET', '/limits');
    expect(ok.headers.get('sforce-limit-info')).toBe('api-usage=1/3');
    expect(ok.json()).toMatchObject({ DailyApiRequests: { Max: 3, Remaining: 2 } });
    const bad = await api('GET', `/query?q=${encodeURIComponent('SELECT nonsense')}`);
    expect(bad.status).toBe(400);
    expect(bad.headers.get('sforce-limit-info')).toBe('api-usage=2/3');
    await api('GET', '/limits');
    const over = await api('GET', '/limits');
    expect(over.status).toBe(403);
    expect(over.json()).toEqual([
      { message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' },
    ]);
  });

  it('rejects more than 200 records in one collection call', async () => {
    const records = Array.from({ length: 201 }, () => ({
      attributes: { type: 'Lead' },
      LastName: 'x',
      Company: 'y',
    }));
    const res = await api('POST', '/composite/sobjects', { allOrNone: false, records });
    expect(res.status).toBe(400);
    expect(res.json()).toEqual([{ message: expect.stringContaining('200'), errorCode: 'EXCEEDED_ID_LIMIT' }]);
    expect(sandbox.state.leads.size).toBe(1);
  });

  it('returns collection results in the documented shape', async () => {
    const res = await api('POST', '/composite/sobjects', {
      allOrNone: false,
      records: [
        {
          attributes: { type: 'Task' },
          WhoId: LEAD.Id,
          Subject: 's',
          Status: 'Completed',
          Priority: 'Normal',
        },
        {
          attributes: { type: 'Task' },
          WhoId: LEAD.Id,
          Subject: 'x'.repeat(256),
          Status: 'Completed',
          Priority: 'Normal',
        },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual([
      { id: expect.stringMatching(/^00T[A-Za-z0-9]{15}$/), success: true, errors: [] },
      {
        success: false,
        errors: [{ statusCode: 'STRING_TOO_LONG', message: expect.any(String), fields: ['Subject'] }],
      },
    ]);
  });

  it('rejects TaskSubtype on update, as the field is create-only', async () => {
    const task = {
      WhoId: LEAD.Id,
      Subject: 's',
      Status: 'Completed',
      Priority: 'Normal',
      TaskSubtype: 'Email',
      Marketo_Activity_Id__c: 'g',
    };
    const first = await api('PATCH', '/composite/sobjects/Task/Marketo_Activity_Id__c', {
      allOrNone: false,
      records: [{ attributes: { type: 'Task' }, ...task }],
    });
    expect(first.json()).toEqual([{ id: expect.any(String), success: true, errors: [], created: true }]);
    const second = await api('PATCH', '/composite/sobjects/Task/Marketo_Activity_Id__c', {
      allOrNone: false,
      records: [{ attributes: { type: 'Task' }, ...task }],
    });
    expect(second.json()).toMatchObject([
      { success: false, errors: [{ statusCode: 'INVALID_FIELD_FOR_INSERT_UPDATE' }] },
    ]);
  });

  it('counts COUNT() queries and serves 404 for unsupported API versions', async () => {
    const count = await api('GET', `/query?q=${encodeURIComponent('SELECT COUNT() FROM Lead')}`);
    expect(count.json()).toEqual({ totalSize: 1, done: true, records: [] });
    const old = await fetch(`${sandbox.instanceUrl}/services/data/v20.0/limits`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(old.status).toBe(404);
  });

  it('runs a Bulk API 2.0 ingest job to JobComplete with CSV results', async () => {
    const job = (await api('POST', '/jobs/ingest', {
      object: 'Task',
      operation: 'upsert',
      externalIdFieldName: 'Marketo_Activity_Id__c',
      contentType: 'CSV',
      lineEnding: 'LF',
    }).then((r) => r.json())) as { id: string; state: string };
    expect(job.state).toBe('Open');
    const csv = `WhoId,Subject,Status,Priority,Marketo_Activity_Id__c\n${LEAD.Id},"Hi, there",Completed,Normal,a1\n00Q999999999999AAA,x,Completed,Normal,a2\n`;
    expect((await api('PUT', `/jobs/ingest/${job.id}/batches`, csv)).status).toBe(201);
    expect((await api('PATCH', `/jobs/ingest/${job.id}`, { state: 'UploadComplete' })).json()).toMatchObject({
      state: 'UploadComplete',
    });
    let info: { state: string; numberRecordsProcessed: number; numberRecordsFailed: number } | undefined;
    for (let i = 0; i < 100; i++) {
      info = (await api('GET', `/jobs/ingest/${job.id}`)).json() as typeof info;
      if (info?.state === 'JobComplete') break;
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(info).toMatchObject({ state: 'JobComplete', numberRecordsProcessed: 2, numberRecordsFailed: 1 });
    const ok = parseCsv((await api('GET', `/jobs/ingest/${job.id}/successfulResults/`)).text);
    expect(ok[0]).toEqual([
      'sf__Id',
      'sf__Created',
      'WhoId',
      'Subject',
      'Status',
      'Priority',
      'Marketo_Activity_Id__c',
    ]);
    expect(ok[1]).toEqual([expect.any(String), 'true', LEAD.Id, 'Hi, there', 'Completed', 'Normal', 'a1']);
    const failed = parseCsv((await api('GET', `/jobs/ingest/${job.id}/failedResults/`)).text);
    expect(failed[1]?.[1]).toMatch(/^INVALID_CROSS_REFERENCE_KEY:/);
    expect(parseCsv((await api('GET', `/jobs/ingest/${job.id}/unprocessedrecords/`)).text)).toHaveLength(1);
  });

  it('refuses a Bulk upsert job on a field that is not an External ID in ledger mode', async () => {
    await sandbox.stop();
    sandbox = await startSalesforceSandbox({ taskActivityIdMode: 'plain-field' });
    const client = new SalesforceClient({
      loginUrl: sandbox.loginUrl,
      clientId: sandbox.clientId,
      clientSecret: sandbox.clientSecret,
    });
    await expect(
      client.bulkUpsert('Task', 'Marketo_Activity_Id__c', [{ Subject: 'x', Marketo_Activity_Id__c: 'a' }]),
    ).rejects.toMatchObject({
      errorCode: 'INVALIDJOB',
    });
  });

  it('times out a slow create as an unknown outcome, never retried', async () => {
    const client = new SalesforceClient({
      loginUrl: sandbox.loginUrl,
      clientId: sandbox.clientId,
      clientSecret: sandbox.clientSecret,
      requestTimeoutMs: 50,
    });
    await client.connect();
    sandbox.faults.setLatency(200);
    const error = await client.create('Lead', [{ LastName: 'x', Company: 'y' }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SalesforceUnknownOutcomeError);
    expect((error as SalesforceUnknownOutcomeError).errorCode).toBe('TIMEOUT');
    expect(sandbox.stats.countByKind().create).toBe(1);
  });
});
