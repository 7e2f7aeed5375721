/** One Task we wrote, by the Marketo lead it came from. */
export interface LeadTask {
  leadId: number;
  marketoGUID: string;
  taskId: string;
}

/**
 * The Tasks we wrote per Marketo lead, kept only for activity types whose `onLeadDeleted` is
 * `deleteTask` (seed 002), and the position reached in Marketo's deleted-leads feed.
 */
export interface LeadTaskIndex {
  add(tasks: LeadTask[]): Promise<void>;
  forLeads(leadIds: number[]): Promise<LeadTask[]>;
  remove(tasks: LeadTask[]): Promise<void>;
  /** ISO time the deleted-leads feed was read up to (undefined before the first read). */
  deletionsReadUntil(): Promise<string | undefined>;
  setDeletionsReadUntil(iso: string): Promise<void>;
}
