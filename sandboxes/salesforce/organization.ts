import { KEY_PREFIX } from './salesforce-ids.js';
import type { SandboxStore } from './sandbox-store.js';
import { runQuery, type SoqlQuery } from './soql-engine.js';

/**
 * The org's one Organization record (Salesforce Object Reference, "Organization": read-only, one
 * row; `TimeZoneSidKey` is the org's default time zone, a tz-database id such as
 * "America/Los_Angeles", set under Company Information). Tests change it on the record.
 */
const ORGANIZATIONS = new WeakMap<SandboxStore, Record<string, unknown> & { Id: string }>();

export function organizationOf(store: SandboxStore): Record<string, unknown> & { Id: string } {
  let org = ORGANIZATIONS.get(store);
  if (!org) {
    org = {
      Id: store.ids.next(KEY_PREFIX.Organization),
      Name: 'Sandbox Org',
      TimeZoneSidKey: 'America/Los_Angeles',
      DefaultLocaleSidKey: 'en_US',
    };
    ORGANIZATIONS.set(store, org);
  }
  return org;
}

/** A SOQL query on Organization, answered as the REST query resource does (one page). */
export function queryOrganization(store: SandboxStore, query: SoqlQuery, version: string) {
  const org = organizationOf(store);
  const records = runQuery(query, [org]).map((r) => {
    const out: Record<string, unknown> = {
      attributes: { type: 'Organization', url: `/services/data/v${version}/sobjects/Organization/${r.Id}` },
    };
    for (const field of query.fields) {
      const canonical = Object.keys(r).find((k) => k.toLowerCase() === field.toLowerCase()) ?? field;
      out[canonical] = r[canonical] ?? null;
    }
    return out;
  });
  return { totalSize: records.length, done: true, records };
}
