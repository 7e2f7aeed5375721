import {
  type Activity,
  type ActivityType,
  activitySchema,
  activityTypeSchema,
} from '../../../domain/activity.js';
import { type ActivityPage, type LeadChange, leadChangeSchema } from '../../../ports/marketo-api.js';
import { MarketoRequestError, MarketoResponseValidationError } from '../../../ports/marketo-errors.js';
import { MARKETO_MAX_ACTIVITY_TYPE_IDS } from '../../../ports/vendor-limits.js';
import type { MarketoCall } from '../marketo-call.js';
import { type Operation, opKey } from '../marketo-transport.js';
import { batchSizeParam, parsePage, parseResult, requirePageToken } from './results.js';

/** Activities endpoints (paging token, activities, lead changes, deleted leads, activity types). */
export const ACTIVITY_OPS = {
  pagingToken: {
    method: 'GET',
    path: '/rest/v1/activities/pagingtoken.json',
    timeout: 'pagingToken',
    idempotent: true,
  },
  activities: {
    method: 'GET',
    path: '/rest/v1/activities.json',
    timeout: 'activities',
    idempotent: true,
    paged: true,
  },
  leadChanges: {
    method: 'GET',
    path: '/rest/v1/activities/leadchanges.json',
    timeout: 'activities',
    idempotent: true,
    paged: true,
  },
  deletedLeads: {
    method: 'GET',
    path: '/rest/v1/activities/deletedleads.json',
    timeout: 'activities',
    idempotent: true,
    paged: true,
  },
  activityTypes: {
    method: 'GET',
    path: '/rest/v1/activities/types.json',
    timeout: 'activities',
    idempotent: true,
  },
} as const satisfies Record<string, Operation>;

export async function getPagingToken(call: MarketoCall, sinceDatetime: Date): Promise<string> {
  const endpoint = opKey(ACTIVITY_OPS.pagingToken);
  if (Number.isNaN(sinceDatetime.getTime()))
    throw new MarketoRequestError('getPagingToken needs a valid date.', { endpoint });
  const env = await call(ACTIVITY_OPS.pagingToken, { sinceDatetime: sinceDatetime.toISOString() });
  if (!env.nextPageToken)
    throw new MarketoResponseValidationError('Get Paging Token answered without nextPageToken.', {
      endpoint,
      ...(env.requestId ? { requestId: env.requestId } : {}),
    });
  return env.nextPageToken;
}

export async function getActivities(
  call: MarketoCall,
  params: { nextPageToken: string; activityTypeIds: number[]; batchSize?: number },
): Promise<ActivityPage<Activity>> {
  const endpoint = opKey(ACTIVITY_OPS.activities);
  const ids = [...new Set(params.activityTypeIds)];
  if (
    ids.length === 0 ||
    ids.length > MARKETO_MAX_ACTIVITY_TYPE_IDS ||
    ids.some((id) => !Number.isInteger(id) || id <= 0)
  )
    throw new MarketoRequestError(
      `getActivities takes 1 to ${MARKETO_MAX_ACTIVITY_TYPE_IDS} positive integer activity type ids per call (got ${ids.length}); split the types into several streams.`,
      { endpoint },
    );
  requirePageToken(params.nextPageToken, endpoint);
  const env = await call(ACTIVITY_OPS.activities, {
    nextPageToken: params.nextPageToken,
    activityTypeIds: ids.join(','),
    ...batchSizeParam(params.batchSize, endpoint),
  });
  return parsePage(activitySchema, env, endpoint);
}

export async function getLeadChanges(
  call: MarketoCall,
  params: { nextPageToken: string; fields: string[]; batchSize?: number },
): Promise<ActivityPage<LeadChange>> {
  const endpoint = opKey(ACTIVITY_OPS.leadChanges);
  if (params.fields.length === 0)
    throw new MarketoRequestError(
      'getLeadChanges needs at least one field name (Marketo requires `fields`).',
      {
        endpoint,
      },
    );
  requirePageToken(params.nextPageToken, endpoint);
  const env = await call(ACTIVITY_OPS.leadChanges, {
    nextPageToken: params.nextPageToken,
    fields: params.fields.join(','),
    ...batchSizeParam(params.batchSize, endpoint),
  });
  return parsePage(leadChangeSchema, env, endpoint);
}

export async function getDeletedLeads(
  call: MarketoCall,
  params: { nextPageToken: string; batchSize?: number },
): Promise<ActivityPage<LeadChange>> {
  const endpoint = opKey(ACTIVITY_OPS.deletedLeads);
  requirePageToken(params.nextPageToken, endpoint);
  const env = await call(ACTIVITY_OPS.deletedLeads, {
    nextPageToken: params.nextPageToken,
    ...batchSizeParam(params.batchSize, endpoint),
  });
  return parsePage(leadChangeSchema, env, endpoint);
}

export async function getActivityTypes(call: MarketoCall): Promise<ActivityType[]> {
  const env = await call(ACTIVITY_OPS.activityTypes, {});
  return parseResult(activityTypeSchema, env, opKey(ACTIVITY_OPS.activityTypes));
}
