import type { CallGovernor } from '../adapters/marketo/call-governor.js';
import { MarketoClient } from '../adapters/marketo/marketo-client.js';
import type { MarketoApi } from '../ports/marketo-api.js';
import { type GrantedCredentials, grantedVendor, ungrantedClient } from './credentials.js';
import { marketoGovernor, type Platform } from './platform.js';

/**
 * The Marketo client of a function granted the Marketo secret, else a stand-in that refuses every
 * call (least privilege). Its own module, so only the functions that name it bundle the client.
 */
export function marketoClientFor(
  platform: Platform,
  credentials: GrantedCredentials,
  governor?: CallGovernor,
): MarketoApi {
  const marketo = grantedVendor('marketo', credentials);
  return marketo
    ? new MarketoClient({
        baseUrl: marketo.MARKETO_BASE_URL,
        clientId: marketo.MARKETO_CLIENT_ID,
        clientSecret: marketo.MARKETO_CLIENT_SECRET,
        // Only a function granted Marketo has (and needs) the governor table.
        governor: governor ?? marketoGovernor(platform),
        logger: platform.logger,
      })
    : ungrantedClient<MarketoApi>('marketo');
}
