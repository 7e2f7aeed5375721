/**
 * The sandbox org's data and its DML rules: what Salesforce validates on Lead, Contact and
 * Task writes, with the documented per-record status codes (the field checks are in
 * record-write-rules.ts, the campaign objects' in campaign-rules.ts).
 */
import {
  CAMPAIGN_OBJECTS,
  type CampaignTables,
  campaignMemberInsert,
  checkCampaignWrite,
  defaultMemberStatuses,
} from './campaign-rules.js';
import { FieldHistory } from './field-history.js';
import { ACTIVITY_ID_FIELD, checkRecordWrite, fail } from './record-write-rules.js';
import { IdFactory, KEY_PREFIX } from './salesforce-ids.js';

import {
  type SandboxSeed,
  type SaveResult,
  type SfRecord,
  SOBJECTS,
  type SObjectName,
  type StoreOptions,
  sfDateTime,
  type WriteContext,
  type WriteLogEntry,
} from './sandbox-records.js';
import { readField } from './soql-engine.js';

export { ACTIVITY_ID_FIELD } from './record-write-rules.js';
export * from './sandbox-records.js';

const SYSTEM_FIELDS = new Set([
  'id',
  'createddate',
  'lastmodifieddate',
  'systemmodstamp',
  'isdeleted',
  'attributes',
]);

export class SandboxStore {
  readonly leads = new Map<string, SfRecord>();
  readonly contacts = new Map<string, SfRecord>();
  readonly tasks = new Map<string, SfRecord>();
  readonly events = new Map<string, SfRecord>();
  readonly campaigns: CampaignTables = {
    Campaign: new Map(),
    CampaignMember: new Map(),
    CampaignMemberStatus: new Map(),
  };
  readonly users = new Map<string, SfRecord>();
  /** Ids of deleted (or merged-away) records, by object: writes referencing them get ENTITY_IS_DELETED. */
  readonly deleted = new Map<string, SObjectName>();
  readonly writeLog: WriteLogEntry[] = [];
  readonly ids = new IdFactory();
  /** LeadHistory / ContactHistory rows and which fields are tracked (`setTracking` to change it). */
  readonly history: FieldHistory;
  readonly taskActivityIdMode: 'unique-external-id' | 'plain-field';
  private readonly now: () => Date;
  private lastStamp = 0;
  private index: Map<string, Set<string>> | undefined;

  constructor(seed: SandboxSeed = {}, options: StoreOptions = {}) {
    this.taskActivityIdMode = options.taskActivityIdMode ?? 'unique-external-id';
    this.now = options.now ?? (() => new Date());
    this.history = new FieldHistory(options.fieldHistory);
    const created = sfDateTime(this.now());
    const load = (
      map: Map<string, SfRecord>,
      rows: readonly SfRecord[] | undefined,
      defaults: Record<string, unknown>,
    ) => {
      for (const row of rows ?? []) {
        this.ids.observe(row.Id);
        const stamp = typeof row.CreatedDate === 'string' ? row.CreatedDate : created;
        map.set(row.Id, {
          ...defaults,
          ...row,
          CreatedDate: stamp,
          LastModifiedDate: row.LastModifiedDate ?? stamp,
          SystemModstamp: row.SystemModstamp ?? row.LastModifiedDate ?? stamp,
          IsDeleted: false,
        });
      }
    };
    load(this.leads, seed.leads, { HasOptedOutOfEmail: false, IsConverted: false, ConvertedContactId: null });
    load(this.contacts, seed.contacts, { HasOptedOutOfEmail: false });
    load(this.tasks, seed.tasks, {});
    load(this.events, seed.events, {});
    for (const o of CAMPAIGN_OBJECTS) load(this.campaigns[o], seed.campaigns?.[o], {});
    load(this.users, seed.users, {});
    for (const rows of Object.values(seed.history ?? {}))
      for (const row of rows ?? []) this.ids.observe(row.Id);
    this.history.load(seed.history);
    if (this.users.size === 0) {
      const id = this.ids.next(KEY_PREFIX.User);
      this.users.set(id, {
        Id: id,
        Username: 'integration@sandbox.invalid',
        Name: 'Integration User',
        IsActive: true,
        CreatedDate: created,
        LastModifiedDate: created,
        SystemModstamp: created,
      });
    }
  }

  table(sobject: SObjectName): Map<string, SfRecord> {
    switch (sobject) {
      case 'Lead':
        return this.leads;
      case 'Contact':
        return this.contacts;
      case 'Task':
        return this.tasks;
      case 'Event':
        return this.events;
      case 'User':
        return this.users;
      default:
        return this.campaigns[sobject];
    }
  }

  /** Strictly increasing timestamps, so `SystemModstamp > last` never misses a write. */
  private stamp(): string {
    const ms = Math.max(this.now().getTime(), this.lastStamp + 1);
    this.lastStamp = ms;
    return sfDateTime(new Date(ms));
  }

  isExternalIdField(sobject: SObjectName, field: string): boolean {
    if (field.toLowerCase() === 'id') return true;
    return (
      sobject === 'Task' &&
      field.toLowerCase() === ACTIVITY_ID_FIELD.toLowerCase() &&
      this.taskActivityIdMode === 'unique-external-id'
    );
  }

  /** Mark a Lead converted into a new Contact (as Lead conversion does); returns the Contact id. */
  convertLead(leadId: string): string {
    const lead = this.leads.get(leadId);
    if (!lead) throw new Error(`no Lead ${leadId}`);
    const contactId = this.ids.next(KEY_PREFIX.Contact);
    const stamp = this.stamp();
    this.contacts.set(contactId, {
      Id: contactId,
      Email: lead.Email ?? null,
      FirstName: lead.FirstName ?? null,
      LastName: lead.LastName ?? null,
      AccountId: null,
      HasOptedOutOfEmail: lead.HasOptedOutOfEmail ?? false,
      CreatedDate: stamp,
      LastModifiedDate: stamp,
      SystemModstamp: stamp,
      IsDeleted: false,
    });
    Object.assign(lead, {
      IsConverted: true,
      ConvertedContactId: contactId,
      LastModifiedDate: stamp,
      SystemModstamp: stamp,
    });
    return contactId;
  }

  /** Delete a record outside the API (a user deleting it in the UI). */
  deleteRecord(id: string): void {
    for (const sobject of SOBJECTS) {
      if (this.table(sobject).delete(id)) {
        this.deleted.set(id, sobject);
        return;
      }
    }
    throw new Error(`no record ${id}`);
  }

  private log(
    ctx: WriteContext,
    sobject: SObjectName,
    id: string,
    operation: WriteLogEntry['operation'],
  ): void {
    this.writeLog.push({ ...ctx, sobject, id, operation, at: sfDateTime(this.now()) });
  }

  private uniqueConflict(
    sobject: SObjectName,
    record: Record<string, unknown>,
    selfId?: string,
  ): SaveResult | undefined {
    if (sobject !== 'Task' || this.taskActivityIdMode !== 'unique-external-id') return undefined;
    const value = record[ACTIVITY_ID_FIELD];
    if (typeof value !== 'string' || value === '') return undefined;
    const other = this.findByField('Task', ACTIVITY_ID_FIELD, value).find((t) => t.Id !== selfId);
    if (other) {
      return fail(
        'DUPLICATE_VALUE',
        `duplicate value found: ${ACTIVITY_ID_FIELD} duplicates value on record with id: ${other.Id}`,
      );
    }
    return undefined;
  }

  /**
   * Records whose field equals value (case-insensitive). Within `withIndex` the Task activity id
   * uses an index, so a 10,000-row Bulk job is not quadratic; candidates are always re-checked.
   */
  private findByField(sobject: SObjectName, field: string, value: unknown): SfRecord[] {
    const lower = String(value).toLowerCase();
    const same = (r: SfRecord | undefined): r is SfRecord => {
      const v = r ? readField(r, field) : undefined;
      return v !== undefined && v !== null && String(v).toLowerCase() === lower;
    };
    if (this.index && sobject === 'Task' && field.toLowerCase() === ACTIVITY_ID_FIELD.toLowerCase()) {
      return [...(this.index.get(lower) ?? [])].map((id) => this.tasks.get(id)).filter(same);
    }
    return [...this.table(sobject).values()].filter(same);
  }

  private indexTask(record: SfRecord): void {
    const v = record[ACTIVITY_ID_FIELD];
    if (!this.index || typeof v !== 'string') return;
    const key = v.toLowerCase();
    const set = this.index.get(key) ?? new Set<string>();
    set.add(record.Id);
    this.index.set(key, set);
  }

  /** Run a batch of writes with the activity-id index built once for the batch. */
  withIndex<T>(fn: () => T): T {
    this.index = new Map();
    for (const task of this.tasks.values()) this.indexTask(task);
    try {
      return fn();
    } finally {
      this.index = undefined;
    }
  }

  private clean(record: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(record))
      if (!SYSTEM_FIELDS.has(k.toLowerCase()) && v !== undefined) out[k] = v;
    return out;
  }

  create(sobject: SObjectName, record: Record<string, unknown>, ctx: WriteContext): SaveResult {
    if (record.Id !== undefined || record.id !== undefined) {
      return fail('INVALID_FIELD', 'cannot specify Id in an insert call', ['Id']);
    }
    const invalid =
      checkRecordWrite(this, sobject, record, true) ??
      this.uniqueConflict(sobject, record) ??
      checkCampaignWrite(this.campaigns, sobject, record, undefined);
    if (invalid) return invalid;
    const id = this.ids.next(KEY_PREFIX[sobject]);
    const stamp = this.stamp();
    const defaults: Record<string, unknown> =
      sobject === 'Lead'
        ? { HasOptedOutOfEmail: false, IsConverted: false, ConvertedContactId: null }
        : sobject === 'Contact'
          ? { HasOptedOutOfEmail: false }
          : {};
    this.table(sobject).set(id, {
      ...defaults,
      ...this.clean(record),
      ...campaignMemberInsert(this.campaigns, sobject, record),
      // Task.IsClosed is read-only, derived from Status; "Completed" is the closed value of the
      // default TaskStatus picklist (Salesforce Object Reference: Task, TaskStatus.IsClosed).
      ...(sobject === 'Task' ? { IsClosed: record.Status === 'Completed' } : {}),
      Id: id,
      CreatedDate: stamp,
      LastModifiedDate: stamp,
      SystemModstamp: stamp,
      IsDeleted: false,
    });
    if (sobject === 'Task') this.indexTask(this.tasks.get(id) as SfRecord);
    if (sobject === 'Campaign')
      for (const s of defaultMemberStatuses(id, stamp)) {
        const statusId = this.ids.next(KEY_PREFIX.CampaignMemberStatus);
        this.campaigns.CampaignMemberStatus.set(statusId, { ...s, Id: statusId });
      }
    this.log(ctx, sobject, id, 'create');
    return { id, success: true, errors: [] };
  }

  update(sobject: SObjectName, record: Record<string, unknown>, ctx: WriteContext): SaveResult {
    const id = record.id ?? record.Id;
    if (typeof id !== 'string' || id === '')
      return fail('MISSING_ARGUMENT', 'Id not specified in an update call', ['Id']);
    const existing = this.table(sobject).get(id);
    if (!existing) {
      return this.deleted.has(id)
        ? { id, ...fail('ENTITY_IS_DELETED', 'entity is deleted') }
        : { id, ...fail('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id') };
    }
    if (sobject === 'Lead' && existing.IsConverted === true) {
      return { id, ...fail('CANNOT_UPDATE_CONVERTED_LEAD', 'cannot reference converted lead') };
    }
    const changes = this.clean(record);
    const invalid =
      checkRecordWrite(this, sobject, changes, false) ??
      this.uniqueConflict(sobject, changes, id) ??
      checkCampaignWrite(this.campaigns, sobject, changes, existing);
    if (invalid) return { id, ...invalid };
    const stamp = this.stamp();
    this.history.recordUpdate(
      sobject,
      existing,
      changes,
      stamp,
      (p) => this.ids.next(p),
      this.users.keys().next().value,
    );
    Object.assign(existing, changes, { LastModifiedDate: stamp, SystemModstamp: stamp });
    if (sobject === 'Task') this.indexTask(existing);
    this.log(ctx, sobject, id, 'update');
    return { id, success: true, errors: [] };
  }

  /** Upsert one record on an External ID field (already checked to be one). */
  upsert(
    sobject: SObjectName,
    externalIdField: string,
    record: Record<string, unknown>,
    ctx: WriteContext,
  ): SaveResult {
    const key = record[externalIdField];
    if (key === undefined || key === null || key === '') {
      return fail('MISSING_ARGUMENT', `${externalIdField} not specified`, [externalIdField]);
    }
    const lower = String(key).toLowerCase();
    const matches =
      externalIdField.toLowerCase() === 'id'
        ? [this.table(sobject).get(String(key))].filter((r): r is SfRecord => r !== undefined)
        : this.findByField(sobject, externalIdField, lower);
    if (matches.length > 1) {
      return fail(
        'DUPLICATE_EXTERNAL_ID',
        `${externalIdField}: more than one record found for external id field: ${matches.map((m) => m.Id).join(', ')}`,
        [externalIdField],
      );
    }
    const match = matches[0];
    if (!match) {
      const result = this.create(sobject, record, ctx);
      return result.success ? { ...result, created: true } : result;
    }
    const { [externalIdField]: _key, ...rest } = record;
    const result = this.update(sobject, { ...rest, Id: match.Id }, ctx);
    return result.success ? { ...result, created: false } : { success: false, errors: result.errors };
  }

  destroy(sobject: SObjectName | undefined, id: string, ctx: WriteContext): SaveResult {
    if (this.deleted.has(id)) return fail('ENTITY_IS_DELETED', 'entity is deleted');
    for (const candidate of sobject ? [sobject] : SOBJECTS) {
      if (this.table(candidate).delete(id)) {
        this.deleted.set(id, candidate);
        this.log(ctx, candidate, id, 'delete');
        return { id, success: true, errors: [] };
      }
    }
    return fail('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id');
  }

  /** Which object an id belongs to (live records only). */
  objectOf(id: string): SObjectName | undefined {
    return SOBJECTS.find((s) => this.table(s).has(id));
  }
}
