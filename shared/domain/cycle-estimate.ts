import { MARKETO_MAX_BATCH } from '../ports/vendor-limits.js';
import type { Activity } from './activity.js';
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
  upsertMode: 'externalId' | 'ledger';
  bulkThreshold: number;
}

/**
 * Salesforce calls the write side spends on `activities`: one converted-Lead query per write batch
 * (about one per page read), collections of 200 Tasks (ledger mode: also a look-up query each), one
 * org time-zone query per cycle. Tasks are staged once the cycle has read bulkThreshold activities,
 * and the staged ones go through one Bulk job when there are at least bulkThreshold of them
 * (write-activity-tasks.ts, bulk-flush.ts). Its Marketo lead look-ups: leadLookupCalls.
 */
export function writeCalls(m: WriteCallModel): { salesforce: number } {
  if (m.activities === 0) return { salesforce: 0 };
  const bulk = m.upsertMode === 'externalId' && m.activities - m.bulkThreshold >= m.bulkThreshold;
  const collections = Math.ceil(m.activities / COLLECTION_SIZE) * (m.upsertMode === 'ledger' ? 2 : 1);
  // Past twice the threshold the reads run far ahead of the writes: nearly every Task is staged
  // before its write batch queries anything, and one Bulk job writes them (measured: 23,826
  // activities, 7 Salesforce calls).
  if (bulk) return { salesforce: 1 + BULK_JOB_CALLS };
  return { salesforce: 1 + m.pages + collections };
}

/** Share of a daily quota, in percent with one decimal. */
export function quotaShare(calls: number, quota: number): number {
  return Math.round((calls / quota) * 1000) / 10;
}

/**
 * How many people the activities are drawn from, from samples that held `sampleActivities`
 * activities of `samplePeople` distinct people: activities taken as drawn evenly from P people meet
 * P·(1 − e^(−n/P)) of them in n draws; P is solved from the samples. A sample without a repeat says
 * nothing of P: Infinity (every activity its own person, an upper bound).
 */
export function peoplePopulation(samplePeople: number, sampleActivities: number): number {
  if (samplePeople <= 0) return 0;
  if (samplePeople >= sampleActivities) return Number.POSITIVE_INFINITY;
  let low = samplePeople;
  let high = samplePeople * 2;
  while (peopleMet(high, sampleActivities) < samplePeople) high *= 2;
  for (let i = 0; i < 60; i++) {
    const mid = (low + high) / 2;
    if (peopleMet(mid, sampleActivities) < samplePeople) low = mid;
    else high = mid;
  }
  return high;
}

/** Distinct people n activities drawn evenly from `population` people meet (expected). */
export function peopleMet(population: number, n: number): number {
  if (n <= 0 || population <= 0) return 0;
  if (!Number.isFinite(population)) return n;
  return population * (1 - Math.exp(-n / population));
}

export interface LeadLookupModel {
  /** Activities read, in the order they are handed to the look-ups. */
  activities: number;
  /** People they are drawn from (peoplePopulation), and the share the lead cache does not hold linked. */
  population: number;
  uncachedShare: number;
  /**
   * Groups of activities whose people are looked up together, and how many of them look up at the
   * same time (each sees only what the cache held when it started: a person new to two of them is
   * looked up twice).
   */
  groups: number;
  concurrency: number;
  /** The lead cache keeps what a group looked up for the later groups (TTL > 0). */
  cacheWithinCycle: boolean;
}

/**
 * Marketo lead look-ups (≤ 300 ids a call, MARKETO_MAX_BATCH) for people the lead cache does not
 * hold linked: each group looks up its own people not yet in the cache, in calls of 300. With the
 * activities spread evenly over the people, a group of g activities meets P·(1 − e^(−g/P)) people,
 * of which a share e^(−s/P) is new after s activities were looked up before it started.
 */
export function leadLookupCalls(m: LeadLookupModel): number {
  if (m.activities <= 0 || m.population <= 0 || m.groups <= 0) return 0;
  const perGroup = m.activities / m.groups;
  const met = peopleMet(m.population, perGroup);
  let calls = 0;
  for (let i = 0; i < m.groups; i++) {
    const seenBefore = m.cacheWithinCycle ? Math.floor(i / m.concurrency) * m.concurrency * perGroup : 0;
    const fresh = Math.round(m.uncachedShare * met * Math.exp(-seenBefore / m.population));
    calls += Math.ceil(fresh / MARKETO_MAX_BATCH);
  }
  return calls;
}

/**
 * Groups of the REST path's look-ups: the write step takes up to `writeBatchMessages` messages (a
 * page each) an invocation, at least one invocation per concurrent consumer while pages remain.
 */
export function restLookupGroups(
  pages: number,
  writeBatchMessages: number,
  writeConcurrency: number,
): number {
  if (pages <= 0) return 0;
  return Math.max(Math.ceil(pages / writeBatchMessages), Math.min(pages, writeConcurrency));
}

/**
 * Size of one activity as a row of a Bulk Activity Extract CSV file (header excluded): its fields as
 * the REST endpoint shows them, `attributes` as a JSON object, RFC 4180 quoting, an empty field as
 * `null` (AdobeDocs/marketo-developer.en help/rest-api/bulk-activity-extract.md, "Retrieving Your Data").
 */
export function exportRowBytes(a: Activity): number {
  const field = (v: unknown) => {
    const s = v === undefined || v === null ? 'null' : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const attributes = a.attributes?.length
    ? JSON.stringify(Object.fromEntries(a.attributes.map((x) => [x.name, x.value])))
    : null;
  const row = [
    a.marketoGUID,
    a.leadId,
    a.activityDate,
    a.activityTypeId,
    a.campaignId,
    a.primaryAttributeValueId,
    a.primaryAttributeValue,
    attributes,
  ]
    .map(field)
    .join(',');
  return Buffer.byteLength(row, 'utf8') + 1;
}

export interface ExportWindowModel {
  activities: number;
  /** Average export row size (exportRowBytes over a sample). */
  rowBytes: number;
  chunkBytes: number;
}

/**
 * One export job's calls before its people: create, enqueue, one status poll (one more per
 * `pollSeconds` Marketo spends processing it, not known beforehand), then one ranged read per
 * `chunkBytes` of its file (a read ends at the last whole record, so a range carries a little less).
 */
export function exportJobCalls(m: ExportWindowModel): { calls: number; ranges: number; bytes: number } {
  const bytes = Math.round(m.activities * m.rowBytes);
  const perRange = Math.max(1, m.chunkBytes - m.rowBytes);
  const ranges = Math.max(1, Math.ceil(bytes / perRange));
  return { calls: 3 + ranges, ranges, bytes };
}
