import { type ChainState, type StreamCursor, streamId } from '../../../shared/domain/activity-chain.js';
import type { ClaimStreamInput, CursorStore } from '../../../shared/ports/cursor-store.js';

type Item = Record<string, unknown> & { id: string };

/** CursorStore in memory, with the DynamoDB adapter's conditions (the contract suite runs both). */
export class InMemoryCursorStore implements CursorStore {
  private readonly items = new Map<string, Item>();

  async getStream(streamKey: string): Promise<StreamCursor | undefined> {
    const item = this.read(streamId(streamKey)) as (StreamCursor & Item) | undefined;
    if (!item) return undefined;
    return { ...item, doneWindows: item.doneWindows ?? [] };
  }

  async claimStream(input: ClaimStreamInput): Promise<boolean> {
    const id = streamId(input.streamKey);
    const current = this.items.get(id);
    const ok = input.expectedVersion === undefined ? !current : current?.version === input.expectedVersion;
    if (!ok) return false;
    this.items.set(id, {
      id,
      ...(input.watermark ? { watermark: input.watermark } : {}),
      activeRunId: input.runId,
      runUntil: input.runUntil,
      windowCount: input.windowCount,
      claimedAt: new Date().toISOString(),
      version: (input.expectedVersion ?? 0) + 1,
    });
    return true;
  }

  async completeWindow(
    streamKey: string,
    runId: string,
    windowIndex: number,
  ): Promise<'stale' | 'pending' | 'streamDone' | 'alreadyDone'> {
    const item = this.items.get(streamId(streamKey)) as (StreamCursor & Item) | undefined;
    if (!item || item.activeRunId !== runId) return 'stale';
    const done = new Set(item.doneWindows ?? []).add(windowIndex);
    item.doneWindows = [...done];
    if (done.size < (item.windowCount ?? 1)) return 'pending';
    const { activeRunId: _r, doneWindows: _d, runUntil, windowCount: _w, ...rest } = item;
    this.items.set(item.id, { ...rest, watermark: runUntil, version: item.version + 1 });
    return 'streamDone';
  }

  async getChain(id: string): Promise<ChainState | undefined> {
    return this.read(id) as ChainState | undefined;
  }

  async createChain(chain: Omit<ChainState, 'page' | 'done'>): Promise<void> {
    if (this.items.has(chain.id)) return;
    this.items.set(chain.id, structuredClone({ ...chain, page: 0, done: false }));
  }

  async advanceChain(
    id: string,
    fromPage: number,
    next: { token?: string; resumeFrom: string; done: boolean },
  ): Promise<boolean> {
    const item = this.items.get(id) as (ChainState & Item) | undefined;
    if (!item || item.page !== fromPage || item.done !== false) return false;
    const { token: _t, ...rest } = item;
    this.items.set(id, {
      ...rest,
      page: fromPage + 1,
      resumeFrom: next.resumeFrom,
      done: next.done,
      ...(next.token ? { token: next.token } : {}),
    });
    return true;
  }

  async getValue<T>(id: string): Promise<{ value: T; version: number } | undefined> {
    const item = this.read(id);
    return item ? { value: item.value as T, version: item.version as number } : undefined;
  }

  async putValue<T>(id: string, value: T, expectedVersion: number | undefined): Promise<boolean> {
    const current = this.items.get(id);
    const ok = expectedVersion === undefined ? !current : current?.version === expectedVersion;
    if (!ok) return false;
    this.items.set(
      id,
      structuredClone({
        id,
        value,
        version: (expectedVersion ?? 0) + 1,
        updatedAt: new Date().toISOString(),
      }),
    );
    return true;
  }

  private read(id: string): Item | undefined {
    const item = this.items.get(id);
    return item ? structuredClone(item) : undefined;
  }
}
