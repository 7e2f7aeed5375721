/**
 * Job 4a: Salesforce sales activity (closed Tasks, ended Events) as one Marketo custom activity
 * each. Plain records and pure rules only.
 *
 * One custom activity type with a `kind` attribute (call | email | task | meeting), not one type
 * per kind: Marketo allows at most 10 custom activity types per instance, shared by every
 * integration (Marketo docs, "Create a Custom Activity": "Most subscriptions have an allocated
 * limit of 10 Custom Activity types"; error 1027), so spending four on one job would crowd out
 * the customer's own. Smart lists filter on the `kind` attribute just as well.
 */

export type SalesActivityKind = 'call' | 'email' | 'task' | 'meeting';
export const SALES_ACTIVITY_KINDS: readonly SalesActivityKind[] = ['call', 'email', 'task', 'meeting'];

/** A Task or Event as read from Salesforce (only the fields job 4a uses). */
export interface SalesActivityRecord {
  id: string;
  sobject: 'Task' | 'Event';
  kind: SalesActivityKind;
  whoId: string | null;
  subject: string;
  status: string;
  ownerId: string | null;
  /** When the call / email / meeting happened (ISO). */
  occurredAt: string;
  /** Task due date or Event end (YYYY-MM-DD or ISO), when known. */
  dueDate: string | null;
  description: string | null;
  systemModstamp: string;
  /** Set on Tasks this product wrote (job 1): never sent back. */
  marketoActivityId: string | null;
}

/** Task kind from TaskSubtype first (set by Salesforce on create), then Type. */
export function taskKind(
  taskSubtype: string | null | undefined,
  type: string | null | undefined,
): SalesActivityKind {
  const subtype = (taskSubtype ?? '').toLowerCase();
  if (subtype === 'call') return 'call';
  if (subtype === 'email' || subtype === 'listemail') return 'email';
  const t = (type ?? '').toLowerCase();
  if (t === 'call') return 'call';
  if (t === 'email') return 'email';
  return 'task';
}

/** The one custom activity type's attributes (the primary attribute is the Salesforce record Id). */
export interface CustomAttributeDefinition {
  apiName: string;
  name: string;
  /** Marketo attribute data types (Swagger CustomActivityTypeAttribute.dataType). */
  dataType: 'string' | 'text' | 'date' | 'datetime' | 'link';
}

export interface CustomActivityTypeDefinition {
  apiName: string;
  name: string;
  triggerName: string;
  filterName: string;
  description: string;
  primaryAttribute: CustomAttributeDefinition;
  attributes: CustomAttributeDefinition[];
}

export function salesActivityTypeDefinition(apiName: string, name: string): CustomActivityTypeDefinition {
  return {
    apiName,
    name,
    triggerName: `Logs ${name}`,
    filterName: `Logged ${name}`,
    description: 'A closed Salesforce Task or ended Event, written by the Marketo-Salesforce sync (job 4).',
    primaryAttribute: { apiName: 'salesforceRecordId', name: 'Salesforce Record Id', dataType: 'string' },
    attributes: [
      { apiName: 'kind', name: 'Kind', dataType: 'string' },
      { apiName: 'subject', name: 'Subject', dataType: 'string' },
      { apiName: 'status', name: 'Status', dataType: 'string' },
      { apiName: 'owner', name: 'Owner', dataType: 'string' },
      { apiName: 'dueDate', name: 'Due Date', dataType: 'string' },
      { apiName: 'completedAt', name: 'Completed At', dataType: 'datetime' },
      { apiName: 'recordLink', name: 'Salesforce Link', dataType: 'link' },
      { apiName: 'description', name: 'Description', dataType: 'text' },
    ],
  };
}

/**
 * Marketo refuses an activity whose attribute values exceed 65,536 bytes (error 1049,
 * API-NOTES); the description is cut so the whole attribute list stays well under it.
 */
export const DESCRIPTION_MAX_BYTES = 60_000;

/** Cuts a string to at most `maxBytes` of UTF-8 without splitting a character. */
export function truncateUtf8(value: string, maxBytes: number): string {
  if (Buffer.byteLength(value) <= maxBytes) return value;
  let out = '';
  let bytes = 0;
  for (const ch of value) {
    const b = Buffer.byteLength(ch);
    if (bytes + b > maxBytes - 3) break;
    out += ch;
    bytes += b;
  }
  return `${out}…`;
}

export interface CustomActivityItem {
  leadId: number;
  activityDate: string;
  activityTypeId: number;
  primaryAttributeValue: string;
  attributes: { apiName: string; value: string }[];
}

/** The Marketo custom activity for one record (empty values are left out, as Marketo omits them). */
export function toCustomActivity(
  record: SalesActivityRecord,
  leadId: number,
  activityTypeId: number,
  instanceUrl: string | undefined,
): CustomActivityItem {
  const values: [string, string | null][] = [
    ['kind', record.kind],
    ['subject', record.subject.slice(0, 255)],
    ['status', record.status],
    ['owner', record.ownerId],
    ['dueDate', record.dueDate],
    ['completedAt', record.occurredAt],
    ['recordLink', instanceUrl ? `${instanceUrl.replace(/\/$/, '')}/${record.id}` : null],
    ['description', record.description ? truncateUtf8(record.description, DESCRIPTION_MAX_BYTES) : null],
  ];
  return {
    leadId,
    activityDate: record.occurredAt,
    activityTypeId,
    primaryAttributeValue: record.id,
    attributes: values
      .filter((v): v is [string, string] => typeof v[1] === 'string' && v[1] !== '')
      .map(([apiName, value]) => ({ apiName, value })),
  };
}

/** Salesforce id key prefixes (Lead 00Q, Contact 003): which object a WhoId names. */
export function whoObject(whoId: string): 'Lead' | 'Contact' | undefined {
  if (whoId.startsWith('00Q')) return 'Lead';
  if (whoId.startsWith('003')) return 'Contact';
  return undefined;
}
