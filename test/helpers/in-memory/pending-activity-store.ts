import type {
  PendingActivity,
  PendingActivityStore,
  PendingKey,
} from '../../../shared/ports/pending-activity-store.js';

/** PendingActivityStore in memory: an entry is gone once its `keepUntil` has passed, like the DynamoDB one. */
export class InMemoryPendingActivityStore implements PendingActivityStore {
  private readonly items = new Map<string, { activity: PendingActivity; keepUntil: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  async put(items: { activity: PendingActivity; keepUntil: Date }[]): Promise<void> {
    for (const { activity, keepUntil } of items)
      this.items.set(key(activity), { activity: structuredClone(activity), keepUntil: keepUntil.getTime() });
  }

  async waiting(): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    for (const { activity } of this.live()) out.set(activity.leadId, (out.get(activity.leadId) ?? 0) + 1);
    return out;
  }

  async forLeads(leadIds: number[]): Promise<PendingActivity[]> {
    const wanted = new Set(leadIds);
    return this.live()
      .filter(({ activity }) => wanted.has(activity.leadId))
      .map(({ activity }) => structuredClone(activity));
  }

  async pendingOf(keys: PendingKey[]): Promise<Set<string>> {
    const now = this.now();
    const out = new Set<string>();
    for (const k of keys) {
      const item = this.items.get(key(k));
      if (item && item.keepUntil > now) out.add(k.marketoGUID);
    }
    return out;
  }

  async remove(keys: PendingKey[]): Promise<void> {
    for (const k of keys) this.items.delete(key(k));
  }

  private live() {
    const now = this.now();
    return [...this.items.values()].filter((item) => item.keepUntil > now);
  }
}

const key = (k: PendingKey) => `${k.leadId}#${k.marketoGUID}`;
