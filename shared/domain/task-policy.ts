import type { CachedLead } from '../adapters/dynamodb/lead-cache-store.js';
import type { SalesforceRecordError } from '../ports/salesforce-api.js';

export type SkipReason =
  | 'typeDisabled'
  | 'leadNotFound'
  | 'noSalesforceRecord'
  | 'alreadyWritten'
  | 'alreadySkipped'
  | 'previouslyFailed';

/** Per-record Salesforce errors worth retrying (the record itself is fine). */
const TRANSIENT_RECORD_CODES = new Set([
  'UNABLE_TO_LOCK_ROW',
  'REQUEST_RUNNING_TOO_LONG',
  'SERVER_UNAVAILABLE',
  'NO_RESULT',
  'QUERY_TIMEOUT',
  /** A redelivered copy of the message is still writing this activity (ledger mode). */
  'CLAIMED_ELSEWHERE',
]);

export function isTransientRecordError(e: SalesforceRecordError): boolean {
  return TRANSIENT_RECORD_CODES.has(e.statusCode);
}

/**
 * WhoId per `sfdcType`: Lead → sfdcLeadId, Contact → sfdcContactId; nothing else gets a Task. A
 * Lead Salesforce converted goes to its ConvertedContactId (Salesforce refuses a converted Lead as
 * WhoId), also while Marketo still says sfdcType Lead.
 */
export function resolveWhoId(
  lead: CachedLead | undefined,
): { ok: true; whoId: string } | { ok: false; reason: 'leadNotFound' | 'noSalesforceRecord' } {
  if (!lead?.exists) return { ok: false, reason: 'leadNotFound' };
  const type = lead.sfdcType?.toLowerCase();
  if (type === 'contact' && lead.sfdcContactId) return { ok: true, whoId: lead.sfdcContactId };
  if (lead.convertedContactId && (type === 'lead' || !type))
    return { ok: true, whoId: lead.convertedContactId };
  if (type === 'lead' && lead.sfdcLeadId) return { ok: true, whoId: lead.sfdcLeadId };
  // sfdcType can lag behind a conversion: prefer the Contact, which survives conversion.
  if (!type && lead.sfdcContactId) return { ok: true, whoId: lead.sfdcContactId };
  if (!type && lead.sfdcLeadId) return { ok: true, whoId: lead.sfdcLeadId };
  return { ok: false, reason: 'noSalesforceRecord' };
}
