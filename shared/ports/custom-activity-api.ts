import type {
  CustomActivityItem,
  CustomActivityTypeDefinition,
  CustomAttributeDefinition,
} from '../domain/sales-activity.js';

/** A custom activity type as Marketo describes it. */
export interface CustomActivityTypeState {
  id: number;
  apiName: string;
  /** `draft`, `approved`, `approved with draft`, `deleted` (Swagger CustomActivityType.status). */
  status: string;
  primaryAttributeApiName: string | undefined;
  attributeApiNames: string[];
}

export interface AddedActivityResult {
  status: 'added' | 'skipped';
  marketoGUID?: string;
  errors?: { code: string; message: string }[];
}

/** A custom activity read back from Marketo (enough to match it to the record that made it). */
export interface ReadBackActivity {
  leadId: number;
  marketoGUID: string;
  primaryAttributeValue: string | null;
}

export interface MarketoLeadRef {
  id: number;
  email: string | null;
  sfdcLeadId: string | null;
  sfdcContactId: string | null;
}

/** What job 4a needs from Marketo: custom activity type set-up, Add Custom Activities, lead look-ups. */
export interface CustomActivityApi {
  /** The custom type by API name, or undefined when the instance has none. */
  describeType(apiName: string): Promise<CustomActivityTypeState | undefined>;
  /** Creates a draft type; resolves undefined when another writer created it first. */
  createType(definition: CustomActivityTypeDefinition): Promise<CustomActivityTypeState | undefined>;
  createAttributes(apiName: string, attributes: readonly CustomAttributeDefinition[]): Promise<void>;
  approveType(apiName: string): Promise<CustomActivityTypeState>;
  /** Add Custom Activities, ≤ 300 per call; results in input order. */
  addActivities(items: readonly CustomActivityItem[]): Promise<AddedActivityResult[]>;
  /** Activities of one type dated at or after `since` (every page). */
  readActivities(activityTypeId: number, since: Date): Promise<ReadBackActivity[]>;
  /** Leads by one filter (≤ 300 values per call; the adapter splits longer lists). */
  findLeads(
    filterType: 'sfdcLeadId' | 'sfdcContactId' | 'email',
    values: readonly string[],
  ): Promise<MarketoLeadRef[]>;
}
