import type { CustomActivityInput, CustomActivityResult } from '../../../ports/marketo-api.js';
import type { MarketoCall } from '../marketo-call.js';
import {
  type CustomActivityType,
  customActivityResultSchema,
  customActivityTypeSchema,
} from '../marketo-schemas.js';
import { type Operation, opKey } from '../marketo-transport.js';
import { parseOne, parseResult, requireBatch, requireSameLength } from './results.js';

/** Custom activity endpoints (add activities; list, create and approve types). */
export const CUSTOM_ACTIVITY_OPS = {
  // Add Custom Activities has no idempotency key: a blind re-send can duplicate activities.
  addCustomActivities: {
    method: 'POST',
    path: '/rest/v1/activities/external.json',
    timeout: 'writes',
    idempotent: false,
  },
  customTypes: {
    method: 'GET',
    path: '/rest/v1/activities/external/types.json',
    timeout: 'activities',
    idempotent: true,
  },
  createCustomType: {
    method: 'POST',
    path: '/rest/v1/activities/external/type.json',
    timeout: 'writes',
    idempotent: false,
  },
} as const satisfies Record<string, Operation>;

export interface CustomActivityTypeInput {
  apiName: string;
  name: string;
  triggerName: string;
  filterName: string;
  description?: string;
  primaryAttribute: { apiName: string; name: string; description?: string };
}

export async function addCustomActivities(
  call: MarketoCall,
  input: CustomActivityInput[],
): Promise<CustomActivityResult[]> {
  const endpoint = opKey(CUSTOM_ACTIVITY_OPS.addCustomActivities);
  requireBatch(input.length, endpoint);
  if (input.length === 0) return [];
  const env = await call(CUSTOM_ACTIVITY_OPS.addCustomActivities, {}, { input });
  const results = parseResult(customActivityResultSchema, env, endpoint);
  requireSameLength(results.length, input.length, env, endpoint);
  return results;
}

export async function getCustomActivityTypes(call: MarketoCall): Promise<CustomActivityType[]> {
  const env = await call(CUSTOM_ACTIVITY_OPS.customTypes, {});
  return parseResult(customActivityTypeSchema, env, opKey(CUSTOM_ACTIVITY_OPS.customTypes));
}

/** Creates a draft custom activity type (`POST /rest/v1/activities/external/type.json`). */
export async function createCustomActivityType(
  call: MarketoCall,
  input: CustomActivityTypeInput,
): Promise<CustomActivityType> {
  const env = await call(CUSTOM_ACTIVITY_OPS.createCustomType, {}, input);
  return parseOne(
    customActivityTypeSchema,
    env,
    opKey(CUSTOM_ACTIVITY_OPS.createCustomType),
    'Create Custom Activity Type',
  );
}

/** Approves a draft custom activity type so activities can be added to it. */
export async function approveCustomActivityType(
  call: MarketoCall,
  apiName: string,
): Promise<CustomActivityType> {
  const op: Operation = {
    method: 'POST',
    path: `/rest/v1/activities/external/type/${encodeURIComponent(apiName)}/approve.json`,
    timeout: 'writes',
    idempotent: true,
  };
  const env = await call(op, {}, undefined);
  return parseOne(customActivityTypeSchema, env, opKey(op), 'Approve');
}
