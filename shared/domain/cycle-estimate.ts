/**
 * What an activity cycle would cost, from a sample of each window's first page (pure; the use
 * case plan-activity-cycle.ts reads the sample). A window's activities are the sample's count when
 * its first page ends it (moreResult false, or an activity at or past its end), else the sample's
 * rate over the span it covered times the window's span.
 */

export interface WindowSample {
  from: string;
  /** Exclusive end; undefined = until now. */
  until?: string;
  /** Activities of the page inside the window. */
  inWindow: number;
  /** The page holds the window's last activity (no more, or one at/after `until`). */
  complete: boolean;
  /** Date of the page's last activity inside the window (the span the sample covers). */
  lastAt?: string;
}

/** Activities in a window, estimated from its first page. */
export function estimateWindowActivities(sample: WindowSample, now: Date): number {
  if (sample.complete || sample.inWindow === 0 || !sample.lastAt) return sample.inWindow;
  const from = Date.parse(sample.from);
  const until = sample.until ? Date.parse(sample.until) : now.getTime();
  const covered = Math.max(1, Date.parse(sample.lastAt) - from);
  return Math.max(sample.inWindow, Math.round((sample.inWindow * (until - from)) / covered));
}

/** A window's Marketo calls: its paging token and its pages (the last one cut short at its end). */
export function windowMarketoCalls(activities: number, batchSize: number): number {
  return 1 + windowPages(activities, batchSize);
}

/** Pages a window reads: full pages, then the one its end cuts short (or the last). */
export function windowPages(activities: number, batchSize: number): number {
  return Math.floor(activities / batchSize) + 1;
}

/** Salesforce sObject Collections take ≤ 200 records a call (Salesforce REST API guide, "sObject Collections"). */
export const COLLECTION_SIZE = 200;
/**
 * Calls of one Bulk API 2.0 ingest job: create, upload, close, one status poll, results
 * (Salesforce Bulk API 2.0 guide, "Bulk API 2.0 Ingest"): more polls on a slow org.
 */
export const BULK_JOB_CALLS = 5;

export interface WriteCallModel {
  activities: number;
  /** Marketo pages the cycle reads: each page's activities reach one write batch. */
  pages: number;
  /** Marketo leads per getLeads (the batch size; ids the cache does not know are looked up). */
  batchSize: number;
  upsertMode: 'externalId' | 'ledger';
  bulkThreshold: number;
}

/**
 * Calls the write side spends on `activities`: one Marketo lead look-up per batch of activities;
 * in Salesforce one converted-Lead query per write batch (about one per page read), collections of
 * 200 Tasks (ledger mode: also a look-up query each), one org time-zone query per cycle. Tasks are
 * staged once the cycle has read bulkThreshold activities, and the staged ones go through one Bulk
 * job when there are at least bulkThreshold of them (write-activity-tasks.ts, bulk-flush.ts).
 */
export function writeCalls(m: WriteCallModel): { marketo: number; salesforce: number } {
  if (m.activities === 0) return { marketo: 0, salesforce: 0 };
  const marketo = Math.ceil(m.activities / m.batchSize);
  const bulk = m.upsertMode === 'externalId' && m.activities - m.bulkThreshold >= m.bulkThreshold;
  const collections = Math.ceil(m.activities / COLLECTION_SIZE) * (m.upsertMode === 'ledger' ? 2 : 1);
  // Past twice the threshold the reads run far ahead of the writes: nearly every Task is staged
  // before its write batch queries anything, and one Bulk job writes them (measured: 23,826
  // activities, 7 Salesforce calls).
  if (bulk) return { marketo, salesforce: 1 + BULK_JOB_CALLS };
  return { marketo, salesforce: 1 + m.pages + collections };
}

/** Share of a daily quota, in percent with one decimal. */
export function quotaShare(calls: number, quota: number): number {
  return Math.round((calls / quota) * 1000) / 10;
}
