import { SalesforceClient } from '../adapters/salesforce/salesforce-client.js';
import type { SalesforceApi } from '../ports/salesforce-api.js';
import { type GrantedCredentials, grantedVendor, ungrantedClient } from './credentials.js';
import type { Platform } from './platform.js';

/**
 * The Salesforce client (jsforce underneath) of a function granted the Salesforce secret, else a
 * stand-in that refuses every call. Its own module, so only the functions that name it bundle jsforce.
 */
export function salesforceClientFor(platform: Platform, credentials: GrantedCredentials): SalesforceApi {
  const salesforce = grantedVendor('salesforce', credentials);
  return salesforce
    ? new SalesforceClient({
        loginUrl: salesforce.SALESFORCE_LOGIN_URL,
        clientId: salesforce.SALESFORCE_CLIENT_ID,
        clientSecret: salesforce.SALESFORCE_CLIENT_SECRET,
        apiVersion: platform.settings.salesforce.apiVersion,
      })
    : ungrantedClient<SalesforceApi>('salesforce');
}
