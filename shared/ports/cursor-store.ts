import type { ChainState, StreamCursor } from '../domain/activity-chain.js';

/**
 * Cursors and paging chains, all advanced with conditional writes so a stale owner can never move
 * them. Implemented on DynamoDB (adapters/dynamodb/cursor-store.ts) and in memory for tests.
 */
/** A run's claim on a stream: fails when another writer changed the cursor since it was read. */
export interface ClaimStreamInput {
  streamKey: string;
  runId: string;
  runUntil: string;
  windowCount: number;
  expectedVersion: number | undefined;
  watermark?: string;
}

export interface CursorStore {
  getStream(streamKey: string): Promise<StreamCursor | undefined>;

  /**
   * Makes `runId` the owner of the stream (taking over from a stalled earlier run). Returns false
   * when another writer changed the cursor since it was read (`expectedVersion` undefined: it must
   * not exist yet).
   */
  claimStream(input: ClaimStreamInput): Promise<boolean>;

  /**
   * Records a finished window. When it was the run's last, the watermark moves to the run's upper
   * bound and ownership is released. Returns 'stale' if the run no longer owns the stream, and
   * 'streamDone' to exactly one caller: when two windows finish at once, both may see every window
   * done, but only the one whose release succeeds is told so (the other gets 'alreadyDone').
   */
  completeWindow(
    streamKey: string,
    runId: string,
    windowIndex: number,
  ): Promise<'stale' | 'pending' | 'streamDone' | 'alreadyDone'>;

  getChain(id: string): Promise<ChainState | undefined>;

  /** Creates the chain at page 0 unless it exists (re-delivered start messages keep the first). */
  createChain(chain: Omit<ChainState, 'page' | 'done'>): Promise<void>;

  /**
   * Advances the chain from `fromPage` to `fromPage + 1`. Only the holder of page `fromPage` of a
   * chain not yet done can do it; returns false when another delivery got there first.
   */
  advanceChain(
    id: string,
    fromPage: number,
    next: { token?: string; resumeFrom: string; done: boolean },
  ): Promise<boolean>;

  /** Generic keyed cursor (opt-out sync and others): value + version. */
  getValue<T>(id: string): Promise<{ value: T; version: number } | undefined>;

  /** Replaces the value if its version is still `expectedVersion` (undefined: absent); false otherwise. */
  putValue<T>(id: string, value: T, expectedVersion: number | undefined): Promise<boolean>;
}
