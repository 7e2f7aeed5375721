import type { SaveResult, SfRecord, SObjectName } from './sandbox-records.js';

/**
 * The DML rules the sandbox org applies to every write, and to Task writes in particular (the
 * campaign objects' rules are in campaign-rules.ts), with the per-record status codes.
 */

export const ACTIVITY_ID_FIELD = 'Marketo_Activity_Id__c';

/** One refused record, as the REST API reports it (the store's own refusals use it too). */
export const fail = (statusCode: string, message: string, fields: string[] = []): SaveResult => ({
  success: false,
  errors: [{ statusCode, message, fields }],
});

/** The org data a write is checked against. */
export interface WriteRuleTables {
  readonly deleted: ReadonlyMap<string, SObjectName>;
  readonly leads: ReadonlyMap<string, SfRecord>;
  readonly contacts: ReadonlyMap<string, SfRecord>;
}

/** Refuses a write the org would refuse (undefined: accepted). */
export function checkRecordWrite(
  tables: WriteRuleTables,
  sobject: SObjectName,
  record: SfRecord | Record<string, unknown>,
  isCreate: boolean,
): SaveResult | undefined {
  for (const key of Object.keys(record)) {
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(key))
      return fail('INVALID_FIELD', `No such column '${key}' on sobject of type ${sobject}`, [key]);
  }
  if (sobject !== 'Task') return undefined;
  if (!isCreate && 'TaskSubtype' in record) {
    return fail(
      'INVALID_FIELD_FOR_INSERT_UPDATE',
      'Unable to create/update fields: TaskSubtype. Please check the security settings of this field and verify that it is read/write for your profile or permission set.',
      ['TaskSubtype'],
    );
  }
  if (isCreate) {
    const missing = ['Status', 'Priority'].filter(
      (f) => record[f] === undefined || record[f] === null || record[f] === '',
    );
    if (missing.length > 0)
      return fail('REQUIRED_FIELD_MISSING', `Required fields are missing: [${missing.join(', ')}]`, missing);
  }
  for (const [field, max] of [
    ['Subject', 255],
    ['Description', 32000],
    [ACTIVITY_ID_FIELD, 128],
  ] as const) {
    const v = record[field];
    if (typeof v === 'string' && v.length > max) {
      return fail(
        'STRING_TOO_LONG',
        `${field}: data value too large: ${v.slice(0, 20)}... (max length=${max})`,
        [field],
      );
    }
  }
  const who = record.WhoId;
  if (who !== undefined && who !== null && who !== '') {
    if (typeof who !== 'string')
      return fail('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', ['WhoId']);
    if (tables.deleted.has(who)) return fail('ENTITY_IS_DELETED', 'entity is deleted', ['WhoId']);
    const lead = tables.leads.get(who);
    // Salesforce Help 000384333: after conversion a Lead's Id cannot be referenced
    // (CANNOT_UPDATE_CONVERTED_LEAD); only ConvertedAccountId / ConvertedContactId can.
    if (lead?.IsConverted === true)
      return fail('CANNOT_UPDATE_CONVERTED_LEAD', 'cannot reference converted lead', ['WhoId']);
    if (!lead && !tables.contacts.has(who)) {
      return fail('INVALID_CROSS_REFERENCE_KEY', `Name ID: id value of incorrect type: ${who}`, ['WhoId']);
    }
    if (lead && record.WhatId) {
      return fail(
        'FIELD_INTEGRITY_EXCEPTION',
        'Related To ID: You can’t associate a task with a lead and a related record.',
        ['WhatId'],
      );
    }
  }
  if (record.ActivityDate !== undefined && record.ActivityDate !== null) {
    if (typeof record.ActivityDate !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(record.ActivityDate)) {
      return fail(
        'INVALID_TYPE_ON_FIELD_IN_RECORD',
        `Due Date Only: value not of required type: ${String(record.ActivityDate)}`,
        ['ActivityDate'],
      );
    }
  }
  return undefined;
}
