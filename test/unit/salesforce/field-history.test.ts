import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startLocalEnvironment } from '../../../cli/embedded/local-environment.js';
import {
  type SalesforceSandbox,
  type SalesforceSandboxOptions,
  startSalesforceSandbox,
} from '../../../sandboxes/salesforce/salesforce-sandbox.js';
import { createWorld } from '../../../sandboxes/world.js';
import { SalesforceClient } from '../../../shared/adapters/salesforce/salesforce-client.js';
import { DEFAULT_SETTINGS_INPUT, parseSettings } from '../../../shared/config/settings.js';
import { soql } from '../../../shared/domain/soql.js';
import { createLogger } from '../../../shared/observability/logger.js';

/** LeadHistory / ContactHistory in the Salesforce sandbox (sandboxes/salesforce/field-history.ts). */

const LEADS = [
  { Id: '00Q000000000001AAA', Email: 'a@example.com', LastName: 'A', Company: 'C' },
  { Id: '00Q000000000002AAA', Email: 'b@example.com', LastName: 'B', Company: 'C' },
];
const CONTACT = { Id: '003000000000001AAA', Email: 'c@example.com', LastName: 'C' };
const UI = { client: 'salesforce-ui', autoAssign: undefined, kind: 'ui' };

let sandbox: SalesforceSandbox | undefined;
afterEach(async () => {
  await sandbox?.stop();
  sandbox = undefined;
});

async function start(options: Omit<SalesforceSandboxOptions, 'seed'> = {}) {
  sandbox = await startSalesforceSandbox({ seed: { leads: LEADS, contacts: [CONTACT] }, ...options });
  const client = new SalesforceClient({
    loginUrl: sandbox.loginUrl,
    clientId: sandbox.clientId,
    clientSecret: sandbox.clientSecret,
    retry: { maxRetries: 0 },
  });
  return { sandbox, client };
}

type HistoryRow = {
  Id: string;
  LeadId?: string;
  ContactId?: string;
  Field: string;
  OldValue: unknown;
  NewValue: unknown;
  CreatedDate: string;
};

describe('Salesforce sandbox: field history', () => {
  it('records a row per change of a tracked field, dated by the update, through the API and the UI', async () => {
    const { sandbox: sf, client } = await start();
    await client.update('Lead', [{ Id: '00Q000000000001AAA', HasOptedOutOfEmail: true }]);
    sf.state.update('Lead', { Id: '00Q000000000001AAA', HasOptedOutOfEmail: false, FirstName: 'X' }, UI);
    // Same value again, an untracked field: no row.
    sf.state.update('Lead', { Id: '00Q000000000001AAA', HasOptedOutOfEmail: false, Company: 'D' }, UI);
    await client.update('Contact', [{ Id: CONTACT.Id, HasOptedOutOfEmail: true }]);

    const rows = await client.query<HistoryRow>(
      soql`SELECT Id, LeadId, Field, OldValue, NewValue, CreatedDate FROM LeadHistory WHERE Field = 'HasOptedOutOfEmail' ORDER BY CreatedDate`,
    );
    expect(rows.map((r) => [r.LeadId, r.Field, r.OldValue, r.NewValue])).toEqual([
      ['00Q000000000001AAA', 'HasOptedOutOfEmail', false, true],
      ['00Q000000000001AAA', 'HasOptedOutOfEmail', true, false],
    ]);
    expect(rows.every((r) => r.Id.startsWith('017'))).toBe(true);
    const lead = sf.state.leads.get('00Q000000000001AAA');
    // The second change's row is dated with the update that made it (the record's first stamp after it).
    expect(Date.parse(rows[1]?.CreatedDate ?? '')).toBeLessThan(Date.parse(String(lead?.SystemModstamp)));
    expect(Date.parse(rows[1]?.CreatedDate ?? '')).toBeGreaterThan(Date.parse(rows[0]?.CreatedDate ?? ''));

    const contactRows = await client.query<HistoryRow>(
      soql`SELECT ContactId, NewValue FROM ContactHistory WHERE ContactId = ${CONTACT.Id}`,
    );
    expect(contactRows.map((r) => [r.ContactId, r.NewValue])).toEqual([[CONTACT.Id, true]]);
  });

  it('answers the range-and-window query the night makes, ordered, and a custom field by its API name', async () => {
    const { sandbox: sf, client } = await start();
    const before = new Date(Date.now() - 1000);
    sf.state.update('Lead', { Id: '00Q000000000002AAA', Marketo_Sales_Opt_Out__c: true }, UI);
    sf.state.update('Lead', { Id: '00Q000000000001AAA', Marketo_Sales_Opt_Out__c: true }, UI);
    sf.state.update('Lead', { Id: '00Q000000000001AAA', HasOptedOutOfEmail: true }, UI);
    const rows = await client.query<HistoryRow>(
      soql`SELECT Id, LeadId, NewValue, CreatedDate FROM LeadHistory WHERE Field = 'Marketo_Sales_Opt_Out__c' AND LeadId >= '00Q000000000001AAA' AND LeadId <= '00Q000000000002AAA' AND CreatedDate > ${before} ORDER BY LeadId, CreatedDate DESC`,
    );
    expect(rows.map((r) => r.LeadId)).toEqual(['00Q000000000001AAA', '00Q000000000002AAA']);
    const later = await client.query<HistoryRow>(
      soql`SELECT Id FROM LeadHistory WHERE CreatedDate > ${new Date(Date.now() + 5000)}`,
    );
    expect(later).toEqual([]);
  });

  it('records nothing for a field that is not tracked', async () => {
    const { sandbox: sf, client } = await start({ fieldHistory: { Lead: ['Company'] } });
    sf.state.update('Lead', { Id: '00Q000000000001AAA', HasOptedOutOfEmail: true }, UI);
    expect(await client.query(soql`SELECT Id FROM LeadHistory`)).toEqual([]);
    sf.state.update('Lead', { Id: '00Q000000000001AAA', Company: 'New' }, UI);
    expect(await client.query<HistoryRow>(soql`SELECT Field FROM LeadHistory`)).toMatchObject([
      { Field: 'Company' },
    ]);
  });

  it('refuses the history of an object with no tracking as INVALID_TYPE, and tracking can be switched at runtime', async () => {
    const { sandbox: sf, client } = await start({ fieldHistory: { Lead: ['HasOptedOutOfEmail'] } });
    await expect(client.query(soql`SELECT Id FROM ContactHistory`)).rejects.toMatchObject({
      errorCode: 'INVALID_TYPE',
      status: 400,
      message: expect.stringContaining("sObject type 'ContactHistory' is not supported"),
    });
    sf.state.history.setTracking('Lead', undefined);
    await expect(client.query(soql`SELECT Id FROM LeadHistory`)).rejects.toMatchObject({
      errorCode: 'INVALID_TYPE',
    });
    sf.state.history.setTracking('Contact', ['HasOptedOutOfEmail']);
    sf.state.update('Contact', { Id: CONTACT.Id, HasOptedOutOfEmail: true }, UI);
    expect(await client.query(soql`SELECT Id FROM ContactHistory`)).toHaveLength(1);
  });

  it('refuses a filter on OldValue / NewValue (anyType: Sort, not Filter)', async () => {
    const { client } = await start();
    await expect(client.query(soql`SELECT Id FROM LeadHistory WHERE NewValue = false`)).rejects.toMatchObject(
      { errorCode: 'INVALID_FIELD', status: 400 },
    );
  });
});

describe('Salesforce sandbox: field history in a --data-dir', () => {
  it('keeps the history rows across a restart of the embedded default', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sf-history-'));
    const settings = parseSettings(DEFAULT_SETTINGS_INPUT);
    const logger = createLogger('test', { logLevel: 'CRITICAL' });
    const world = createWorld({ seed: 3, people: 10, activities: 20, days: 2, now: Date.now() });
    const first = await startLocalEnvironment({ settings, logger, env: {}, dataDir, world });
    const sf = first.salesforceSandbox as SalesforceSandbox;
    const contact = [...sf.state.contacts.values()][0] as { Id: string };
    sf.state.update('Contact', { Id: contact.Id, HasOptedOutOfEmail: true }, UI);
    const before = sf.state.history.table('ContactHistory')?.filter((r) => r.ContactId === contact.Id);
    await first.stop();

    const second = await startLocalEnvironment({ settings, logger, env: {}, dataDir });
    try {
      const after = (second.salesforceSandbox as SalesforceSandbox).state.history
        .table('ContactHistory')
        ?.filter((r) => r.ContactId === contact.Id);

      expect(before).toHaveLength(1);
      expect(after).toEqual(before);
    } finally {
      await second.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
