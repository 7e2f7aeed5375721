/** The records the sync exchanges with Salesforce, as plain data (the Salesforce port carries them). */

/** Why Salesforce refused one record (sObject Collections / Bulk API 2.0 per-record error). */
export interface SalesforceRecordError {
  statusCode: string;
  message: string;
  fields?: string[];
}

/** A Task as written by us; extra keys are Task fields from the type's field mapping. */
export interface TaskRecord {
  WhoId: string;
  Subject: string;
  Status: 'Completed';
  Priority: string;
  ActivityDate: string;
  Type?: string;
  TaskSubtype?: string;
  Description?: string;
  [field: string]: string | number | boolean | null | undefined;
}
