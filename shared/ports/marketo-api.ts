import * as z from 'zod';
import { type Activity, type ActivityType, activityAttributeSchema } from '../domain/activity.js';
import type { MarketoExportApi } from './marketo-export-api.js';

/**
 * What the domain needs from Marketo. The hand-written client (marketo-client.ts) implements
 * it over HTTP; vendor responses are validated with these schemas (typed from the Swagger in
 * ../shared/reference/marketo/).
 */

export const leadChangeFieldSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  newValue: z.string().nullish(),
  oldValue: z.string().nullish(),
});

export const leadChangeSchema = z.object({
  id: z.number().optional(),
  marketoGUID: z.string().min(1),
  leadId: z.number().int(),
  activityDate: z.string(),
  activityTypeId: z.number().int(),
  fields: z.array(leadChangeFieldSchema).optional(),
  attributes: z.array(activityAttributeSchema).optional(),
});
export type LeadChange = z.infer<typeof leadChangeSchema>;

/** A Marketo lead as we read it: id plus whatever fields were requested (values may be null). */
export const leadSchema = z
  .object({
    id: z.number().int(),
    email: z.string().nullish(),
    sfdcType: z.string().nullish(),
    sfdcLeadId: z.string().nullish(),
    sfdcContactId: z.string().nullish(),
    sfdcAccountId: z.string().nullish(),
    unsubscribed: z.boolean().nullish(),
    unsubscribedReason: z.string().nullish(),
    createdAt: z.string().nullish(),
  })
  .passthrough();
export type Lead = z.infer<typeof leadSchema>;

export interface ActivityPage<T> {
  items: T[];
  nextPageToken: string;
  moreResult: boolean;
}

export type LeadFilterType = 'id' | 'email' | 'sfdcLeadId' | 'sfdcContactId';

export interface SyncLeadResult {
  id?: number;
  status: 'created' | 'updated' | 'skipped';
  reasons?: { code: string; message: string }[];
}

export interface CustomActivityInput {
  leadId: number;
  activityDate: string;
  activityTypeId: number;
  primaryAttributeValue: string;
  attributes?: { apiName?: string; name?: string; value: unknown }[];
}

export interface CustomActivityResult {
  id?: number;
  marketoGUID?: string;
  status: 'added' | 'skipped';
  errors?: { code: string; message: string }[];
}

export interface MarketoCallCounts {
  /** Calls that count against quota (identity excluded). */
  total: number;
  byEndpoint: Record<string, number>;
  /** Errors seen, by Marketo code (e.g. "606"). */
  errors: Record<string, number>;
}

export interface MarketoApi {
  getPagingToken(sinceDatetime: Date): Promise<string>;
  /** ≤ 10 type ids; a page may be short or empty while moreResult is true. */
  getActivities(params: {
    nextPageToken: string;
    activityTypeIds: number[];
    batchSize?: number;
  }): Promise<ActivityPage<Activity>>;
  /** `fields` is required by Marketo. */
  getLeadChanges(params: {
    nextPageToken: string;
    fields: string[];
    batchSize?: number;
  }): Promise<ActivityPage<LeadChange>>;
  getDeletedLeads(params: { nextPageToken: string; batchSize?: number }): Promise<ActivityPage<LeadChange>>;
  getActivityTypes(): Promise<ActivityType[]>;
  /** ≤ 300 values per call; the client splits larger lists. */
  getLeads(params: {
    filterType: LeadFilterType;
    filterValues: (string | number)[];
    fields: string[];
  }): Promise<Lead[]>;
  /** Sync Leads (`POST /rest/v1/leads.json`), ≤ 300 per call; results in input order. */
  syncLeads(params: {
    action: 'createOnly' | 'updateOnly' | 'createOrUpdate';
    lookupField: string;
    input: Record<string, unknown>[];
  }): Promise<SyncLeadResult[]>;
  /** Add Custom Activities, ≤ 300 per call; results in input order. */
  addCustomActivities(input: CustomActivityInput[]): Promise<CustomActivityResult[]>;
  callCounts(): MarketoCallCounts;
  /** Bulk Activity Extract, where the client offers it (the back-fill reads by REST without it). */
  readonly bulkExport?: MarketoExportApi;
}
