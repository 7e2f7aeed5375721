import type { StagedRow } from '../../../shared/domain/staged-row.js';
import {
  FlushLeaseLostError,
  type FlushState,
  type StagedItemSummary,
  type StagedTaskStore,
} from '../../../shared/ports/staged-task-store.js';

interface Lease extends FlushState {
  owner?: string;
  leaseUntil?: number;
}

/**
 * StagedTaskStore in memory, with the DynamoDB adapter's flush lease. Rows are kept as one part per
 * key (`<key>#0`): the DynamoDB adapter splits only items over its 300 KB compressed limit.
 */
export class InMemoryStagedTaskStore implements StagedTaskStore {
  private readonly items = new Map<string, { rows: StagedRow[]; summary: StagedItemSummary }>();
  private lastStaged: string | undefined;
  private flush: Lease | undefined;

  async stage(key: string, rows: StagedRow[], now = new Date()): Promise<void> {
    if (rows.length === 0) return;
    const stagedAt = now.toISOString();
    const sk = `${key}#0`;
    const bytes = Buffer.byteLength(JSON.stringify(rows));
    this.items.set(sk, { rows: structuredClone(rows), summary: { sk, rows: rows.length, bytes, stagedAt } });
    if (this.lastStaged === undefined || this.lastStaged < stagedAt) this.lastStaged = stagedAt;
  }

  async lastStagedAt(): Promise<number | undefined> {
    return this.lastStaged === undefined ? undefined : Date.parse(this.lastStaged);
  }

  async list(): Promise<StagedItemSummary[]> {
    return [...this.items.keys()].sort().flatMap((sk) => {
      const item = this.items.get(sk);
      return item ? [{ ...item.summary }] : [];
    });
  }

  async load(sks: readonly string[]): Promise<StagedRow[]> {
    return sks.flatMap((sk) => structuredClone(this.items.get(sk)?.rows ?? []));
  }

  async remove(sks: readonly string[]): Promise<void> {
    for (const sk of sks) this.items.delete(sk);
  }

  async acquireFlush(
    owner: string,
    options: { leaseMs: number; takeOver?: boolean; now?: number },
  ): Promise<FlushState | undefined> {
    const now = options.now ?? Date.now();
    const held = this.flush;
    const free =
      options.takeOver || held?.leaseUntil === undefined || held.leaseUntil < now || held.owner === owner;
    if (!free) return undefined;
    this.flush = { ...held, owner, leaseUntil: now + options.leaseMs };
    const { flushId, members, jobId } = this.flush;
    return {
      ...(flushId !== undefined ? { flushId } : {}),
      ...(members !== undefined ? { members: [...members] } : {}),
      ...(jobId !== undefined ? { jobId } : {}),
    };
  }

  async planFlush(owner: string, flushId: string, members: readonly string[]): Promise<void> {
    const { jobId: _j, ...lease } = this.owned(owner);
    this.flush = { ...lease, flushId, members: [...members] };
  }

  async recordJob(owner: string, jobId: string): Promise<void> {
    this.owned(owner).jobId = jobId;
  }

  async completeFlush(owner: string): Promise<void> {
    this.owned(owner);
    this.flush = { owner, leaseUntil: 0 };
  }

  async releaseFlush(owner: string): Promise<void> {
    if (this.flush?.owner === owner) this.flush.leaseUntil = 0;
  }

  private owned(owner: string): Lease {
    if (!this.flush || this.flush.owner !== owner) throw new FlushLeaseLostError(owner);
    return this.flush;
  }
}
