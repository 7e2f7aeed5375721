import * as z from 'zod';
import type {
  CustomActivityItem,
  CustomActivityTypeDefinition,
  CustomAttributeDefinition,
} from '../../domain/sales-activity.js';
import type {
  AddedActivityResult,
  CustomActivityApi,
  CustomActivityTypeState,
  MarketoLeadRef,
  ReadBackActivity,
} from '../../ports/custom-activity-api.js';
import { MarketoApiError, MarketoResponseValidationError } from '../../ports/marketo-errors.js';
import type { MarketoClient } from './marketo-client.js';

/**
 * Job 4a's Marketo endpoints over MarketoClient (its governor, retries and error mapping).
 * Paths and shapes: Swagger swagger-mapi.json (reference/marketo) — Get Custom Activity Types
 * `GET /rest/v1/activities/external/types.json`, Describe `GET …/external/type/{apiName}/describe.json`,
 * Create `POST …/external/type.json`, Create Attributes `POST …/external/type/{apiName}/attributes/create.json`
 * (body CustomActivityTypeAttributeRequest `{attributes:[{apiName,name,dataType}]}`), Approve
 * `POST …/external/type/{apiName}/approve.json`, Add Custom Activities `POST /rest/v1/activities/external.json`.
 */

const attributeSchema = z.object({ apiName: z.string().optional(), name: z.string() }).loose();
const typeSchema = z
  .object({
    id: z.number().int(),
    apiName: z.string(),
    status: z.string().optional(),
    primaryAttribute: attributeSchema.optional(),
    attributes: z.array(attributeSchema).optional(),
  })
  .loose();
type TypeRecord = z.infer<typeof typeSchema>;

const toState = (t: TypeRecord): CustomActivityTypeState => ({
  id: t.id,
  apiName: t.apiName,
  status: t.status ?? 'approved',
  primaryAttributeApiName: t.primaryAttribute?.apiName,
  attributeApiNames: (t.attributes ?? []).map((a) => a.apiName ?? a.name),
});

const LEAD_FIELDS = ['id', 'email', 'sfdcLeadId', 'sfdcContactId'];

export class MarketoCustomActivityEndpoints implements CustomActivityApi {
  constructor(private readonly client: MarketoClient) {}

  async describeType(apiName: string): Promise<CustomActivityTypeState | undefined> {
    // Listing first: a missing type is then an empty answer, not an error code the docs do not name.
    const listed = await this.client.getCustomActivityTypes();
    if (!listed.some((t) => t.apiName === apiName)) return undefined;
    const env = await this.client.request({
      method: 'GET',
      path: `/rest/v1/activities/external/type/${encodeURIComponent(apiName)}/describe.json`,
      idempotent: true,
    });
    const [described] = this.parse(z.array(typeSchema), env.result ?? [], 'describeCustomActivityType');
    return described ? toState(described) : undefined;
  }

  async createType(definition: CustomActivityTypeDefinition): Promise<CustomActivityTypeState | undefined> {
    try {
      const created = await this.client.createCustomActivityType({
        apiName: definition.apiName,
        name: definition.name,
        triggerName: definition.triggerName,
        filterName: definition.filterName,
        description: definition.description,
        primaryAttribute: {
          apiName: definition.primaryAttribute.apiName,
          name: definition.primaryAttribute.name,
        },
      });
      return toState(typeSchema.parse(created));
    } catch (err) {
      // Another process created it between our look-up and our create: the caller describes it.
      if (err instanceof MarketoApiError && (await this.describeType(definition.apiName))) return undefined;
      throw err;
    }
  }

  async createAttributes(apiName: string, attributes: readonly CustomAttributeDefinition[]): Promise<void> {
    await this.client.request(
      {
        method: 'POST',
        path: `/rest/v1/activities/external/type/${encodeURIComponent(apiName)}/attributes/create.json`,
        idempotent: false,
      },
      {},
      { attributes: attributes.map((a) => ({ apiName: a.apiName, name: a.name, dataType: a.dataType })) },
    );
  }

  async approveType(apiName: string): Promise<CustomActivityTypeState> {
    return toState(typeSchema.parse(await this.client.approveCustomActivityType(apiName)));
  }

  async addActivities(items: readonly CustomActivityItem[]): Promise<AddedActivityResult[]> {
    const results = await this.client.addCustomActivities(items.map((i) => ({ ...i })));
    return results.map((r) => ({
      status: r.status,
      ...(r.marketoGUID ? { marketoGUID: r.marketoGUID } : {}),
      ...(r.errors ? { errors: r.errors } : {}),
    }));
  }

  async readActivities(activityTypeId: number, since: Date): Promise<ReadBackActivity[]> {
    const out: ReadBackActivity[] = [];
    let nextPageToken = await this.client.getPagingToken(since);
    for (;;) {
      const page = await this.client.getActivities({ nextPageToken, activityTypeIds: [activityTypeId] });
      for (const a of page.items)
        out.push({
          leadId: a.leadId,
          marketoGUID: a.marketoGUID,
          primaryAttributeValue: a.primaryAttributeValue ?? null,
        });
      if (!page.moreResult) return out;
      nextPageToken = page.nextPageToken;
    }
  }

  async findLeads(
    filterType: 'sfdcLeadId' | 'sfdcContactId' | 'email',
    values: readonly string[],
  ): Promise<MarketoLeadRef[]> {
    // Marketo separates filterValues with commas: a value holding one cannot be looked up.
    const usable = values.filter((v) => v !== '' && !v.includes(','));
    if (usable.length === 0) return [];
    const leads = await this.client.getLeads({ filterType, filterValues: usable, fields: LEAD_FIELDS });
    return leads.map((l) => ({
      id: l.id,
      email: l.email ?? null,
      sfdcLeadId: l.sfdcLeadId ?? null,
      sfdcContactId: l.sfdcContactId ?? null,
    }));
  }

  private parse<T>(schema: z.ZodType<T>, value: unknown, endpoint: string): T {
    const parsed = schema.safeParse(value);
    if (!parsed.success)
      throw new MarketoResponseValidationError(`${endpoint}: unexpected response shape.`, {
        endpoint,
        cause: parsed.error,
      });
    return parsed.data;
  }
}
