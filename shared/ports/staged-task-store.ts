import type { StagedRow } from '../domain/staged-row.js';

/** A staged item without its rows (what a flush plans with). */
export interface StagedItemSummary {
  sk: string;
  rows: number;
  /** Uncompressed JSON size of the rows: an upper bound of their CSV size. */
  bytes: number;
  stagedAt: string;
}

/** The one flush in progress: its lease, the staged items it covers and, once created, its Bulk job. */
export interface FlushState {
  flushId?: string;
  members?: string[];
  jobId?: string;
}

/**
 * Tasks waiting for a Bulk API 2.0 job, plus the one flush lease. Items are keyed by
 * stagedItemKey() so a redelivered message overwrites its own item instead of adding one.
 */
export interface StagedTaskStore {
  /** Stores rows under `key` (overwriting an earlier copy) and records the time. */
  stage(key: string, rows: StagedRow[], now?: Date): Promise<void>;
  /** When rows were last staged (epoch ms), undefined if never. */
  lastStagedAt(): Promise<number | undefined>;
  /** Every staged item, oldest key first, without rows. */
  list(): Promise<StagedItemSummary[]>;
  /** The rows of these items (items already removed are simply absent). */
  load(sks: readonly string[]): Promise<StagedRow[]>;
  remove(sks: readonly string[]): Promise<void>;

  /**
   * Takes the flush lease (one flush at a time). Returns the state a crashed or timed-out earlier
   * flush left (members, job id) to resume, or undefined when another flush holds a live lease.
   * `takeOver` ignores a live lease (the single-process CLI: a lease it finds was left by a process
   * that died).
   */
  acquireFlush(
    owner: string,
    options: { leaseMs: number; takeOver?: boolean; now?: number },
  ): Promise<FlushState | undefined>;
  /** Records what this flush covers, before any Salesforce call. Throws FlushLeaseLostError if not the owner. */
  planFlush(owner: string, flushId: string, members: readonly string[]): Promise<void>;
  /** Persists the Bulk job id as soon as the job exists. Throws FlushLeaseLostError if not the owner. */
  recordJob(owner: string, jobId: string): Promise<void>;
  /** The flush is settled: forget its members and job, and end the lease. Throws FlushLeaseLostError if not the owner. */
  completeFlush(owner: string): Promise<void>;
  /** Ends the lease but keeps members and job for the next flush to resume (no-op if not the owner). */
  releaseFlush(owner: string): Promise<void>;
}

/** Another flush took the lease (this one outlived it): stop; the state stays for the owner. */
export class FlushLeaseLostError extends Error {
  override readonly name = 'FlushLeaseLostError';
  constructor(owner: string, options?: { cause?: unknown }) {
    super(`Flush ${owner} no longer holds the flush lease; another flush continues the work.`, options);
  }
}
