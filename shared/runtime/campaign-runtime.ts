import { DynamoDbCampaignStateStore } from '../adapters/dynamodb/campaign-state-store.js';
import type { CallGovernor } from '../adapters/marketo/call-governor.js';
import { MarketoEmailActivityReader } from '../adapters/marketo/email-activity-reader.js';
import { SalesforceCampaignWriter } from '../adapters/salesforce/campaign-writer.js';
import type { CampaignSyncDeps } from '../campaigns/sync-campaigns.js';
import type { Platform } from './activity-runtime.js';
import { vendorClients } from './activity-runtime.js';
import type { GrantedCredentials } from './credentials.js';

/** Job 4b's dependencies from the platform and both vendors' credentials. */
export function campaignRuntime(
  platform: Platform,
  credentials: GrantedCredentials,
  governor?: CallGovernor,
): { deps: CampaignSyncDeps; calls(): { marketo: number; salesforce: number } } {
  const { marketo, salesforce } = vendorClients(platform, credentials, governor);
  const settings = platform.settings.campaigns;
  return {
    deps: {
      source: new MarketoEmailActivityReader(marketo),
      writer: new SalesforceCampaignWriter(salesforce, {
        optOutField: platform.settings.optOuts.salesforceField,
        lastFiveField: settings.lastFiveField ?? undefined,
      }),
      store: new DynamoDbCampaignStateStore(platform.doc, platform.tables.campaigns),
      settings: {
        lookbackDays: settings.lookbackDays,
        overlapMinutes: settings.overlapMinutes,
        programFilter: settings.programFilter,
        lastFiveField: settings.lastFiveField !== null,
      },
    },
    calls: () => ({ marketo: marketo.callCounts().total, salesforce: salesforce.callCounts().total }),
  };
}
