import { CAMPAIGN_OBJECTS, type CampaignObject } from './campaign-rules.js';
import type { FieldHistoryTracking } from './field-history.js';
/** The sandbox org's record shapes, seed, write log and save results (the shapes the REST API answers). */

export type SfValue = string | number | boolean | null;
export type SfRecord = { Id: string; [field: string]: unknown };

export interface RecordError {
  statusCode: string;
  message: string;
  fields: string[];
}

export interface SaveResult {
  id?: string;
  success: boolean;
  errors: RecordError[];
  created?: boolean;
}

export type SObjectName = 'Lead' | 'Contact' | 'Task' | 'Event' | 'User' | CampaignObject;
export const SOBJECTS: readonly SObjectName[] = [
  'Lead',
  'Contact',
  'Task',
  'Event',
  'User',
  ...CAMPAIGN_OBJECTS,
];

export interface SeedLead {
  Id: string;
  Email?: string | null;
  FirstName?: string | null;
  LastName?: string | null;
  Company?: string | null;
  CreatedDate?: string;
  HasOptedOutOfEmail?: boolean;
  [field: string]: unknown;
}
export interface SeedContact {
  Id: string;
  Email?: string | null;
  FirstName?: string | null;
  LastName?: string | null;
  AccountId?: string | null;
  CreatedDate?: string;
  HasOptedOutOfEmail?: boolean;
  [field: string]: unknown;
}
export interface SandboxSeed {
  leads?: SeedLead[];
  contacts?: SeedContact[];
  tasks?: SfRecord[];
  events?: SfRecord[];
  campaigns?: Partial<Record<CampaignObject, SfRecord[]>>;
  users?: SfRecord[];
  /** LeadHistory / ContactHistory rows (a `--data-dir` snapshot). */
  history?: Partial<Record<'LeadHistory' | 'ContactHistory', SfRecord[]>>;
}

/** Who made a write: the `Sforce-Call-Options` client and the `Sforce-Auto-Assign` header. */
export interface WriteContext {
  client: string | undefined;
  autoAssign: string | undefined;
  kind: string;
}

export interface WriteLogEntry extends WriteContext {
  sobject: SObjectName;
  id: string;
  operation: 'create' | 'update' | 'delete';
  at: string;
}

export interface StoreOptions {
  /**
   * `unique-external-id` (default): Task.Marketo_Activity_Id__c is an External ID, unique.
   * `plain-field`: an ordinary text field (orgs that cannot make it an External ID): upsert on
   * it is refused and duplicates are allowed, so the product must keep its own ledger.
   */
  taskActivityIdMode?: 'unique-external-id' | 'plain-field';
  now?: () => Date;
  /**
   * Field history tracking: tracked fields per object (field-history.ts). Default: both opt-out
   * checkboxes on Lead and Contact. An object left out has no history object (INVALID_TYPE).
   */
  fieldHistory?: FieldHistoryTracking;
}

/** Salesforce's wire format for datetimes: `2024-05-01T10:00:00.000+0000`. */
export function sfDateTime(date: Date): string {
  return date.toISOString().replace('Z', '+0000');
}
