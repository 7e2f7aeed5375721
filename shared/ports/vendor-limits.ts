/**
 * The vendors' documented limits, named once. Every client, use case and sandbox that sizes a
 * request imports them from here (sources: ../shared/API-NOTES.md, Marketo developer docs,
 * Salesforce REST API developer guide).
 */

/** Marketo Get Lead Activities: `activityTypeIds` takes at most 10 ids per call. */
export const MARKETO_MAX_ACTIVITY_TYPE_IDS = 10;
/** Marketo: at most 300 records per page, per lead filter (`filterValues`) and per Sync Leads / Add Custom Activities call. */
export const MARKETO_MAX_BATCH = 300;
/** Marketo: 100 calls per 20 s per instance (we default to half of it for one integration). */
export const MARKETO_INSTANCE_CALLS_PER_20S = 100;
/** Marketo: 10 concurrent calls per instance. */
export const MARKETO_INSTANCE_MAX_CONCURRENT = 10;
/**
 * Marketo bulk extracts: "Default Daily Export Allocation: 500MB", shared by every bulk extract of
 * the instance and reset at 00:00 Central Time (AdobeDocs/marketo-developer.en
 * help/rest-api/bulk-extract.md, "Limits").
 */
export const MARKETO_DAILY_EXPORT_BYTES = 500 * 1024 * 1024;
/** Salesforce sObject Collections: at most 200 records per call. */
export const SALESFORCE_MAX_COLLECTION_SIZE = 200;
/** Salesforce REST API version we speak (never jsforce's default 50.0). */
export const SALESFORCE_API_VERSION = '62.0';
/** SQS SendMessageBatch / DeleteMessageBatch: at most 10 entries per call. */
export const SQS_MAX_BATCH_ENTRIES = 10;
/** SQS: one message, and one SendMessageBatch call in total, at most 256 KiB. */
export const SQS_MAX_BATCH_BYTES = 262_144;
