import { HttpError, isRecordObject, notFound, parseJson, sobjectName } from '../sandbox-http.js';
import { type ApiHandler, lockFault, type RequestLogEntry, type SalesforceState } from '../sandbox-state.js';
import type { SaveResult, SObjectName, WriteContext } from '../sandbox-store.js';
import { readField } from '../soql-engine.js';

/**
 * sObject Collections: create `POST …/composite/sobjects`, update `PATCH …/composite/sobjects`,
 * upsert `PATCH …/composite/sobjects/{SObject}/{ExternalIdField}`, delete `DELETE
 * …/composite/sobjects?ids=…`. ≤ 200 records per call (400 EXCEEDED_ID_LIMIT); the answer is an
 * array in input order of `{ id, success, errors: [{ statusCode, message, fields }], created }`
 * (shared/API-NOTES.md "Writing many records"; Salesforce REST API Developer Guide, "sObject
 * Collections"). Two records of one upsert call with the same external id both fail
 * (DUPLICATE_EXTERNAL_ID). Only `allOrNone: false` is implemented.
 */

/** Records per collections call (shared/API-NOTES.md). */
const MAX_RECORDS = 200;
const TOO_MANY = 'record limit reached. cannot submit more than 200 records into this call';

function collectionWrite(
  state: SalesforceState,
  kind: 'create' | 'update' | 'upsert',
  rest: string,
  body: string,
  ctx: WriteContext,
  entry: RequestLogEntry,
): SaveResult[] {
  const { store } = state;
  const parsed = parseJson(body);
  if (!isRecordObject(parsed) || !Array.isArray(parsed.records)) {
    throw new HttpError(400, 'JSON_PARSER_ERROR', 'The request body must be an object with a records array');
  }
  const records = parsed.records as unknown[];
  entry.records = records.length;
  if (records.length > MAX_RECORDS) throw new HttpError(400, 'EXCEEDED_ID_LIMIT', TOO_MANY);
  if (parsed.allOrNone === true) {
    throw new HttpError(400, 'FEATURENOTENABLED', 'The sandbox implements allOrNone:false only');
  }
  const parts = rest.split('/').filter(Boolean);
  const pathObject = kind === 'upsert' ? sobjectName(parts[2]) : undefined;
  const externalIdField = parts[3];
  if (kind === 'upsert' && pathObject && externalIdField) {
    if (!store.isExternalIdField(pathObject, externalIdField)) {
      throw new HttpError(
        400,
        'INVALID_FIELD',
        `Field name provided, ${externalIdField} is not an External ID or indexed field for ${pathObject}`,
        [externalIdField],
      );
    }
  }
  // Two records in one call with the same external id both fail, as the service does.
  const keyCounts = new Map<string, number>();
  if (kind === 'upsert' && externalIdField) {
    for (const r of records) {
      if (!isRecordObject(r)) continue;
      const key = readField(r, externalIdField);
      if (key !== undefined && key !== null)
        keyCounts.set(String(key).toLowerCase(), (keyCounts.get(String(key).toLowerCase()) ?? 0) + 1);
    }
  }
  return store.withIndex(() =>
    records.map((raw): SaveResult => {
      if (
        !isRecordObject(raw) ||
        !isRecordObject(raw.attributes) ||
        typeof raw.attributes.type !== 'string'
      ) {
        return {
          success: false,
          errors: [{ statusCode: 'INVALID_FIELD', message: 'Each record needs attributes.type', fields: [] }],
        };
      }
      let type: SObjectName;
      try {
        type = sobjectName(raw.attributes.type);
      } catch {
        return {
          success: false,
          errors: [
            {
              statusCode: 'INVALID_TYPE',
              message: `sObject type '${raw.attributes.type}' is not supported.`,
              fields: [],
            },
          ],
        };
      }
      if (pathObject && type !== pathObject) {
        return {
          success: false,
          errors: [
            {
              statusCode: 'INVALID_TYPE',
              message: `Record type ${type} does not match ${pathObject}`,
              fields: [],
            },
          ],
        };
      }
      const { attributes: _a, ...record } = raw;
      const locked = lockFault(state, entry.kind);
      if (locked) return locked;
      if (kind === 'create') return store.create(type, record, ctx);
      if (kind === 'update') return store.update(type, record, ctx);
      const field = externalIdField as string;
      const key = readField(record, field);
      if (key !== undefined && key !== null && (keyCounts.get(String(key).toLowerCase()) ?? 0) > 1) {
        return {
          success: false,
          errors: [
            {
              statusCode: 'DUPLICATE_EXTERNAL_ID',
              message: `Duplicate external id specified: ${String(key)}`,
              fields: [field],
            },
          ],
        };
      }
      return store.upsert(type, field, record, ctx);
    }),
  );
}

export const collectionsWrite: ApiHandler = ({ state, rest, body, writeContext, entry, reply }) => {
  const kind = entry.kind;
  if (kind !== 'create' && kind !== 'update' && kind !== 'upsert') throw notFound();
  reply(200, collectionWrite(state, kind, rest, body, writeContext, entry));
};

export const collectionsDelete: ApiHandler = ({ state, method, url, writeContext, entry, reply }) => {
  if (method !== 'DELETE') throw notFound();
  const ids = (url.searchParams.get('ids') ?? '').split(',').filter(Boolean);
  if (ids.length === 0) throw new HttpError(400, 'MISSING_ARGUMENT', 'ids parameter is required');
  if (ids.length > MAX_RECORDS) throw new HttpError(400, 'EXCEEDED_ID_LIMIT', TOO_MANY);
  entry.records = ids.length;
  reply(
    200,
    ids.map((id) => lockFault(state, entry.kind) ?? state.store.destroy(undefined, id, writeContext)),
  );
};
