import { publicActivity, type WorldActivity } from '../../world.js';
import { EnvelopeError } from '../envelope.js';
import { parseBatchSize, parseIdList, readToken, tokenFor } from '../request-params.js';
import type { RouteContext, RouteResult, Router } from '../router.js';
import type { MarketoState } from '../sandbox-state.js';

/**
 * Activity reads: Get Paging Token, Get Lead Activities, Get Lead Changes, Get Deleted Leads,
 * Get Activity Types (AdobeDocs/marketo-developer.en help/rest-api/activities.md and
 * help/rest-api/paging-tokens.md; shared/API-NOTES.md "Activities"). Pages may be short or empty
 * while `moreResult` stays true; a page always carries a `nextPageToken`.
 */

/** Lead Changes returns Data Value Change (13) and New Lead (12); Deleted Leads returns 37. */
const NEW_LEAD = 12;
const CHANGE_DATA_VALUE = 13;
const DELETE_LEAD = 37;

/** One page of an activity stream: the shared engine of activities/leadchanges/deletedleads. */
function activityPage(
  state: MarketoState,
  ctx: RouteContext,
  matches: (a: WorldActivity) => boolean,
  present: (a: WorldActivity) => Record<string, unknown>,
): RouteResult {
  const pos = readToken(state, ctx.params.nextPageToken, ctx.now);
  if (pos.kind !== 'a') throw new EnvelopeError('1003', 'Invalid token value: not an activity token');
  const batchSize = parseBatchSize(ctx.params.batchSize);
  const leadIds = parseIdList(ctx.params.leadIds, 'leadIds', 30, false);
  const leadSet = leadIds ? new Set(leadIds) : undefined;
  const visible = (a: WorldActivity) =>
    a.visibleAtMs <= ctx.now && matches(a) && (!leadSet || leadSet.has(a.leadId));
  const target = state.faults.pageSize(batchSize);
  const items: WorldActivity[] = [];
  let i = state.world.indexAfter(pos.t, pos.s);
  const acts = state.world.activities;
  for (; i < acts.length && items.length < target; i++) {
    const a = acts[i]!;
    if (visible(a)) items.push(a);
  }
  let more = false;
  for (let j = i; j < acts.length; j++) {
    if (visible(acts[j]!)) {
      more = true;
      break;
    }
  }
  const last = items[items.length - 1];
  const nextPos = last
    ? { kind: 'a' as const, t: last.dateMs, s: last.seq }
    : { kind: 'a' as const, t: pos.t, s: pos.s };
  return {
    nextPageToken: tokenFor(nextPos, ctx.now),
    moreResult: more,
    ...(items.length > 0 ? { result: items.map(present) } : {}),
  };
}

export function activityRoutes(router: Router, state: MarketoState): void {
  router.route('GET', '/rest/v1/activities/pagingtoken.json', (ctx) => {
    const raw = ctx.params.sinceDatetime;
    if (!raw) throw new EnvelopeError('701', 'sinceDatetime cannot be blank');
    const ms = Date.parse(raw);
    if (!/^\d{4}-\d{2}-\d{2}/.test(raw) || Number.isNaN(ms))
      throw new EnvelopeError('1001', `Invalid value '${raw}'. Required of type 'Date'`);
    return { nextPageToken: tokenFor({ kind: 'a', t: ms, s: -1 }, ctx.now) };
  });

  router.route('GET', '/rest/v1/activities.json', (ctx) => {
    const typeIds = parseIdList(ctx.params.activityTypeIds, 'activityTypeIds', 10, true)!;
    const types = new Set(typeIds);
    return activityPage(
      state,
      ctx,
      (a) => types.has(a.activityTypeId),
      (a) => {
        const { fields: _f, ...rest } = publicActivity(a);
        return rest;
      },
    );
  });

  router.route('GET', '/rest/v1/activities/leadchanges.json', (ctx) => {
    const raw = ctx.params.fields;
    if (!raw) throw new EnvelopeError('701', 'fields cannot be blank');
    const wanted = new Set(raw.split(',').map((f) => f.trim().toLowerCase()));
    return activityPage(
      state,
      ctx,
      (a) =>
        a.activityTypeId === NEW_LEAD ||
        (a.activityTypeId === CHANGE_DATA_VALUE &&
          (a.fields ?? []).some((f) => wanted.has(f.name.toLowerCase()))),
      (a) => {
        const pub = publicActivity(a);
        const fields = (a.fields ?? []).filter((f) => wanted.has(f.name.toLowerCase()));
        return { ...pub, fields };
      },
    );
  });

  router.route('GET', '/rest/v1/activities/deletedleads.json', (ctx) =>
    activityPage(
      state,
      ctx,
      (a) => a.activityTypeId === DELETE_LEAD,
      (a) => publicActivity(a),
    ),
  );

  router.route('GET', '/rest/v1/activities/types.json', () => ({
    result: state.world.activityTypes.map(({ apiName: _a, ...t }) => t),
  }));
}
