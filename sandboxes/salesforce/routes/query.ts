import { randomBytes } from 'node:crypto';
import { type HISTORY_OBJECTS, historyObjectOf, UNFILTERABLE_HISTORY_FIELDS } from '../field-history.js';
import { queryOrganization } from '../organization.js';
import { KEY_PREFIX } from '../salesforce-ids.js';
import { HttpError } from '../sandbox-http.js';
import type { ApiHandler, SalesforceState } from '../sandbox-state.js';
import { type SfRecord, SOBJECTS, type SObjectName } from '../sandbox-store.js';
import { conditionFields, parseSoql, runQuery, SoqlParseError, type SoqlQuery } from '../soql-engine.js';

/**
 * SOQL query with `nextRecordsUrl` paging: `GET …/query?q=…` → `{ totalSize, done, records,
 * nextRecordsUrl? }`, `GET …/query/{locator}-{offset}` for the next page; a bad query is 400
 * MALFORMED_QUERY, an unknown locator 400 INVALID_QUERY_LOCATOR (Salesforce REST API Developer
 * Guide, "Query" and "Execute a SOQL Query"; shared/API-NOTES.md). Pages hold `queryPageSize`
 * rows (default 2,000, the service's default batch).
 */

function project(
  query: SoqlQuery,
  sobject: SObjectName | keyof typeof HISTORY_OBJECTS,
  version: string,
  record: SfRecord,
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    attributes: { type: sobject, url: `/services/data/v${version}/sobjects/${sobject}/${record.Id}` },
  };
  for (const field of query.fields) {
    const canonical = Object.keys(record).find((k) => k.toLowerCase() === field.toLowerCase()) ?? field;
    out[canonical] = record[canonical] ?? null;
  }
  return out;
}

function page(
  state: SalesforceState,
  records: Record<string, unknown>[],
  offset: number,
  version: string,
  existing?: string,
) {
  const slice = records.slice(offset, offset + state.pageSize);
  const done = offset + state.pageSize >= records.length;
  const result: Record<string, unknown> = { totalSize: records.length, done, records: slice };
  if (!done) {
    const locator = existing ?? `${KEY_PREFIX.QueryLocator}${randomBytes(6).toString('hex').toUpperCase()}`;
    state.cursors.set(locator, records);
    result.nextRecordsUrl = `/services/data/v${version}/query/${locator}-${offset + state.pageSize}`;
  }
  return result;
}

function runSoql(state: SalesforceState, q: string | null, version: string) {
  if (!q) throw new HttpError(400, 'MALFORMED_QUERY', 'q parameter is required');
  let parsed: SoqlQuery;
  try {
    parsed = parseSoql(q);
  } catch (error) {
    if (error instanceof SoqlParseError) throw new HttpError(400, 'MALFORMED_QUERY', error.message);
    throw error;
  }
  if (parsed.object.toLowerCase() === 'organization') return queryOrganization(state.store, parsed, version);
  const history = historyObjectOf(parsed.object);
  if (history) return queryHistory(state, parsed, history, version);
  const sobject = SOBJECTS.find((s) => s.toLowerCase() === parsed.object.toLowerCase());
  if (!sobject) throw unsupportedType(parsed.object);
  return answer(state, parsed, sobject, runQuery(parsed, state.store.table(sobject).values()), version);
}

/** The query's answer: the count (`SELECT COUNT()`), or the rows projected, first page. */
function answer(
  state: SalesforceState,
  parsed: SoqlQuery,
  sobject: SObjectName | keyof typeof HISTORY_OBJECTS,
  rows: SfRecord[],
  version: string,
) {
  if (parsed.count) return { totalSize: rows.length, done: true, records: [] };
  return page(
    state,
    rows.map((r) => project(parsed, sobject, version, r)),
    0,
    version,
  );
}

/** The query resource's answer for a type the org does not expose (or the user cannot see). */
const unsupportedType = (object: string) =>
  new HttpError(400, 'INVALID_TYPE', `sObject type '${object}' is not supported.`);

/** LeadHistory / ContactHistory (field-history.ts): refused when the org tracks nothing on the parent. */
function queryHistory(
  state: SalesforceState,
  parsed: SoqlQuery,
  name: keyof typeof HISTORY_OBJECTS,
  version: string,
) {
  const rows = state.store.history.table(name);
  if (!rows) throw unsupportedType(parsed.object);
  const unfilterable = conditionFields(parsed.where).find((f) =>
    UNFILTERABLE_HISTORY_FIELDS.some((u) => u.toLowerCase() === f.toLowerCase()),
  );
  if (unfilterable)
    throw new HttpError(400, 'INVALID_FIELD', `field '${unfilterable}' can not be filtered in query call`);
  return answer(state, parsed, name, runQuery(parsed, rows), version);
}

function nextPage(state: SalesforceState, locatorWithOffset: string, version: string) {
  const [locator = '', offsetText = ''] = locatorWithOffset.split('-');
  const records = state.cursors.get(locator);
  const offset = Number(offsetText);
  if (!records || !Number.isInteger(offset) || offset < 0)
    throw new HttpError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
  return page(state, records, offset, version, locator);
}

export const query: ApiHandler = ({ state, url, version, entry, reply }) => {
  const result = runSoql(state, url.searchParams.get('q'), version);
  entry.records = (result.records as unknown[]).length;
  reply(200, result);
};

export const queryMore: ApiHandler = ({ state, rest, version, entry, reply }) => {
  const locator = rest.split('/')[2] ?? '';
  const result = nextPage(state, locator, version);
  entry.records = (result.records as unknown[]).length;
  reply(200, result);
};
