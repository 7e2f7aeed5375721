import type { LedgerEntry } from '../../../shared/domain/ledger-entry.js';
import type { LedgerStore } from '../../../shared/ports/ledger-store.js';

type Item = LedgerEntry & { owner?: string; leaseUntil?: number };

/** LedgerStore in memory, with the DynamoDB adapter's conditions and leases. */
export class InMemoryLedgerStore implements LedgerStore {
  private readonly items = new Map<string, Item>();

  async getMany(guids: string[]): Promise<Map<string, LedgerEntry>> {
    const out = new Map<string, LedgerEntry>();
    for (const guid of new Set(guids)) {
      const item = this.items.get(guid);
      if (item) out.set(guid, structuredClone(item));
    }
    return out;
  }

  async claim(
    entry: Omit<LedgerEntry, 'status' | 'updatedAt'>,
    owner: string,
    leaseMs: number,
    now = Date.now(),
  ): Promise<{ claimed: boolean; hadAttempt: boolean }> {
    const old = this.items.get(entry.marketoGUID);
    const free =
      !old ||
      (old.status === 'pending' &&
        ((typeof old.leaseUntil === 'number' && old.leaseUntil < now) || old.owner === owner));
    if (!free) return { claimed: false, hadAttempt: true };
    this.items.set(
      entry.marketoGUID,
      structuredClone({
        ...entry,
        status: 'pending',
        owner,
        leaseUntil: now + leaseMs,
        updatedAt: new Date(now).toISOString(),
      }),
    );
    return { claimed: true, hadAttempt: old !== undefined };
  }

  async release(marketoGUID: string, owner: string): Promise<void> {
    const item = this.items.get(marketoGUID);
    if (item?.status === 'pending' && item.owner === owner) item.leaseUntil = 0;
  }

  async markDone(entry: Omit<LedgerEntry, 'status' | 'updatedAt'> & { taskId: string }): Promise<boolean> {
    return this.put({ ...entry, status: 'done' }, (old) => old?.status !== 'done');
  }

  async markFailed(entry: Omit<LedgerEntry, 'status' | 'updatedAt'> & { reason: string }): Promise<boolean> {
    return this.put({ ...entry, status: 'failed' }, (old) => old?.status !== 'done');
  }

  async markSkipped(entry: Omit<LedgerEntry, 'status' | 'updatedAt'> & { reason: string }): Promise<boolean> {
    return this.put({ ...entry, status: 'skipped' }, (old) => !old);
  }

  async markTaskDeleted(marketoGUID: string, reason: string): Promise<void> {
    const old = this.items.get(marketoGUID);
    this.items.set(marketoGUID, {
      ...(old ?? { marketoGUID }),
      status: 'skipped',
      reason,
      updatedAt: new Date().toISOString(),
    });
  }

  async *scanAll(): AsyncGenerator<LedgerEntry> {
    for (const item of [...this.items.values()]) yield structuredClone(item);
  }

  private put(item: Omit<LedgerEntry, 'updatedAt'>, allowed: (old: Item | undefined) => boolean): boolean {
    if (!allowed(this.items.get(item.marketoGUID))) return false;
    this.items.set(item.marketoGUID, structuredClone({ ...item, updatedAt: new Date().toISOString() }));
    return true;
  }
}
