import { EnvelopeError } from '../envelope.js';
import { requireInput } from '../request-params.js';
import type { Router } from '../router.js';
import type { MarketoState } from '../sandbox-state.js';

/**
 * Custom activities: list, create (draft) and approve custom activity types, and Add Custom
 * Activities (shared/API-NOTES.md "Custom activity types"; AdobeDocs/marketo-developer.en
 * help/rest-api/activities.md). Limits: ≤ 10 custom types per instance (1027), ≤ 300 records per
 * call, attribute values ≤ 65,536 bytes (1049); custom type ids are ≥ 100000.
 */

/** Custom activity type ids start at 100000 (the published id table: "Custom 100000+"). */
const FIRST_CUSTOM_TYPE_ID = 100_000;
const MAX_CUSTOM_TYPES = 10;
const MAX_ATTRIBUTE_BYTES = 65_536;

export function customActivityRoutes(router: Router, state: MarketoState): void {
  const { world, customTypes } = state;

  router.route('GET', '/rest/v1/activities/external/types.json', () => ({
    result: [...customTypes.values()],
  }));

  router.route('POST', '/rest/v1/activities/external/type.json', (ctx) => {
    const body = ctx.body as {
      apiName?: string;
      name?: string;
      triggerName?: string;
      filterName?: string;
      description?: string;
      primaryAttribute?: { apiName?: string; name?: string; description?: string };
    };
    if (!body?.apiName || !body.name || !body.triggerName || !body.filterName || !body.primaryAttribute?.name)
      throw new EnvelopeError(
        '1003',
        'apiName, name, triggerName, filterName and primaryAttribute are required',
      );
    const existing = world.activityTypes.filter((t) => t.id >= FIRST_CUSTOM_TYPE_ID).length;
    if (customTypes.size + existing >= MAX_CUSTOM_TYPES)
      throw new EnvelopeError('1027', `Max limit of ${MAX_CUSTOM_TYPES} custom activity types reached`);
    if (customTypes.has(body.apiName) || world.activityTypes.some((t) => t.apiName === body.apiName))
      throw new EnvelopeError('1003', `Custom activity type '${body.apiName}' already exists`);
    const type = {
      id: state.customTypeSeq++,
      apiName: body.apiName,
      name: body.name,
      description: body.description ?? '',
      primaryAttribute: {
        apiName: body.primaryAttribute.apiName ?? body.primaryAttribute.name,
        name: body.primaryAttribute.name,
        dataType: 'string',
      },
      attributes: [],
      status: 'draft' as const,
    };
    customTypes.set(body.apiName, type);
    return { result: [type] };
  });

  router.route('POST', '/rest/v1/activities/external/type/{apiName}/approve.json', (ctx) => {
    const apiName = ctx.pathParams.apiName ?? '';
    const type = customTypes.get(apiName);
    if (!type) throw new EnvelopeError('610', `Custom activity type '${apiName}' not found`);
    const approved = { ...type, status: 'approved' as const };
    customTypes.set(apiName, approved);
    if (!world.activityTypes.some((t) => t.id === type.id)) {
      const { status: _s, ...plain } = approved;
      world.activityTypes.push(plain);
    }
    return { result: [approved] };
  });

  router.route('POST', '/rest/v1/activities/external.json', (ctx) => {
    const result = requireInput(ctx.body).map((rec) => {
      const skip = (code: string, message: string) => ({ status: 'skipped', errors: [{ code, message }] });
      const leadId = Number(rec.leadId);
      if (!Number.isInteger(leadId) || !world.lead(leadId)) return skip('1004', 'Lead not found');
      const typeId = Number(rec.activityTypeId);
      const type = world.activityTypes.find((t) => t.id === typeId);
      if (!type || typeId < FIRST_CUSTOM_TYPE_ID)
        return skip('1003', `Invalid activityTypeId '${String(rec.activityTypeId)}'`);
      if (typeof rec.primaryAttributeValue !== 'string' || rec.primaryAttributeValue === '')
        return skip('1003', 'primaryAttributeValue is required');
      const date = typeof rec.activityDate === 'string' ? Date.parse(rec.activityDate) : Number.NaN;
      if (Number.isNaN(date))
        return skip('1001', `Invalid value '${String(rec.activityDate)}'. Required of type 'Date'`);
      const attrs = Array.isArray(rec.attributes) ? (rec.attributes as Record<string, unknown>[]) : [];
      if (Buffer.byteLength(JSON.stringify(attrs)) > MAX_ATTRIBUTE_BYTES)
        return skip('1049', `Attribute values exceed ${MAX_ATTRIBUTE_BYTES} bytes`);
      const added = world.addActivity({
        leadId,
        activityDate: new Date(date).toISOString(),
        activityTypeId: typeId,
        primaryAttributeValue: rec.primaryAttributeValue,
        attributes: attrs.map((a) => ({
          name: String(a.name ?? a.apiName ?? ''),
          value:
            typeof a.value === 'number' || typeof a.value === 'boolean' ? a.value : String(a.value ?? ''),
        })),
        visibleAtMs: ctx.now,
      });
      return { id: added.id, marketoGUID: added.marketoGUID, status: 'added' };
    });
    return { result };
  });
}
