/**
 * pending: we are about to create the Task (or did, and do not know the outcome yet);
 * done: the Task exists with `taskId`; failed: Salesforce refused it for good (reason kept);
 * skipped: no Task is due (e.g. the lead has no Salesforce record; reason kept).
 */
export type LedgerStatus = 'pending' | 'done' | 'failed' | 'skipped';

/** marketoGUID → Task Id: what the sync did about one activity. */
export interface LedgerEntry {
  marketoGUID: string;
  status: LedgerStatus;
  taskId?: string;
  whoId?: string;
  leadId?: number;
  activityTypeName?: string;
  activityDate?: string;
  reason?: string;
  /** Why the Task went to `whoId` (the lead's link, a conversion, or the email match and its rule). */
  how?: string;
  runId?: string;
  updatedAt: string;
}
