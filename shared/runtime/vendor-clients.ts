import type { CallGovernor } from '../adapters/marketo/call-governor.js';
import type { MarketoApi } from '../ports/marketo-api.js';
import type { SalesforceApi } from '../ports/salesforce-api.js';
import { type GrantedCredentials, ungrantedClient } from './credentials.js';
import type { marketoClientFor } from './marketo-vendor.js';
import type { Platform } from './platform.js';
import type { salesforceClientFor } from './salesforce-vendor.js';

/**
 * The vendor client builders a function bundles (marketo-vendor.ts, salesforce-vendor.ts). A vendor
 * left out is never called by that function (its secret is not granted either), so its client and
 * its library (jsforce for Salesforce) stay out of the bundle. Type imports only here.
 */
export interface VendorSet {
  marketo?: typeof marketoClientFor;
  salesforce?: typeof salesforceClientFor;
}

/**
 * The clients of a vendor set. A vendor whose secret the function was not granted (least privilege:
 * the fetch step never sees the Salesforce secret), or that the set leaves out, gets a stand-in that
 * refuses every call.
 */
export function clientsOf(
  vendors: VendorSet,
  platform: Platform,
  credentials: GrantedCredentials,
  governor?: CallGovernor,
): { marketo: MarketoApi; salesforce: SalesforceApi } {
  return {
    marketo: vendors.marketo
      ? vendors.marketo(platform, credentials, governor)
      : ungrantedClient<MarketoApi>('marketo'),
    salesforce: vendors.salesforce
      ? vendors.salesforce(platform, credentials)
      : ungrantedClient<SalesforceApi>('salesforce'),
  };
}
