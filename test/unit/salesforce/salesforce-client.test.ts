import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type SalesforceSandbox,
  type SalesforceSandboxOptions,
  startSalesforceSandbox,
} from '../../../sandboxes/salesforce/salesforce-sandbox.js';
import {
  SalesforceClient,
  type SalesforceClientOptions,
} from '../../../shared/adapters/salesforce/salesforce-client.js';
import { soql } from '../../../shared/domain/soql.js';
import {
  SalesforceApiError,
  SalesforceApiLimitError,
  SalesforceAuthError,
  SalesforceBulkJobError,
  SalesforceUnknownOutcomeError,
} from '../../../shared/ports/salesforce-errors.js';

const LEADS = Array.from({ length: 5 }, (_, i) => ({
  Id: `00Q00000000000${String(i).padStart(1, '0')}AAA`,
  Email: `lead${i}@example.com`,
  FirstName: 'Lead',
  LastName: `Number${i}`,
  Company: 'Acme',
  CreatedDate: '2024-01-01T00:00:00.000+0000',
  HasOptedOutOfEmail: false,
}));
const CONTACTS = [
  {
    Id: '003000000000000AAA',
    Email: 'contact@example.com',
    FirstName: 'Con',
    LastName: 'Tact',
    AccountId: null,
    CreatedDate: '2024-01-01T00:00:00.000+0000',
    HasOptedOutOfEmail: false,
  },
];
const LEAD_ID = LEADS[0]!.Id;

function task(activityId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    WhoId: LEAD_ID,
    Subject: `Opened Email: ${activityId}`,
    Status: 'Completed',
    Priority: 'Normal',
    ActivityDate: '2024-05-01',
    Marketo_Activity_Id__c: activityId,
    ...overrides,
  };
}

let sandbox: SalesforceSandbox;
let client: SalesforceClient;

async function setup(
  options: SalesforceSandboxOptions = {},
  clientOptions: Partial<SalesforceClientOptions> = {},
) {
  sandbox = await startSalesforceSandbox({
    seed: { leads: LEADS, contacts: CONTACTS },
    bulkProcessingDelayMs: 5,
    ...options,
  });
  client = new SalesforceClient({
    loginUrl: sandbox.loginUrl,
    clientId: sandbox.clientId,
    clientSecret: sandbox.clientSecret,
    retry: { maxRetries: 3, baseDelayMs: 1, maxDelayMs: 5 },
    bulk: { pollIntervalMs: 10, pollTimeoutMs: 10_000 },
    ...clientOptions,
  });
}

afterEach(async () => {
  await sandbox?.stop();
});

describe('SalesforceClient auth', () => {
  beforeEach(() => setup());

  it('authenticates with client credentials and sends API calls to instance_url, with the explicit version', async () => {
    await client.query(soql`SELECT Id FROM Lead WHERE Email = ${'lead1@example.com'}`);
    expect(client.instanceUrl).toBe(sandbox.instanceUrl);
    expect(sandbox.instanceUrl).not.toBe(sandbox.loginUrl);
    expect(sandbox.stats.countByKind()).toEqual({ oauth: 1, query: 1 });
    expect(sandbox.stats.apiVersions()).toEqual(['62.0']);
    expect(sandbox.stats.requests.find((r) => r.kind === 'query')?.path).toBe('/services/data/v62.0/query');
    expect(sandbox.stats.requests.find((r) => r.kind === 'query')?.client).toBe('marketo-salesforce-sync');
  });

  it('refuses bad credentials with SalesforceAuthError', async () => {
    const bad = new SalesforceClient({
      loginUrl: sandbox.loginUrl,
      clientId: sandbox.clientId,
      clientSecret: 'wrong',
    });
    const error = await bad.query(soql`SELECT Id FROM Lead`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SalesforceAuthError);
    expect((error as SalesforceAuthError).errorCode).toBe('invalid_client');
    expect(sandbox.stats.countByKind()).toEqual({ oauth: 1 });
  });

  it('gets a new token once on an expired session and retries the call', async () => {
    await client.connect();
    sandbox.faults.expireSessions();
    const rows = await client.query<{ Id: string }>(soql`SELECT Id FROM Lead`);
    expect(rows).toHaveLength(5);
    expect(sandbox.stats.requests.map((r) => `${r.kind}:${r.status}`)).toEqual([
      'oauth:200',
      'query:401',
      'oauth:200',
      'query:200',
    ]);
    expect(client.callCounts().byKind).toEqual({ auth: 2, query: 2 });
  });

  it('fails with SalesforceAuthError when the fresh token is rejected too', async () => {
    sandbox.faults.inject('INVALID_SESSION_ID', { count: 2 });
    const error = await client.query(soql`SELECT Id FROM Lead`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SalesforceAuthError);
    expect((error as SalesforceAuthError).errorCode).toBe('INVALID_SESSION_ID');
    expect(sandbox.stats.countByKind()).toEqual({ oauth: 2, query: 2 });
  });

  it('uses the configured API version in every path', async () => {
    await sandbox.stop();
    await setup({}, { apiVersion: '60.0' });
    await client.upsert('Task', 'Marketo_Activity_Id__c', [task('g-1')]);
    await client.query(soql`SELECT Id FROM Task`);
    expect(sandbox.stats.apiVersions()).toEqual(['60.0']);
  });
});

describe('SalesforceClient sObject Collections', () => {
  beforeEach(() => setup());

  it('chunks 450 records into calls of 200, 200, 50 and returns results in input order', async () => {
    const records = Array.from({ length: 450 }, (_, i) => task(`guid-${i}`));
    const results = await client.upsert('Task', 'Marketo_Activity_Id__c', records);
    expect(sandbox.stats.recordsPerCall('upsert')).toEqual([200, 200, 50]);
    expect(results).toHaveLength(450);
    expect(results.every((r) => r.success && r.created === true)).toBe(true);
    for (const i of [0, 199, 200, 449]) {
      const stored = sandbox.state.tasks.get(results[i]!.id as string);
      expect(stored?.Marketo_Activity_Id__c).toBe(`guid-${i}`);
    }
    const write = sandbox.stats.requests.find((r) => r.kind === 'upsert');
    expect(write).toMatchObject({
      client: 'marketo-salesforce-sync',
      autoAssign: 'FALSE',
      path: '/services/data/v62.0/composite/sobjects/Task/Marketo_Activity_Id__c',
    });
    expect(sandbox.state.writeLog[0]).toMatchObject({
      client: 'marketo-salesforce-sync',
      autoAssign: 'FALSE',
      operation: 'create',
      sobject: 'Task',
    });
  });

  it('reports per-record errors in input order: lock row, bad WhoId, duplicate value, missing Status', async () => {
    await client.create('Task', [task('dup-1')]);
    sandbox.faults.inject('UNABLE_TO_LOCK_ROW', { count: 1 });
    const results = await client.create('Task', [
      task('lock-1'),
      task('ok-1'),
      task('bad-who', { WhoId: '00Q999999999999AAA' }),
      task('dup-1'),
      task('no-status', { Status: undefined }),
      task('ok-2'),
    ]);
    expect(results.map((r) => (r.success ? 'ok' : r.errors[0]?.statusCode))).toEqual([
      'UNABLE_TO_LOCK_ROW',
      'ok',
      'INVALID_CROSS_REFERENCE_KEY',
      'DUPLICATE_VALUE',
      'REQUIRED_FIELD_MISSING',
      'ok',
    ]);
    expect(results[2]!.errors[0]!.fields).toEqual(['WhoId']);
    expect(sandbox.tasksByActivityId('dup-1')).toHaveLength(1);
  });

  it('reports CANNOT_UPDATE_CONVERTED_LEAD for a converted Lead as WhoId (Salesforce Help 000384333)', async () => {
    const contactId = sandbox.state.convertLead(LEADS[1]!.Id);
    const [onLead, onContact] = await client.upsert('Task', 'Marketo_Activity_Id__c', [
      task('c-1', { WhoId: LEADS[1]!.Id }),
      task('c-2', { WhoId: contactId }),
    ]);
    expect(onLead?.errors[0]?.statusCode).toBe('CANNOT_UPDATE_CONVERTED_LEAD');
    expect(onContact?.success).toBe(true);
  });

  it('is idempotent on the external id: the same activity twice is one Task', async () => {
    const [first] = await client.upsert('Task', 'Marketo_Activity_Id__c', [task('same-guid')]);
    const [second] = await client.upsert('Task', 'Marketo_Activity_Id__c', [
      task('same-guid', { Subject: 'Updated' }),
    ]);
    expect(first).toMatchObject({ success: true, created: true });
    expect(second).toMatchObject({ success: true, created: false, id: first!.id });
    expect(sandbox.tasksByActivityId('same-guid')).toHaveLength(1);
    expect(sandbox.tasksByActivityId('same-guid')[0]?.Subject).toBe('Updated');
  });

  it('refuses upsert when the field is not an External ID (ledger mode)', async () => {
    await sandbox.stop();
    await setup({ taskActivityIdMode: 'plain-field' });
    const error = await client.upsert('Task', 'Marketo_Activity_Id__c', [task('x')]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SalesforceApiError);
    expect((error as SalesforceApiError).errorCode).toBe('INVALID_FIELD');
    expect((error as SalesforceApiError).status).toBe(400);
    const created = await client.create('Task', [task('x'), task('x')]);
    expect(created.every((r) => r.success)).toBe(true);
  });

  it('updates and deletes by id, in order, with Sforce-Auto-Assign: FALSE', async () => {
    const results = await client.update('Lead', [
      { Id: LEADS[2]!.Id, HasOptedOutOfEmail: true },
      { Id: '00Q999999999999AAA', HasOptedOutOfEmail: true },
    ]);
    expect(results.map((r) => r.success)).toEqual([true, false]);
    const lead = sandbox.state.leads.get(LEADS[2]!.Id);
    expect(lead?.HasOptedOutOfEmail).toBe(true);
    expect(lead?.SystemModstamp).not.toBe('2024-01-01T00:00:00.000+0000');
    expect(sandbox.state.writeLog.at(-1)).toMatchObject({
      id: LEADS[2]!.Id,
      autoAssign: 'FALSE',
      client: 'marketo-salesforce-sync',
    });

    const [created] = await client.create('Task', [task('to-delete')]);
    const deleted = await client.destroy('Task', [created!.id as string, created!.id as string]);
    expect(deleted.map((r) => (r.success ? 'ok' : r.errors[0]?.statusCode))).toEqual([
      'ok',
      'ENTITY_IS_DELETED',
    ]);
    expect(sandbox.state.tasks.has(created!.id as string)).toBe(false);
  });
});

describe('Salesforce sandbox seeded faults', () => {
  it('fails the same records for the same seed with a per-record probability', async () => {
    const outcomes: string[] = [];
    for (let run = 0; run < 2; run++) {
      await setup({ randomSeed: 7 });
      sandbox.faults.inject('UNABLE_TO_LOCK_ROW', { probability: 0.3 });
      const results = await client.upsert(
        'Task',
        'Marketo_Activity_Id__c',
        Array.from({ length: 100 }, (_, i) => task(`p-${i}`)),
      );
      outcomes.push(results.map((r) => (r.success ? '.' : 'L')).join(''));
      await sandbox.stop();
    }
    const locked = (outcomes[0]?.match(/L/g) ?? []).length;
    expect(locked).toBeGreaterThan(10);
    expect(locked).toBeLessThan(50);
    expect(outcomes[1]).toBe(outcomes[0]);
  });
});

describe('SalesforceClient retry policy', () => {
  beforeEach(() => setup());

  it('retries a 503 on upsert and succeeds', async () => {
    sandbox.faults.inject('HTTP_503', { count: 2 });
    const [result] = await client.upsert('Task', 'Marketo_Activity_Id__c', [task('r-1')]);
    expect(result?.success).toBe(true);
    expect(sandbox.stats.requests.filter((r) => r.kind === 'upsert').map((r) => r.status)).toEqual([
      503, 503, 200,
    ]);
  });

  it('does not retry a 503 on create: the outcome is the caller’s to resolve', async () => {
    sandbox.faults.inject('HTTP_503', { count: 1 });
    const error = await client.create('Task', [task('c-1')]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SalesforceUnknownOutcomeError);
    expect((error as SalesforceUnknownOutcomeError).status).toBe(503);
    expect(sandbox.stats.countByKind().create).toBe(1);
  });

  it('does not retry create when the response is lost after the commit', async () => {
    sandbox.faults.inject('LOSE_RESPONSE', { count: 1 });
    const error = await client.create('Task', [task('lost-create')]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SalesforceUnknownOutcomeError);
    expect((error as SalesforceUnknownOutcomeError).errorCode).toBe('CONNECTION_ERROR');
    expect(sandbox.tasksByActivityId('lost-create')).toHaveLength(1);
    expect(sandbox.stats.countByKind().create).toBe(1);
  });

  it('retries an upsert whose response was lost after the commit, without duplicating', async () => {
    sandbox.faults.inject('LOSE_RESPONSE', { count: 1 });
    const [result] = await client.upsert('Task', 'Marketo_Activity_Id__c', [task('lost-upsert')]);
    expect(result).toMatchObject({ success: true, created: false });
    expect(sandbox.tasksByActivityId('lost-upsert')).toHaveLength(1);
    expect(sandbox.stats.countByKind().upsert).toBe(2);
  });

  it('gives up on an idempotent call after the bounded retries', async () => {
    sandbox.faults.inject('HTTP_503', { count: 10 });
    const error = await client.query(soql`SELECT Id FROM Lead`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SalesforceApiError);
    expect(error).toMatchObject({ retryable: true, status: 503 });
    expect(sandbox.stats.countByKind().query).toBe(4);
  });

  it('turns REQUEST_LIMIT_EXCEEDED into SalesforceApiLimitError without retrying', async () => {
    sandbox.setApiUsage(999, 1000);
    await client.query(soql`SELECT Id FROM Lead`);
    expect(client.limitInfo()).toEqual({ used: 1000, limit: 1000 });
    const error = await client
      .upsert('Task', 'Marketo_Activity_Id__c', [task('l-1')])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SalesforceApiLimitError);
    expect(error).toMatchObject({
      errorCode: 'REQUEST_LIMIT_EXCEEDED',
      status: 403,
      limit: 1000,
      used: 1000,
    });
    expect(sandbox.stats.countByKind().upsert).toBe(1);
    expect(client.callCounts().errors).toEqual({ REQUEST_LIMIT_EXCEEDED: 1 });
  });

  it('tracks Sforce-Limit-Info and reads /limits', async () => {
    sandbox.setApiUsage(10, 15000);
    expect(client.limitInfo()).toBeUndefined();
    await client.query(soql`SELECT Id FROM Lead`);
    expect(client.limitInfo()).toEqual({ used: 11, limit: 15000 });
    expect(await client.limits()).toEqual({ used: 12, limit: 15000 });
    expect(client.callCounts()).toMatchObject({ total: 2, byKind: { auth: 1, query: 1, limits: 1 } });
  });
});

describe('SalesforceClient query', () => {
  it('fetches every page beyond 2,000 rows through nextRecordsUrl', async () => {
    const leads = Array.from({ length: 4500 }, (_, i) => ({
      Id: `00Q${String(i).padStart(12, '0')}AAA`,
      Email: `p${i}@example.com`,
      LastName: `L${i}`,
      Company: 'Acme',
      HasOptedOutOfEmail: i % 2 === 0,
    }));
    sandbox = await startSalesforceSandbox({ seed: { leads } });
    client = new SalesforceClient({
      loginUrl: sandbox.loginUrl,
      clientId: sandbox.clientId,
      clientSecret: sandbox.clientSecret,
    });
    const rows = await client.query<{ Id: string; Email: string }>(
      soql`SELECT Id, Email FROM Lead ORDER BY Email`,
    );
    expect(rows).toHaveLength(4500);
    expect(new Set(rows.map((r) => r.Id)).size).toBe(4500);
    expect(rows[0]).toEqual({ Id: expect.any(String), Email: 'p0@example.com' });
    expect(sandbox.stats.recordsPerCall('query')).toEqual([2000]);
    expect(sandbox.stats.recordsPerCall('queryMore')).toEqual([2000, 500]);
    const opted = await client.query(soql`SELECT Id FROM Lead WHERE HasOptedOutOfEmail = ${true}`);
    expect(opted).toHaveLength(2250);
  });

  it('finds exactly the record whose email holds quotes and backslashes, end to end', async () => {
    const hostile = [`o'brien@example.com`, `x\\' OR Email != '@example.com`, `' OR Email != '`];
    sandbox = await startSalesforceSandbox({
      seed: {
        leads: hostile.map((Email, i) => ({
          Id: `00Q00000000000${i}AAA`,
          Email,
          LastName: 'X',
          Company: 'Y',
        })),
      },
    });
    client = new SalesforceClient({
      loginUrl: sandbox.loginUrl,
      clientId: sandbox.clientId,
      clientSecret: sandbox.clientSecret,
    });
    for (const [i, email] of hostile.entries()) {
      const rows = await client.query<{ Id: string; Email: string }>(
        soql`SELECT Id, Email FROM Lead WHERE Email = ${email}`,
      );
      expect(rows).toEqual([{ Id: `00Q00000000000${i}AAA`, Email: email }]);
    }
    const none = await client.query(
      soql`SELECT Id FROM Lead WHERE Email IN ${["' OR Id != null OR Email = '"]}`,
    );
    expect(none).toEqual([]);
  });

  it('surfaces a malformed query as SalesforceApiError with the service code', async () => {
    sandbox = await startSalesforceSandbox();
    client = new SalesforceClient({
      loginUrl: sandbox.loginUrl,
      clientId: sandbox.clientId,
      clientSecret: sandbox.clientSecret,
    });
    const error = await client.query(soql`SELECT FROM`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SalesforceApiError);
    expect(error).toMatchObject({ errorCode: 'MALFORMED_QUERY', status: 400 });
  });
});

describe('SalesforceClient Bulk API 2.0', () => {
  beforeEach(() => setup());

  it('upserts 5,000 records and maps successes and failures back to input order', async () => {
    const records = Array.from({ length: 5000 }, (_, i) =>
      task(`bulk-${i}`, {
        ...(i % 500 === 7 ? { WhoId: '00Q999999999999AAA' } : {}),
        ...(i % 1000 === 3 ? { Subject: 'x'.repeat(300) } : {}),
        Description: i === 11 ? 'comma, "quote"\nnewline' : null,
      }),
    );
    const jobs: string[] = [];
    const results = await client.bulkUpsert('Task', 'Marketo_Activity_Id__c', records, {
      onJobCreated: async (id) => {
        jobs.push(id);
      },
    });
    expect(jobs).toHaveLength(1);
    expect(results).toHaveLength(5000);
    results.forEach((r, i) => {
      if (i % 500 === 7) expect(r.errors[0]?.statusCode, `record ${i}`).toBe('INVALID_CROSS_REFERENCE_KEY');
      else if (i % 1000 === 3) expect(r.errors[0]?.statusCode, `record ${i}`).toBe('STRING_TOO_LONG');
      else {
        expect(r.success, `record ${i}`).toBe(true);
        expect(sandbox.state.tasks.get(r.id as string)?.Marketo_Activity_Id__c).toBe(`bulk-${i}`);
      }
    });
    expect(results.filter((r) => !r.success)).toHaveLength(15);
    expect(sandbox.tasksByActivityId('bulk-11')[0]?.Description).toBe('comma, "quote"\nnewline');
    expect(sandbox.bulkJobs()[0]).toMatchObject({
      state: 'JobComplete',
      numberRecordsProcessed: 5000,
      numberRecordsFailed: 15,
    });
  });

  it('survives a lost response on UploadComplete: the retried close finds the job already closed', async () => {
    sandbox.faults.inject('LOSE_RESPONSE', { on: ['bulkClose'] });
    const results = await client.bulkUpsert(
      'Task',
      'Marketo_Activity_Id__c',
      Array.from({ length: 10 }, (_, i) => task(`lc-${i}`)),
    );
    expect(results.every((r) => r.success)).toBe(true);
    expect(sandbox.bulkJobs()).toHaveLength(1);
    expect(sandbox.stats.requests.filter((r) => r.kind === 'bulkClose').map((r) => r.status)).toEqual([
      200, 409,
    ]);
  });

  it('resumes a job by id after a restart instead of uploading again', async () => {
    const records = Array.from({ length: 300 }, (_, i) => task(`resume-${i}`));
    let saved: string | undefined;
    const crashing = new SalesforceClient({
      loginUrl: sandbox.loginUrl,
      clientId: sandbox.clientId,
      clientSecret: sandbox.clientSecret,
      bulk: { pollIntervalMs: 10, pollTimeoutMs: 0 },
    });
    const error = await crashing
      .bulkUpsert('Task', 'Marketo_Activity_Id__c', records, {
        onJobCreated: async (id) => {
          saved = id;
        },
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SalesforceBulkJobError);
    expect((error as SalesforceBulkJobError).jobId).toBe(saved);

    const results = await client.bulkUpsert('Task', 'Marketo_Activity_Id__c', records, {
      resumeJobId: saved as string,
    });
    expect(results.every((r) => r.success)).toBe(true);
    expect(sandbox.bulkJobs()).toHaveLength(1);
    expect(sandbox.stats.countByKind().bulkUpload).toBe(1);
    expect(sandbox.state.tasks.size).toBe(300);
  });
});
