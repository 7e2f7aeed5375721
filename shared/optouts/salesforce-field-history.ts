import {
  parseTarget,
  type SalesforcePersonObject,
  salesforceTarget,
  type TargetKey,
} from '../domain/opt-out-state.js';
import { soql, soqlIdentifier } from '../domain/soql.js';
import type { SalesforceApi } from '../ports/salesforce-api.js';
import { SalesforceApiError } from '../ports/salesforce-errors.js';
import { inListChunks } from './person-records.js';

/**
 * When a Salesforce record's opt-out field last changed to "subscribed", read from its field
 * history: LeadHistory / ContactHistory (Salesforce Object Reference, "LeadHistory", "ContactHistory",
 * "StandardObjectNameHistory": `LeadId` / `ContactId`, `Field` = the changed field's API name,
 * standard or custom; `OldValue` / `NewValue` are anyType with "Nillable, Sort" only — not
 * filterable, so the value is checked here — and `CreatedDate`, when the change was recorded).
 * The evidence that dates a resubscribe (opt-out-policy.ts `resubscribeDate`); without it the
 * policy falls back to the lower bound.
 */

export interface ResubscribeChange {
  /** The history row's Id (evidence). */
  historyId: string;
  /** Its CreatedDate (ISO-8601). */
  at: string;
}

type HistoryRow = {
  Id: string;
  OldValue?: unknown;
  NewValue?: unknown;
  CreatedDate?: string | null;
} & Record<string, unknown>;

const asBoolean = (v: unknown): boolean | undefined =>
  v === true || v === 'true' ? true : v === false || v === 'false' ? false : undefined;

/**
 * The latest change to "subscribed" per record among `ids`, changed after `since`. `select`:
 * `range` — one query for the Ids between the first and the last of `ids` (a keyset page, in the
 * order Salesforce returned it: a short query whatever the page's size); `ids` — `IN` lists chunked
 * by encoded length (scattered records, e.g. a person's). The client follows nextRecordsUrl.
 * `unsupported` when the org answers INVALID_TYPE (no history on that object, or no access to it).
 * A record whose latest change in the window is not to "subscribed" is left out (not dated).
 */
export async function readResubscribeHistory(
  sf: SalesforceApi,
  input: {
    sobject: SalesforcePersonObject;
    field: string;
    ids: readonly string[];
    since: Date;
    select?: 'range' | 'ids';
  },
): Promise<Map<string, ResubscribeChange> | 'unsupported'> {
  const first = input.ids[0];
  const last = input.ids.at(-1);
  if (first === undefined || last === undefined) return new Map();
  const from = soqlIdentifier(`${input.sobject}History`);
  const parentField = `${input.sobject}Id`;
  const parent = soqlIdentifier(parentField);
  const rows: HistoryRow[] = [];
  try {
    if ((input.select ?? 'range') === 'range') {
      rows.push(
        ...(await sf.query<HistoryRow>(
          soql`SELECT Id, ${parent}, OldValue, NewValue, CreatedDate FROM ${from} WHERE Field = ${input.field} AND ${parent} >= ${first} AND ${parent} <= ${last} AND CreatedDate > ${input.since} ORDER BY ${parent}, CreatedDate`,
        )),
      );
    } else {
      for (const chunk of inListChunks(input.ids)) {
        rows.push(
          ...(await sf.query<HistoryRow>(
            soql`SELECT Id, ${parent}, OldValue, NewValue, CreatedDate FROM ${from} WHERE Field = ${input.field} AND ${parent} IN ${chunk} AND CreatedDate > ${input.since} ORDER BY ${parent}, CreatedDate`,
          )),
        );
      }
    }
  } catch (error) {
    if (error instanceof SalesforceApiError && error.errorCode === 'INVALID_TYPE') return 'unsupported';
    throw error;
  }
  const wanted = new Set(input.ids);
  const latest = new Map<string, ResubscribeChange & { toSubscribed: boolean }>();
  for (const row of rows) {
    const id = row[parentField];
    const at = row.CreatedDate ? Date.parse(row.CreatedDate) : Number.NaN;
    if (typeof id !== 'string' || !wanted.has(id) || Number.isNaN(at)) continue;
    const seen = latest.get(id);
    if (seen && Date.parse(seen.at) > at) continue;
    latest.set(id, {
      historyId: row.Id,
      at: new Date(at).toISOString(),
      toSubscribed: asBoolean(row.OldValue) === true && asBoolean(row.NewValue) === false,
    });
  }
  const out = new Map<string, ResubscribeChange>();
  for (const [id, c] of latest) if (c.toSubscribed) out.set(id, { historyId: c.historyId, at: c.at });
  return out;
}

/**
 * Dating evidence for Salesforce records found reading "subscribed" where we last saw them opted
 * out (`since`: that sighting), by target: one `IN` query per object (chunked by length) for those
 * records only, so a person whose records all agree with what we knew costs nothing. An object whose
 * history the org refuses is skipped (the lower bound applies).
 */
export async function sightedResubscribes(
  sf: SalesforceApi,
  input: { field: string; candidates: readonly { target: TargetKey; since: string }[] },
): Promise<Map<TargetKey, ResubscribeChange>> {
  const out = new Map<TargetKey, ResubscribeChange>();
  const byObject = new Map<SalesforcePersonObject, { ids: string[]; since: number }>();
  for (const c of input.candidates) {
    const t = parseTarget(c.target);
    if (t.system !== 'salesforce') continue;
    const group = byObject.get(t.sobject) ?? { ids: [], since: Number.POSITIVE_INFINITY };
    group.ids.push(t.id);
    group.since = Math.min(group.since, Date.parse(c.since));
    byObject.set(t.sobject, group);
  }
  for (const [sobject, group] of byObject) {
    const found = await readResubscribeHistory(sf, {
      sobject,
      field: input.field,
      ids: group.ids,
      since: new Date(group.since),
      select: 'ids',
    });
    if (found === 'unsupported') continue;
    for (const [id, change] of found) out.set(salesforceTarget(sobject, id), change);
  }
  return out;
}
