import { campaignJob } from '../shared/runtime/campaign-runtime.js';
import { scheduledFunction } from '../shared/runtime/function-builder.js';
import { jobHostRuntime } from '../shared/runtime/job-run.js';

/**
 * EventBridge Scheduler (settings campaigns.schedule, job `campaigns`; every 15 minutes, job
 * `campaigns-continue`, only while a back-fill is open) → one job-4b run: Marketo email programs →
 * Salesforce Campaigns and member status.
 */
export const handler = scheduledFunction('sync-campaigns', jobHostRuntime('campaigns'), campaignJob);
