import { emailLookupForms, normaliseEmail } from '../domain/email.js';
import {
  marketoTarget,
  parseTarget,
  type SalesforcePersonObject,
  salesforceTarget,
  type TargetKey,
} from '../domain/opt-out-state.js';
import { soql, soqlIdentifier } from '../domain/soql.js';
import type { Lead, MarketoApi } from '../ports/marketo-api.js';
import type { SalesforceApi } from '../ports/salesforce-api.js';
import { MARKETO_MAX_BATCH } from '../ports/vendor-limits.js';

/**
 * Finding every record that carries a person's email on either side, and writing the opt-out to
 * them. Matching is by normalised email: Salesforce compares strings case-insensitively, and every
 * returned row is re-checked against the normalised set (padded or mixed-case variants included).
 */

export const SALESFORCE_PERSON_OBJECTS: readonly SalesforcePersonObject[] = ['Lead', 'Contact'];
/**
 * Encoded characters an `IN (...)` list may take in a query URL: the client refuses a query URL over
 * 15,000 characters (QUERY_TOO_LONG; Salesforce's URI limit is 16 KB), and the rest of the query
 * needs room. Chunked by encoded length, not by count: 100 non-ASCII emails can exceed it.
 */
export const SOQL_IN_LIST_BUDGET = 12_000;
/**
 * Emails per Marketo getLeads call: Marketo takes up to 300 filter values; the client re-sends a
 * URI over 8 KB as POST with `_method=GET`.
 */
const MARKETO_EMAILS_PER_CALL = 300;
/** Sync Leads takes at most 300 records per call. */
export const MARKETO_SYNC_BATCH = 300;

export interface PersonRecord {
  target: TargetKey;
  /** Normalised email. */
  email: string;
  optedOut: boolean;
  /** When the record last changed (SystemModstamp / updatedAt). */
  at: string;
}

export interface WriteOutcome {
  target: TargetKey;
  value: boolean;
  ok: boolean;
  /** Vendor error code (e.g. UNABLE_TO_LOCK_ROW, 1004). */
  error?: string;
  retryable?: boolean;
}

const chunks = <T>(items: readonly T[], size: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

/** What one value adds to a SOQL IN list once quoted, escaped and URL-encoded. */
export function encodedInListCost(value: string): number {
  return encodeURIComponent(`'${value.replace(/['\\]/g, '\\$&')}',`).length;
}

/** Splits values into IN lists whose encoded length stays within `budget` (one value per list at least). */
export function inListChunks(values: readonly string[], budget = SOQL_IN_LIST_BUDGET): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  let used = 0;
  for (const v of values) {
    const cost = encodedInListCost(v);
    if (current.length && used + cost > budget) {
      out.push(current);
      current = [];
      used = 0;
    }
    current.push(v);
    used += cost;
  }
  if (current.length) out.push(current);
  return out;
}

type SalesforceRow = { Id: string; Email?: string | null; SystemModstamp?: string | null } & Record<
  string,
  unknown
>;

export function salesforceRowToRecord(
  sobject: SalesforcePersonObject,
  row: SalesforceRow,
  field: string,
  now: Date,
): PersonRecord | undefined {
  if (!row.Email) return undefined;
  return {
    target: salesforceTarget(sobject, row.Id),
    email: normaliseEmail(row.Email),
    optedOut: row[field] === true,
    at: row.SystemModstamp ? new Date(row.SystemModstamp).toISOString() : now.toISOString(),
  };
}

/** Every Lead and Contact carrying one of these (normalised) emails. */
export async function findSalesforceRecords(
  sf: SalesforceApi,
  field: string,
  emails: readonly string[],
  now: Date,
): Promise<PersonRecord[]> {
  const wanted = new Set(emails.map(normaliseEmail));
  const out: PersonRecord[] = [];
  // A vendor may hold an internationalised domain in Unicode: ask for both forms.
  const forms = [...new Set([...wanted].flatMap(emailLookupForms))];
  for (const sobject of SALESFORCE_PERSON_OBJECTS) {
    for (const chunk of inListChunks(forms)) {
      const rows = await sf.query<SalesforceRow>(
        soql`SELECT Id, Email, ${soqlIdentifier(field)}, SystemModstamp FROM ${soqlIdentifier(sobject)} WHERE Email IN ${chunk}`,
      );
      for (const row of rows) {
        const rec = salesforceRowToRecord(sobject, row, field, now);
        if (rec && wanted.has(rec.email)) out.push(rec);
      }
    }
  }
  return out;
}

export const MARKETO_LEAD_FIELDS = [
  'id',
  'email',
  'unsubscribed',
  'unsubscribedReason',
  'updatedAt',
  'sfdcType',
  'sfdcLeadId',
  'sfdcContactId',
];

export function marketoLeadToRecord(lead: Lead, now: Date): PersonRecord | undefined {
  if (!lead.email) return undefined;
  const updatedAt = typeof lead.updatedAt === 'string' ? lead.updatedAt : undefined;
  return {
    target: marketoTarget(lead.id),
    email: normaliseEmail(lead.email),
    optedOut: lead.unsubscribed === true,
    at:
      updatedAt && !Number.isNaN(Date.parse(updatedAt))
        ? new Date(updatedAt).toISOString()
        : now.toISOString(),
  };
}

/** Every Marketo lead carrying one of these emails. Emails containing a comma cannot be looked up. */
export async function findMarketoLeads(
  mk: MarketoApi,
  emails: readonly string[],
  now: Date,
): Promise<PersonRecord[]> {
  const wanted = new Set(emails.map(normaliseEmail));
  const usable = [...new Set([...wanted].flatMap(emailLookupForms))].filter((e) => !e.includes(','));
  const out: PersonRecord[] = [];
  for (const chunk of chunks(usable, MARKETO_EMAILS_PER_CALL)) {
    const leads = await mk.getLeads({
      filterType: 'email',
      filterValues: chunk,
      fields: MARKETO_LEAD_FIELDS,
    });
    for (const lead of leads) {
      const rec = marketoLeadToRecord(lead, now);
      if (rec && wanted.has(rec.email)) out.push(rec);
    }
  }
  return out;
}

/** Record-level errors that will not heal by retrying: the record is gone, converted or refuses the value. */
const PERMANENT_SALESFORCE_ERRORS = new Set([
  'ENTITY_IS_DELETED',
  'INVALID_CROSS_REFERENCE_KEY',
  'CANNOT_UPDATE_CONVERTED_LEAD',
  'FIELD_CUSTOM_VALIDATION_EXCEPTION',
  'INVALID_FIELD',
  'INVALID_FIELD_FOR_INSERT_UPDATE',
  'INSUFFICIENT_ACCESS_OR_READONLY',
  'INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY',
  'MALFORMED_ID',
  'NOT_FOUND',
]);

/** Sets the opt-out field on Leads and Contacts through sObject Collections (the client chunks by 200). */
export async function writeSalesforce(
  sf: SalesforceApi,
  field: string,
  writes: readonly { target: TargetKey; value: boolean }[],
): Promise<WriteOutcome[]> {
  const out: WriteOutcome[] = [];
  for (const sobject of SALESFORCE_PERSON_OBJECTS) {
    const mine = writes.flatMap((w) => {
      const t = parseTarget(w.target);
      return t.system === 'salesforce' && t.sobject === sobject ? [{ ...w, id: t.id }] : [];
    });
    if (mine.length === 0) continue;
    const results = await sf.update(
      sobject,
      mine.map((w) => ({ Id: w.id, [field]: w.value })),
    );
    mine.forEach((w, i) => {
      const r = results[i];
      if (r?.success) {
        out.push({ target: w.target, value: w.value, ok: true });
        return;
      }
      const code = r?.errors[0]?.statusCode ?? 'NO_RESULT';
      out.push({
        target: w.target,
        value: w.value,
        ok: false,
        error: code,
        retryable: !PERMANENT_SALESFORCE_ERRORS.has(code),
      });
    });
  }
  return out;
}

/** Marketo per-item codes that retrying cannot fix (1004 lead not found, 1006/1007 field problems …). */
const PERMANENT_MARKETO_CODES = new Set(['1003', '1004', '1006', '1007', '1008', '1013']);

/** Sets `unsubscribed` on Marketo leads (Sync Leads, updateOnly by id, ≤ 300 per call). */
export async function writeMarketo(
  mk: MarketoApi,
  writes: readonly { target: TargetKey; value: boolean; reason?: string }[],
): Promise<WriteOutcome[]> {
  const out: WriteOutcome[] = [];
  const mine = writes.flatMap((w) => {
    const t = parseTarget(w.target);
    return t.system === 'marketo' ? [{ ...w, leadId: t.leadId }] : [];
  });
  for (const chunk of chunks(mine, MARKETO_MAX_BATCH)) {
    const results = await mk.syncLeads({
      action: 'updateOnly',
      lookupField: 'id',
      input: chunk.map((w) => ({
        id: w.leadId,
        unsubscribed: w.value,
        ...(w.value && w.reason ? { unsubscribedReason: w.reason.slice(0, 255) } : {}),
      })),
    });
    chunk.forEach((w, i) => {
      const r = results[i];
      if (r && r.status !== 'skipped') {
        out.push({ target: w.target, value: w.value, ok: true });
        return;
      }
      const code = r?.reasons?.[0]?.code ?? 'NO_RESULT';
      out.push({
        target: w.target,
        value: w.value,
        ok: false,
        error: code,
        retryable: !PERMANENT_MARKETO_CODES.has(code),
      });
    });
  }
  return out;
}
