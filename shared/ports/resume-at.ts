import { MarketoDailyQuotaError, MarketoParkedError } from './marketo-errors.js';
import { SalesforceApiLimitError } from './salesforce-errors.js';

/** Salesforce sends no Retry-After with REQUEST_LIMIT_EXCEEDED: look again after this long. */
export const SALESFORCE_LIMIT_PAUSE_MS = 3600_000;

/**
 * When a failure means "the vendor's budget is spent", the time the work may resume (epoch ms);
 * undefined for every other failure. The one place that knows which errors pause work.
 */
export function resumeAtFor(err: unknown, now = Date.now()): number | undefined {
  if (err instanceof MarketoDailyQuotaError) return err.resetAt.getTime();
  if (err instanceof MarketoParkedError) return err.until.getTime();
  if (err instanceof SalesforceApiLimitError) return now + SALESFORCE_LIMIT_PAUSE_MS;
  return undefined;
}
