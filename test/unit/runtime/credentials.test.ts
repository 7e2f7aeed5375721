import { describe, expect, it } from 'vitest';
import type { MarketoApi } from '../../../shared/ports/marketo-api.js';
import type { SalesforceApi } from '../../../shared/ports/salesforce-api.js';
import {
  InvalidCredentialsConfigError,
  loadCredentials,
  ungrantedClient,
  VendorNotGrantedError,
} from '../../../shared/runtime/credentials.js';

const MARKETO = {
  MARKETO_BASE_URL: 'https://123-ABC-456.mktorest.com',
  MARKETO_CLIENT_ID: 'mk-id',
  MARKETO_CLIENT_SECRET: 'mk-secret',
};
const SALESFORCE = {
  SALESFORCE_LOGIN_URL: 'https://acme.my.salesforce.com',
  SALESFORCE_CLIENT_ID: 'sf-id',
  SALESFORCE_CLIENT_SECRET: 'sf-secret',
};
const SECRETS: Record<string, unknown> = { 'arn:mk': MARKETO, 'arn:sf': SALESFORCE };

describe('loadCredentials', () => {
  const reads: string[] = [];
  const read = async (arn: string) => {
    reads.push(arn);
    return SECRETS[arn];
  };

  it('reads only the Marketo secret when only MARKETO_SECRET_ARN is set (the fetch steps)', async () => {
    reads.length = 0;
    const creds = await loadCredentials({ MARKETO_SECRET_ARN: 'arn:mk' }, read);
    expect(creds).toEqual(MARKETO);
    expect(reads).toEqual(['arn:mk']);
  });

  it('reads both secrets when both are granted', async () => {
    const creds = await loadCredentials(
      { MARKETO_SECRET_ARN: 'arn:mk', SALESFORCE_SECRET_ARN: 'arn:sf' },
      read,
    );
    expect(creds).toEqual({ ...MARKETO, ...SALESFORCE });
  });

  it('refuses a vendor secret missing one of its keys, naming the key and never the values', async () => {
    const error = await loadCredentials({ SALESFORCE_SECRET_ARN: 'arn:bad' }, async () => ({
      ...SALESFORCE,
      SALESFORCE_CLIENT_ID: '',
    })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidCredentialsConfigError);
    expect((error as Error).message).toMatch(/SALESFORCE_CLIENT_ID/);
    expect((error as Error).message).not.toContain('sf-secret');
  });

  it('reads all six variables from the environment locally', async () => {
    expect(await loadCredentials({ ...MARKETO, ...SALESFORCE })).toEqual({ ...MARKETO, ...SALESFORCE });
  });
});

describe('ungrantedClient', () => {
  it('counts no calls and refuses every API call, naming the secret that was not granted', async () => {
    const sf = ungrantedClient<SalesforceApi>('salesforce');
    expect(sf.callCounts().total).toBe(0);
    expect(sf.limitInfo()).toBeUndefined();
    const error = await sf.upsert('Task', 'Marketo_Activity_Id__c', []).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VendorNotGrantedError);
    expect((error as Error).message).toMatch(/SALESFORCE_SECRET_ARN/);
    const mk = ungrantedClient<MarketoApi>('marketo');
    await expect(mk.getActivityTypes()).rejects.toThrow(/MARKETO_SECRET_ARN/);
  });
});
