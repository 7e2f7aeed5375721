import type { TaskRecord } from '../domain/salesforce-records.js';
import type { SalesforceSaveResult } from '../ports/salesforce-api.js';
import type { ActivityDeps } from './activity-deps.js';

/**
 * Upserts Tasks on the External ID field through sObject Collections (the client sends ≤ 200 per
 * call, so full chunks in → full calls out). TaskSubtype can only be set on create: a Task that
 * already exists (written by an attempt whose ledger entry was lost) refuses it, so those are
 * upserted again without it.
 */
export async function upsertTasksByExternalId(
  deps: Pick<ActivityDeps, 'settings' | 'salesforce'>,
  records: readonly TaskRecord[],
): Promise<SalesforceSaveResult[]> {
  const field = deps.settings.salesforce.taskExternalIdField;
  const results = await deps.salesforce.upsert('Task', field, [...records]);
  const again = results.flatMap((r, i) => (refusesCreateOnlyField(r) ? [i] : []));
  if (again.length === 0) return results;
  const retried = await deps.salesforce.upsert(
    'Task',
    field,
    again.map((i) => withoutCreateOnlyFields(records[i]!)),
  );
  again.forEach((i, j) => {
    const r = retried[j];
    if (r) results[i] = r;
  });
  return results;
}

/** The Task exists already and refused a create-only field (TaskSubtype). */
export function refusesCreateOnlyField(r: SalesforceSaveResult): boolean {
  return (
    !r.success &&
    r.errors.some(
      (e) => e.statusCode === 'INVALID_FIELD_FOR_INSERT_UPDATE' && (e.fields ?? []).includes('TaskSubtype'),
    )
  );
}

export function withoutCreateOnlyFields(task: TaskRecord): TaskRecord {
  const { TaskSubtype: _createOnly, ...rest } = task;
  return rest;
}
