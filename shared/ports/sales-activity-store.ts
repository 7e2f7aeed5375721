/**
 * Job 4a's durable state: the watermark, one ledger entry per Salesforce record (so each record
 * becomes exactly one Marketo activity) and a lease that serialises custom-type set-up.
 */

/** `rejected`: Marketo skipped the item (sent again when the record is read again). */
export type LedgerState = 'sending' | 'added' | 'rejected';

export interface SalesActivityLedgerEntry {
  recordId: string;
  state: LedgerState;
  leadId: number;
  /** When the send started. */
  sentAt: string;
  /**
   * The activity's `activityDate`: Marketo pages activities by activityDate (Get Paging Token
   * `sinceDatetime`), so a read-back for an unknown outcome starts here, not at `sentAt`.
   */
  activityDate: string;
  /** SystemModstamp of the version that was sent (a later one is an edit, never re-sent). */
  systemModstamp: string;
  marketoGUID?: string;
}

export interface SalesActivityStore {
  getWatermark(): Promise<string | undefined>;
  putWatermark(iso: string): Promise<void>;
  getLedger(recordIds: readonly string[]): Promise<Map<string, SalesActivityLedgerEntry>>;
  /** Written before a send; an entry left in `sending` is an unknown outcome to resolve by read-back. */
  putLedger(entries: readonly SalesActivityLedgerEntry[]): Promise<void>;
  /**
   * Records skipped because their person had no Marketo lead: record Id → keep until (ISO, the end
   * of the look-back). Revisited by every run and written once the lead exists.
   */
  pendingRecords(): Promise<Map<string, string>>;
  updatePending(
    put: readonly { recordId: string; keepUntil: string }[],
    remove: readonly string[],
  ): Promise<void>;
  /** True when `owner` now holds the named lease (free, expired, or already its own). */
  tryLease(name: string, owner: string, ttlMs: number): Promise<boolean>;
  releaseLease(name: string, owner: string): Promise<void>;
}
