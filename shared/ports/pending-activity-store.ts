import type { Activity } from '../domain/activity.js';

/** An activity held for a person Salesforce does not know yet, as the write step received it. */
export type PendingActivity = Activity & { activityTypeName: string };

export interface PendingKey {
  leadId: number;
  marketoGUID: string;
}

/**
 * Activities skipped only because their Marketo lead has no Salesforce record yet. Each is kept
 * until its type's look-back ends (`keepUntil`), revisited by every scheduled run, and written
 * (then removed) once the lead is linked.
 */
export interface PendingActivityStore {
  /** Stores or refreshes each activity (the same activity twice is one entry). */
  put(items: { activity: PendingActivity; keepUntil: Date }[]): Promise<void>;
  /** Every lead with pending activities still inside their look-back → how many. */
  waiting(): Promise<Map<number, number>>;
  /** The unexpired pending activities of these leads. */
  forLeads(leadIds: number[]): Promise<PendingActivity[]>;
  /** The marketoGUIDs among `keys` that are pending (unexpired). */
  pendingOf(keys: PendingKey[]): Promise<Set<string>>;
  remove(keys: PendingKey[]): Promise<void>;
}
