import type { LedgerEntry } from '../domain/ledger-entry.js';

/** marketoGUID → Task Id. A retry consults it first, so no activity is ever written twice. */
export interface LedgerStore {
  getMany(guids: string[]): Promise<Map<string, LedgerEntry>>;

  /**
   * Claims an activity before creating its Task (ledger mode). The claim is a lease: while another
   * attempt holds a live one (a redelivered copy of the same message still running), the claim
   * fails; so does a claim on a settled (non-pending) entry. `hadAttempt` says an earlier attempt
   * got this far, so its Task may exist: look it up before creating.
   */
  claim(
    entry: Omit<LedgerEntry, 'status' | 'updatedAt'>,
    owner: string,
    leaseMs: number,
    now?: number,
  ): Promise<{ claimed: boolean; hadAttempt: boolean }>;

  /** Ends this attempt's lease on an entry it did not settle, so the next attempt need not wait. */
  release(marketoGUID: string, owner: string): Promise<void>;

  /** Records the Task; true only for the write that moved the entry to done (counts stay exact). */
  markDone(entry: Omit<LedgerEntry, 'status' | 'updatedAt'> & { taskId: string }): Promise<boolean>;

  /** Records a permanent refusal; never overwrites a done entry. */
  markFailed(entry: Omit<LedgerEntry, 'status' | 'updatedAt'> & { reason: string }): Promise<boolean>;

  /** Records that no Task is due; true only the first time (so skip counts stay exact under redelivery). */
  markSkipped(entry: Omit<LedgerEntry, 'status' | 'updatedAt'> & { reason: string }): Promise<boolean>;

  /**
   * Our Task was deleted (its Marketo lead was deleted and onLeadDeleted is deleteTask): the entry
   * becomes skipped with the reason, so a re-read of the activity never writes it again.
   */
  markTaskDeleted(marketoGUID: string, reason: string): Promise<void>;

  /** Every entry (for verify). */
  scanAll(): AsyncGenerator<LedgerEntry>;
}
