import type { World, WorldActivityType, WorldActivityTypeAttribute } from '../world.js';

/**
 * Custom activity type metadata routes the main router does not serve (describe, create
 * attributes), registered by marketo-sandbox.ts. Sources:
 * - paths, bodies and statuses: Swagger swagger-mapi.json (reference/marketo) —
 *   `GET /rest/v1/activities/external/type/{apiName}/describe.json` (describeCustomActivityTypeUsingGET),
 *   `POST /rest/v1/activities/external/type/{apiName}/attributes/create.json`
 *   (createCustomActivityTypeAttributesUsingPOST, body CustomActivityTypeAttributeRequest
 *   `{attributes:[CustomActivityTypeAttribute]}`, `apiName` and `name` required, `dataType` one of
 *   string, boolean, integer, float, link, email, currency, date, datetime, phone, text);
 * - at most 20 attributes per type, else 1028 (Marketo error codes, shared/API-NOTES.md);
 * - 610 "Requested resource not found" for an unknown type (Marketo error codes).
 */

export type SandboxCustomType = WorldActivityType & { status: 'draft' | 'approved' };

interface RouteContext {
  body: unknown;
  pathParams: Record<string, string>;
}

export interface CustomActivityRouteHost {
  route(method: string, path: string, handler: (ctx: RouteContext) => Record<string, unknown>): void;
  customTypes: Map<string, SandboxCustomType>;
  world: World;
  /** Throws the sandbox's envelope error (HTTP 200, success:false). */
  fail(code: string, message: string): never;
}

const DATA_TYPES = new Set([
  'string',
  'boolean',
  'integer',
  'float',
  'link',
  'email',
  'currency',
  'date',
  'datetime',
  'phone',
  'text',
]);
const MAX_ATTRIBUTES = 20;

type ApiAttribute = WorldActivityTypeAttribute & { apiName?: string };

export function registerCustomActivityRoutes(host: CustomActivityRouteHost): void {
  const { customTypes, world } = host;
  // Approved types live on in the world (persisted by the embedded default): list them again after a restart.
  for (const t of world.activityTypes)
    if (t.id >= 100_000 && t.apiName && !customTypes.has(t.apiName))
      customTypes.set(t.apiName, { ...t, status: 'approved' });

  const typeOf = (ctx: RouteContext): SandboxCustomType => {
    const apiName = ctx.pathParams.apiName ?? '';
    const type = customTypes.get(apiName);
    if (!type) return host.fail('610', `Custom activity type '${apiName}' not found`);
    return type;
  };

  host.route('GET', '/rest/v1/activities/external/type/{apiName}/describe.json', (ctx) => ({
    result: [typeOf(ctx)],
  }));

  host.route('POST', '/rest/v1/activities/external/type/{apiName}/attributes/create.json', (ctx) => {
    const type = typeOf(ctx);
    const body = ctx.body as { attributes?: unknown } | undefined;
    if (!body || !Array.isArray(body.attributes) || body.attributes.length === 0)
      return host.fail('1003', 'attributes is required');
    const added: ApiAttribute[] = [];
    for (const raw of body.attributes as Record<string, unknown>[]) {
      const apiName = typeof raw.apiName === 'string' ? raw.apiName : '';
      const name = typeof raw.name === 'string' ? raw.name : '';
      const dataType = typeof raw.dataType === 'string' ? raw.dataType : 'string';
      if (!apiName || !name) return host.fail('1003', 'apiName and name are required for every attribute');
      if (!DATA_TYPES.has(dataType)) return host.fail('1003', `Invalid dataType '${dataType}'`);
      const taken = [...(type.attributes as ApiAttribute[]), ...added].some((a) => a.apiName === apiName);
      if (taken) return host.fail('1003', `Attribute '${apiName}' already exists`);
      added.push({ apiName, name, dataType });
    }
    if (type.attributes.length + added.length > MAX_ATTRIBUTES)
      return host.fail('1028', `Max limit of ${MAX_ATTRIBUTES} attributes per custom activity type reached`);
    type.attributes.push(...added);
    // An approved type's copy in the world (what types.json lists) gains them too.
    const listed = world.activityTypes.find((t) => t.id === type.id);
    if (listed && listed !== type) listed.attributes = [...type.attributes];
    return { result: [type] };
  });
}
