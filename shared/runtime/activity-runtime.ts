import type { CallGovernor } from '../adapters/marketo/call-governor.js';
import type { MarketoApi } from '../ports/marketo-api.js';
import type { SalesforceApi } from '../ports/salesforce-api.js';
import { activityRuntimeFor } from './activity-composition.js';
import type { GrantedCredentials } from './credentials.js';
import { marketoClientFor } from './marketo-vendor.js';
import type { Platform } from './platform.js';
import { salesforceClientFor } from './salesforce-vendor.js';
import { clientsOf } from './vendor-clients.js';

/**
 * Both vendors' composition, for the CLI, the tests and the functions that call both. It imports
 * both vendor clients: a function that calls one vendor (or none) composes from the lean modules
 * instead (platform.ts, activity-composition.ts, vendor-clients.ts), so its bundle leaves the other out.
 */
export { activityDeps } from './activity-composition.js';
export { marketoGovernor, type Platform, platformFromEnv } from './platform.js';

/** Both vendors' client builders. */
export const BOTH_VENDORS = { marketo: marketoClientFor, salesforce: salesforceClientFor } as const;

/**
 * The vendor clients a function may use. A vendor whose secret the function was not granted (least
 * privilege: the fetch step never sees the Salesforce secret) gets a stand-in that refuses every call.
 */
export function vendorClients(
  platform: Platform,
  credentials: GrantedCredentials,
  governor?: CallGovernor,
): { marketo: MarketoApi; salesforce: SalesforceApi } {
  return clientsOf(BOTH_VENDORS, platform, credentials, governor);
}

/** The activity functions' composition with both vendors (write, schedule). */
export const activityRuntime = activityRuntimeFor(BOTH_VENDORS);
