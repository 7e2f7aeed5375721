import type { CachedLead } from './lead-link.js';
import type { SalesforceRecordError } from './salesforce-records.js';

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
):
  | { ok: true; whoId: string; how: string; direct: boolean }
  | { ok: false; reason: 'leadNotFound' | 'noSalesforceRecord' } {
  if (!lead?.exists) return { ok: false, reason: 'leadNotFound' };
  const type = lead.sfdcType?.toLowerCase();
  /** direct: the WhoId is the Marketo lead's own Salesforce link (re-derivable from Marketo alone). */
  const ok = (whoId: string, how: string, direct = true) => ({ ok: true as const, whoId, how, direct });
  if (type === 'contact' && lead.sfdcContactId)
    return ok(lead.sfdcContactId, 'Marketo sfdcType Contact: sfdcContactId');
  if (lead.convertedContactId && (type === 'lead' || !type))
    return ok(
      lead.convertedContactId,
      `Lead ${lead.sfdcLeadId ?? ''} converted: its ConvertedContactId`,
      false,
    );
  if (type === 'lead' && lead.sfdcLeadId) return ok(lead.sfdcLeadId, 'Marketo sfdcType Lead: sfdcLeadId');
  // sfdcType can lag behind a conversion: prefer the Contact, which survives conversion.
  if (!type && lead.sfdcContactId) return ok(lead.sfdcContactId, 'no sfdcType: sfdcContactId');
  if (!type && lead.sfdcLeadId) return ok(lead.sfdcLeadId, 'no sfdcType: sfdcLeadId');
  return { ok: false, reason: 'noSalesforceRecord' };
}
