import { describe, expect, it } from 'vitest';
import { tableNamesFromEnv } from '../../../shared/adapters/dynamodb/table-definitions.js';
import { DEFAULT_SETTINGS_INPUT, parseSettings } from '../../../shared/config/settings.js';
import { createLogger } from '../../../shared/observability/logger.js';
import { type Platform, vendorClients } from '../../../shared/runtime/activity-runtime.js';
import { createDocumentClient, createSqsClient } from '../../../shared/runtime/aws-clients.js';
import { VendorNotGrantedError } from '../../../shared/runtime/credentials.js';

/** A platform bound to the flush function's tables only (no governor table: it never calls Marketo). */
function flushPlatform(): Platform {
  return {
    settings: parseSettings(DEFAULT_SETTINGS_INPUT),
    logger: createLogger('test', { logLevel: 'CRITICAL' }),
    doc: createDocumentClient({ region: 'us-east-1' }),
    sqs: createSqsClient({ region: 'us-east-1' }),
    tables: tableNamesFromEnv({ STAGING_TABLE: 'staging', LEDGER_TABLE: 'ledger', RUNS_TABLE: 'runs' }),
    queueUrls: {},
  };
}

describe('vendorClients', () => {
  it('builds a Salesforce-only function without the governor table it is not bound to', async () => {
    const clients = vendorClients(flushPlatform(), {
      SALESFORCE_LOGIN_URL: 'https://acme.my.salesforce.com',
      SALESFORCE_CLIENT_ID: 'sf-id',
      SALESFORCE_CLIENT_SECRET: 'sf-secret',
    });

    expect(clients.salesforce.callCounts().total).toBe(0);
    await expect(clients.marketo.getActivityTypes()).rejects.toBeInstanceOf(VendorNotGrantedError);
  });

  it('still names the missing governor table when a Marketo function lacks it', () => {
    expect(() =>
      vendorClients(flushPlatform(), {
        MARKETO_BASE_URL: 'https://123-ABC-456.mktorest.com',
        MARKETO_CLIENT_ID: 'mk-id',
        MARKETO_CLIENT_SECRET: 'mk-secret',
      }),
    ).toThrow(/GOVERNOR_TABLE/);
  });
});
