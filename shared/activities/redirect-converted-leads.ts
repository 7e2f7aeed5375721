import type { TaskRecord } from '../domain/salesforce-records.js';
import { soql } from '../domain/soql.js';
import type { SalesforceSaveResult } from '../ports/salesforce-api.js';
import type { ActivityDeps } from './activity-deps.js';
import type { TaskRef } from './settle-task-result.js';

/**
 * How Salesforce refuses a converted Lead as a Task's WhoId. Salesforce Help 000384333:
 * "CANNOT_UPDATE_CONVERTED_LEAD" — a converted Lead's Id can no longer be referenced, only its
 * ConvertedAccountId / ConvertedContactId. ENTITY_IS_DELETED is what a deleted (or merged) Lead
 * gives; the Lead query below tells the two apart.
 */
const CONVERTED_LEAD_CODES = new Set(['CANNOT_UPDATE_CONVERTED_LEAD', 'ENTITY_IS_DELETED']);
/** Ids per SOQL `IN` list (keeps the query well under its length limit). */
const LEAD_IDS_PER_QUERY = 200;

export interface WriteItem {
  ref: TaskRef;
  task: TaskRecord;
}

function refusedAsConvertedLead(r: SalesforceSaveResult | undefined): boolean {
  return r !== undefined && !r.success && r.errors.some((e) => CONVERTED_LEAD_CODES.has(e.statusCode));
}

/**
 * Tasks refused because their WhoId is a converted Lead go to the Lead's ConvertedContactId:
 * the Leads are looked up in batches (one query per 200), each conversion is remembered in the
 * lead cache (later activities go straight to the Contact), and the redirected Tasks are written
 * again with `rewrite`. Returns the results with the redirected ones replaced; `items` are updated
 * in place (WhoId and ref.whoId), so the ledger records the Contact. Tasks already written on the
 * Lead are never touched here: Salesforce moved them to the Contact when it converted the Lead.
 */
export async function redirectConvertedLeads<T extends WriteItem>(
  deps: Pick<ActivityDeps, 'salesforce' | 'logger'> & Partial<Pick<ActivityDeps, 'leadCache'>>,
  items: readonly T[],
  results: SalesforceSaveResult[],
  rewrite: (items: T[]) => Promise<SalesforceSaveResult[]>,
): Promise<SalesforceSaveResult[]> {
  const refused = items.flatMap((_, i) => (refusedAsConvertedLead(results[i]) ? [i] : []));
  if (refused.length === 0) return results;
  const leadIds = [...new Set(refused.map((i) => items[i]!.ref.whoId))];
  const contactOf = await convertedContacts(deps, leadIds);
  const redirected = refused.filter((i) => contactOf.has(items[i]!.ref.whoId));
  if (redirected.length === 0) return results;
  if (deps.leadCache)
    await rememberConversions(
      deps.leadCache,
      redirected.map((i) => items[i]!),
      contactOf,
    );
  for (const i of redirected) {
    const item = items[i]!;
    const contactId = contactOf.get(item.ref.whoId)!;
    item.ref.how = `Lead ${item.ref.whoId} converted (CANNOT_UPDATE_CONVERTED_LEAD): its ConvertedContactId`;
    delete item.ref.recordDone; // the redirect's reason is kept for `explain`
    item.ref.whoId = contactId;
    item.task.WhoId = contactId;
  }
  deps.logger.info('Tasks for converted Leads go to their Contacts', { tasks: redirected.length });
  const again = await rewrite(redirected.map((i) => items[i]!));
  const out = [...results];
  redirected.forEach((i, j) => {
    const r = again[j];
    if (r) out[i] = r;
  });
  return out;
}

/** Lead Id → ConvertedContactId for the converted ones among `leadIds`. */
async function convertedContacts(
  deps: Pick<ActivityDeps, 'salesforce'>,
  leadIds: string[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < leadIds.length; i += LEAD_IDS_PER_QUERY) {
    const ids = leadIds.slice(i, i + LEAD_IDS_PER_QUERY);
    const rows = await deps.salesforce.query<{ Id: string; ConvertedContactId: string | null }>(
      soql`SELECT Id, ConvertedContactId FROM Lead WHERE IsConverted = true AND Id IN ${ids}`,
    );
    for (const row of rows)
      if (row.ConvertedContactId) out.set(String(row.Id), String(row.ConvertedContactId));
  }
  return out;
}

/** Stored with the lead's link so its next activities go straight to the Contact (for the cache TTL). */
async function rememberConversions(
  leadCache: ActivityDeps['leadCache'],
  items: WriteItem[],
  contactOf: Map<string, string>,
): Promise<void> {
  const byLead = new Map(items.map((item) => [item.ref.leadId, item.ref.whoId]));
  const cached = await leadCache.getMany([...byLead.keys()]);
  await leadCache.putMany(
    [...byLead].map(([leadId, sfdcLeadId]) => ({
      leadId,
      exists: true,
      sfdcType: 'Lead',
      sfdcLeadId,
      sfdcContactId: null,
      ...cached.get(leadId),
      convertedContactId: contactOf.get(sfdcLeadId) ?? null,
    })),
  );
}
