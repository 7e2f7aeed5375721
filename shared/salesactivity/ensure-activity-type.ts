import type { CustomActivityTypeDefinition } from '../domain/sales-activity.js';
import type { CustomActivityApi, CustomActivityTypeState } from '../ports/custom-activity-api.js';
import type { SalesActivityStore } from '../ports/sales-activity-store.js';
import { CustomActivityTypeConflictError, CustomActivityTypeNotReadyError } from './errors.js';

export interface EnsureTypeOptions {
  /** Who takes the set-up lease (a run id). */
  owner: string;
  leaseTtlMs?: number;
  /** How long a run waits for another run's set-up before giving up. */
  waitMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface EnsuredType {
  id: number;
  /** What this call did: nothing, or created / completed / approved the type. */
  actions: ('created' | 'attributesCreated' | 'approved')[];
}

const LEASE = 'custom-activity-type';

/** `approved` or `approved with draft` (Swagger CustomActivityType.status): activities can be added. */
const isApproved = (s: CustomActivityTypeState) =>
  s.status === 'approved' || s.status === 'approved with draft';

/**
 * Makes sure the custom activity type exists, has our attributes and is approved. Idempotent across
 * runs and processes: one run at a time sets it up (a lease in the store), the others wait for it.
 * A type with attributes we did not define is a configuration error, never altered.
 */
export async function ensureActivityType(
  api: CustomActivityApi,
  store: SalesActivityStore,
  definition: CustomActivityTypeDefinition,
  options: EnsureTypeOptions,
): Promise<EnsuredType> {
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const deadline = Date.now() + (options.waitMs ?? 60_000);
  for (;;) {
    const state = await api.describeType(definition.apiName);
    if (state) checkShape(state, definition);
    if (state && isApproved(state) && missingAttributes(state, definition).length === 0)
      return { id: state.id, actions: [] };
    if (await store.tryLease(LEASE, options.owner, options.leaseTtlMs ?? 60_000)) {
      try {
        return await setUp(api, definition);
      } finally {
        await store.releaseLease(LEASE, options.owner);
      }
    }
    if (Date.now() >= deadline) throw new CustomActivityTypeNotReadyError(definition.apiName);
    await sleep(500);
  }
}

async function setUp(api: CustomActivityApi, definition: CustomActivityTypeDefinition): Promise<EnsuredType> {
  const actions: EnsuredType['actions'] = [];
  let state = await api.describeType(definition.apiName);
  if (!state) {
    state = (await api.createType(definition)) ?? (await api.describeType(definition.apiName));
    if (!state) throw new CustomActivityTypeNotReadyError(definition.apiName);
    actions.push('created');
  }
  checkShape(state, definition);
  const missing = missingAttributes(state, definition);
  if (missing.length > 0) {
    if (isApproved(state))
      throw new CustomActivityTypeConflictError(
        definition.apiName,
        `approved without attribute(s) ${missing.map((a) => a.apiName).join(', ')}`,
      );
    await api.createAttributes(definition.apiName, missing);
    actions.push('attributesCreated');
  }
  if (!isApproved(state) || actions.length > 0) {
    state = await api.approveType(definition.apiName);
    actions.push('approved');
  }
  return { id: state.id, actions };
}

function checkShape(state: CustomActivityTypeState, definition: CustomActivityTypeDefinition): void {
  if (state.primaryAttributeApiName && state.primaryAttributeApiName !== definition.primaryAttribute.apiName)
    throw new CustomActivityTypeConflictError(
      definition.apiName,
      `primary attribute is "${state.primaryAttributeApiName}", expected "${definition.primaryAttribute.apiName}"`,
    );
  const ours = new Set(definition.attributes.map((a) => a.apiName));
  const foreign = state.attributeApiNames.filter((a) => !ours.has(a));
  if (foreign.length > 0)
    throw new CustomActivityTypeConflictError(
      definition.apiName,
      `unexpected attribute(s) ${foreign.join(', ')}`,
    );
}

function missingAttributes(state: CustomActivityTypeState, definition: CustomActivityTypeDefinition) {
  const have = new Set(state.attributeApiNames);
  return definition.attributes.filter((a) => !have.has(a.apiName));
}
