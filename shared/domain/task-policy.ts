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

/** WhoId per `sfdcType`: Lead → sfdcLeadId, Contact → sfdcContactId; nothing else gets a Task. */
export function resolveWhoId(
  lead: CachedLead | undefined,
): { ok: true; whoId: string } | { ok: false; reason: 'leadNotFound' | 'noSalesforceRecord' } {
  if (!lead?.exists) return { ok: false, reason: 'leadNotFound' };
  const type = lead.sfdcType?.toLowerCase();
  if (type === 'contact' && lead.sfdcContactId) return { ok: true, whoId: lead.sfdcContactId };
  if (type === 'lead' && lead.sfdcLeadId) return { ok: true, whoId: lead.sfdcLeadId };
  // sfdcType can lag behind a conversion: prefer the Contact, which survives conversion.
  if (!type && lead.sfdcContactId) return { ok: true, whoId: lead.sfdcContactId };
  if (!type && lead.sfdcLeadId) return { ok: true, whoId: lead.sfdcLeadId };
  return { ok: false, reason: 'noSalesforceRecord' };
}
