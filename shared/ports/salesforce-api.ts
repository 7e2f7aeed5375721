import type { SalesforceRecordError } from '../domain/salesforce-records.js';
import type { SoqlQuery } from '../domain/soql.js';

/**
 * What the domain needs from Salesforce. salesforce-client.ts implements it on jsforce
 * (`@jsforce/jsforce-node`). Results come back in input order, one per record.
 */

export interface SalesforceSaveResult {
  id?: string | null;
  success: boolean;
  created?: boolean;
  errors: SalesforceRecordError[];
}

export interface SalesforceLimitInfo {
  used: number;
  limit: number;
}

export interface SalesforceCallCounts {
  total: number;
  byKind: Record<string, number>;
  errors: Record<string, number>;
}

export interface SalesforceApi {
  /** Upsert on an External ID field through sObject Collections (≤ 200 per call; the client chunks). */
  upsert(
    sobject: string,
    externalIdField: string,
    records: Record<string, unknown>[],
  ): Promise<SalesforceSaveResult[]>;
  /** Create through sObject Collections (`allOrNone: false`). */
  create(sobject: string, records: Record<string, unknown>[]): Promise<SalesforceSaveResult[]>;
  /** Update through sObject Collections; each record carries `Id`. */
  update(sobject: string, records: Record<string, unknown>[]): Promise<SalesforceSaveResult[]>;
  /** Delete by ids through sObject Collections. */
  destroy(sobject: string, ids: string[]): Promise<SalesforceSaveResult[]>;
  /** SOQL query, every page fetched (no 10,000-row cap). Only soql`…` (soql.ts) builds a SoqlQuery. */
  query<T extends Record<string, unknown>>(soql: SoqlQuery): Promise<T[]>;
  /** Bulk API 2.0 upsert on an External ID field; resumable by job id. */
  bulkUpsert?(
    sobject: string,
    externalIdField: string,
    records: Record<string, unknown>[],
    options?: { onJobCreated?: (jobId: string) => Promise<void>; resumeJobId?: string },
  ): Promise<SalesforceSaveResult[]>;
  /** Last `Sforce-Limit-Info` seen. */
  limitInfo(): SalesforceLimitInfo | undefined;
  callCounts(): SalesforceCallCounts;
}
