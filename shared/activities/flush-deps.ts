import type { ActivityDeps } from './activity-deps.js';

export type FlushDeps = Pick<
  ActivityDeps,
  'settings' | 'logger' | 'ledger' | 'runs' | 'staging' | 'salesforce' | 'sender' | 'queueUrls' | 'now'
> &
  /** Present where onLeadDeleted = deleteTask is used (the flush records those Tasks by lead). */
  Partial<Pick<ActivityDeps, 'leadTasks'>>;

export interface FlushOutcome {
  /**
   * empty: nothing staged; busy: another flush holds the lease; pending: the Bulk job is still
   * running (its id is kept: the next flush waits for it); flushed: this flush settled its rows.
   */
  status: 'empty' | 'busy' | 'pending' | 'flushed';
  /** Staged rows this flush covered (after de-duplication). */
  rows: number;
  via?: 'bulk' | 'collections';
  jobId?: string;
  written: number;
  failed: number;
  /** Rows put back for the next flush after a transient failure. */
  restaged: number;
  /** Staged items left for a later flush (restaged rows, or more than one job's worth). */
  remaining: number;
}
