import { DynamoDbSalesActivityStore } from '../adapters/dynamodb/sales-activity-store.js';
import type { CallGovernor } from '../adapters/marketo/call-governor.js';
import { MarketoCustomActivityEndpoints } from '../adapters/marketo/custom-activity-endpoints.js';
import { MarketoClient } from '../adapters/marketo/marketo-client.js';
import { SalesforceSalesActivityReader } from '../adapters/salesforce/sales-activity-reader.js';
import { SalesforceClient } from '../adapters/salesforce/salesforce-client.js';
import type { SalesActivityDeps } from '../salesactivity/sync-sales-activity.js';
import type { Platform } from './activity-runtime.js';
import { marketoGovernor } from './activity-runtime.js';
import { type GrantedCredentials, grantedVendor } from './credentials.js';

export interface SalesActivityRuntime {
  deps: SalesActivityDeps;
  /** Vendor calls made so far (for the run summary). */
  calls(): { marketo: number; salesforce: number };
}

/** Job 4a's dependencies from the platform and both vendors' credentials (the job needs both). */
export function salesActivityRuntime(
  platform: Platform,
  credentials: GrantedCredentials,
  runId: string,
  governor?: CallGovernor,
): SalesActivityRuntime {
  const m = grantedVendor('marketo', credentials);
  const s = grantedVendor('salesforce', credentials);
  if (!m || !s)
    throw new Error(
      'The sales-activity job needs both the Marketo and the Salesforce credentials; grant both secrets to its function.',
    );
  const marketo = new MarketoClient({
    baseUrl: m.MARKETO_BASE_URL,
    clientId: m.MARKETO_CLIENT_ID,
    clientSecret: m.MARKETO_CLIENT_SECRET,
    governor: governor ?? marketoGovernor(platform),
    logger: platform.logger,
  });
  const salesforce = new SalesforceClient({
    loginUrl: s.SALESFORCE_LOGIN_URL,
    clientId: s.SALESFORCE_CLIENT_ID,
    clientSecret: s.SALESFORCE_CLIENT_SECRET,
    apiVersion: platform.settings.salesforce.apiVersion,
  });
  return {
    deps: {
      source: new SalesforceSalesActivityReader(
        salesforce,
        platform.settings.salesforce.taskExternalIdField,
        () => salesforce.instanceUrl,
      ),
      marketo: new MarketoCustomActivityEndpoints(marketo),
      store: new DynamoDbSalesActivityStore(platform.doc, platform.tables.salesActivity),
      settings: platform.settings.salesActivities,
      runId,
    },
    calls: () => ({ marketo: marketo.callCounts().total, salesforce: salesforce.callCounts().total }),
  };
}
