import { KEY_PREFIX } from './salesforce-ids.js';
import type { SfRecord } from './sandbox-records.js';

/**
 * Field history of the sandbox org: LeadHistory and ContactHistory (Salesforce Object Reference,
 * "LeadHistory", "ContactHistory" and the model they follow, "StandardObjectNameHistory"): one row
 * per change of a tracked field, with `Id`, `LeadId` / `ContactId` (the parent), `Field` (the
 * changed field's name: a restricted picklist of the object's field API names), `DataType`,
 * `OldValue` and `NewValue` (anyType, "Nillable, Sort" — not Filter), `CreatedDate` (when the change
 * was recorded), `CreatedById` and `IsDeleted`. Supported calls: describeSObjects(), getDeleted(),
 * getUpdated(), query(), retrieve() — read-only through the API. "This object respects field level
 * security on the parent object": there is no object permission of its own to grant.
 *
 * Field history tracking is set per object in Setup (Lead and Contact have an object-level "Enable
 * Field History" switch, Salesforce Help "Track Field History for Standard Objects"), then per field.
 * Here: `fieldHistory` (sandbox option) maps an object to its tracked fields. An object missing from
 * the map has no history object: querying it is answered like any type the org does not expose,
 * 400 INVALID_TYPE "sObject type 'LeadHistory' is not supported." (the query resource's answer for
 * an unknown type; the same message reaches a user without access to the object). That a
 * disabled standard object's history is refused this way, rather than answered with no rows, is
 * not documented: the reader must cope with both. An object in the map with a field not listed
 * records nothing for that field.
 */

export type HistoryParent = 'Lead' | 'Contact';

/** History objects by name, with their parent object and parent id field. */
export const HISTORY_OBJECTS = {
  LeadHistory: { parent: 'Lead', parentIdField: 'LeadId' },
  ContactHistory: { parent: 'Contact', parentIdField: 'ContactId' },
} as const satisfies Record<string, { parent: HistoryParent; parentIdField: string }>;

export type HistoryObjectName = keyof typeof HISTORY_OBJECTS;

export type FieldHistoryTracking = Partial<Record<HistoryParent, readonly string[]>>;

/**
 * The sandbox default: an org set up as salesforce/README.md asks, history on for both opt-out
 * checkboxes (the standard Email Opt Out and seed 001's custom one) on Lead and Contact.
 */
export const DEFAULT_FIELD_HISTORY: FieldHistoryTracking = {
  Lead: ['HasOptedOutOfEmail', 'Marketo_Sales_Opt_Out__c'],
  Contact: ['HasOptedOutOfEmail', 'Marketo_Sales_Opt_Out__c'],
};

export function historyObjectOf(name: string): HistoryObjectName | undefined {
  return (Object.keys(HISTORY_OBJECTS) as HistoryObjectName[]).find(
    (o) => o.toLowerCase() === name.toLowerCase(),
  );
}

/**
 * Fields of a history object that a query may not filter on: OldValue and NewValue are anyType with
 * the properties "Nillable, Sort" only (Object Reference, StandardObjectNameHistory).
 */
export const UNFILTERABLE_HISTORY_FIELDS = ['OldValue', 'NewValue'] as const;

export class FieldHistory {
  private readonly tracked = new Map<HistoryParent, Set<string>>();
  private readonly rows: Record<HistoryObjectName, SfRecord[]> = { LeadHistory: [], ContactHistory: [] };

  constructor(tracking: FieldHistoryTracking = DEFAULT_FIELD_HISTORY) {
    for (const [parent, fields] of Object.entries(tracking) as [HistoryParent, readonly string[]][])
      this.setTracking(parent, fields);
  }

  /** Turns tracking of an object on (with these fields) or, with `undefined`, off altogether. */
  setTracking(parent: HistoryParent, fields: readonly string[] | undefined): void {
    if (fields === undefined) this.tracked.delete(parent);
    else this.tracked.set(parent, new Set(fields.map((f) => f.toLowerCase())));
  }

  /** Every row, for a snapshot (`--data-dir`): tracked or not, history outlives a tracking change. */
  snapshot(): Record<HistoryObjectName, SfRecord[]> {
    return { LeadHistory: [...this.rows.LeadHistory], ContactHistory: [...this.rows.ContactHistory] };
  }

  /** Rows of a snapshot, appended (their Ids are the caller's to observe). */
  load(rows: Partial<Record<HistoryObjectName, readonly SfRecord[]>> | undefined): void {
    for (const name of Object.keys(HISTORY_OBJECTS) as HistoryObjectName[])
      this.rows[name].push(...(rows?.[name] ?? []));
  }

  /** The object's history rows, or undefined when the org has no history for that object. */
  table(name: HistoryObjectName): SfRecord[] | undefined {
    return this.tracked.has(HISTORY_OBJECTS[name].parent) ? this.rows[name] : undefined;
  }

  /** Records one row per tracked field whose value the update changes (before it is applied). */
  recordUpdate(
    parent: string,
    before: SfRecord,
    changes: Record<string, unknown>,
    stamp: string,
    newId: (prefix: string) => string,
    userId: string | undefined,
  ): void {
    if (parent !== 'Lead' && parent !== 'Contact') return;
    const fields = this.tracked.get(parent);
    if (!fields) return;
    const name: HistoryObjectName = parent === 'Lead' ? 'LeadHistory' : 'ContactHistory';
    for (const [key, value] of Object.entries(changes)) {
      if (!fields.has(key.toLowerCase())) continue;
      const canonical = Object.keys(before).find((k) => k.toLowerCase() === key.toLowerCase()) ?? key;
      const old = before[canonical] ?? null;
      if (old === value) continue;
      this.rows[name].push({
        // Key prefix 017 is the field history objects' (Standard Field Record ID Prefix Decoder).
        Id: newId(KEY_PREFIX.FieldHistory),
        [HISTORY_OBJECTS[name].parentIdField]: before.Id,
        Field: canonical,
        // The DataType picklist's values are not listed in the Object Reference; 'Boolean' for a
        // checkbox is what orgs show (unverified). Our reader does not use it.
        DataType: typeof value === 'boolean' ? 'Boolean' : 'Text',
        OldValue: old,
        NewValue: value ?? null,
        CreatedDate: stamp,
        CreatedById: userId ?? null,
        IsDeleted: false,
      });
    }
  }
}
