import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type ChainState, type StreamCursor, streamId } from '../../domain/activity-chain.js';
import type { ClaimStreamInput, CursorStore } from '../../ports/cursor-store.js';
import { isConditionalCheckFailed } from './conditional-check.js';

/** Cursors and paging chains, all advanced with conditional writes so a stale owner can never move them. */
export class DynamoDbCursorStore implements CursorStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async getStream(streamKey: string): Promise<StreamCursor | undefined> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { id: streamId(streamKey) }, ConsistentRead: true }),
    );
    if (!res.Item) return undefined;
    const item = res.Item as StreamCursor & { doneWindows?: Set<number> | number[] };
    return { ...item, doneWindows: item.doneWindows ? [...item.doneWindows] : [] };
  }

  /**
   * Makes `runId` the owner of the stream (taking over from a stalled earlier run). Returns false
   * when another writer changed the cursor since it was read.
   */
  async claimStream(input: ClaimStreamInput): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            id: streamId(input.streamKey),
            ...(input.watermark ? { watermark: input.watermark } : {}),
            activeRunId: input.runId,
            runUntil: input.runUntil,
            windowCount: input.windowCount,
            claimedAt: new Date().toISOString(),
            version: (input.expectedVersion ?? 0) + 1,
          },
          ConditionExpression:
            input.expectedVersion === undefined ? 'attribute_not_exists(id)' : 'version = :v',
          ...(input.expectedVersion === undefined
            ? {}
            : { ExpressionAttributeValues: { ':v': input.expectedVersion } }),
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw err;
    }
  }

  /**
   * Records a finished window. When it was the run's last, the watermark moves to the run's upper
   * bound and ownership is released. Returns 'stale' if the run no longer owns the stream, and
   * 'streamDone' to exactly one caller: when two windows finish at once, both may see every window
   * done, but only the one whose release succeeds is told so (the other gets 'alreadyDone').
   */
  async completeWindow(
    streamKey: string,
    runId: string,
    windowIndex: number,
  ): Promise<'stale' | 'pending' | 'streamDone' | 'alreadyDone'> {
    let after: StreamCursor;
    try {
      const res = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { id: streamId(streamKey) },
          UpdateExpression: 'ADD doneWindows :w',
          ConditionExpression: 'activeRunId = :r',
          ExpressionAttributeValues: { ':w': new Set([windowIndex]), ':r': runId },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const item = res.Attributes as StreamCursor & { doneWindows?: Set<number> };
      after = { ...item, doneWindows: item.doneWindows ? [...item.doneWindows] : [] };
    } catch (err) {
      if (isConditionalCheckFailed(err)) return 'stale';
      throw err;
    }
    if ((after.doneWindows?.length ?? 0) < (after.windowCount ?? 1)) return 'pending';
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { id: streamId(streamKey) },
          UpdateExpression:
            'SET watermark = :u, version = version + :one REMOVE activeRunId, doneWindows, runUntil, windowCount',
          ConditionExpression: 'activeRunId = :r',
          ExpressionAttributeValues: { ':u': after.runUntil, ':r': runId, ':one': 1 },
        }),
      );
      return 'streamDone';
    } catch (err) {
      // Another window (or delivery) released the stream between our ADD and this update.
      if (isConditionalCheckFailed(err)) return 'alreadyDone';
      throw err;
    }
  }

  async getChain(id: string): Promise<ChainState | undefined> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { id }, ConsistentRead: true }),
    );
    return res.Item as ChainState | undefined;
  }

  /** Creates the chain at page 0 unless it exists (re-delivered start messages keep the first). */
  async createChain(chain: Omit<ChainState, 'page' | 'done'>): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...chain, page: 0, done: false },
          ConditionExpression: 'attribute_not_exists(id)',
        }),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
    }
  }

  /**
   * Advances the chain from `fromPage` to `fromPage + 1`. Only the holder of page `fromPage` can
   * do it; returns false when another delivery got there first.
   */
  async advanceChain(
    id: string,
    fromPage: number,
    next: { token?: string; resumeFrom: string; done: boolean },
  ): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { id },
          UpdateExpression: next.token
            ? 'SET page = :next, resumeFrom = :rf, done = :d, #t = :t'
            : 'SET page = :next, resumeFrom = :rf, done = :d REMOVE #t',
          ConditionExpression: 'page = :from AND done = :false',
          ExpressionAttributeNames: { '#t': 'token' },
          ExpressionAttributeValues: {
            ':next': fromPage + 1,
            ':from': fromPage,
            ':rf': next.resumeFrom,
            ':d': next.done,
            ':false': false,
            ...(next.token ? { ':t': next.token } : {}),
          },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw err;
    }
  }

  /** Generic keyed cursor (opt-out sync and others): value + version, conditionally replaced. */
  async getValue<T>(id: string): Promise<{ value: T; version: number } | undefined> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { id }, ConsistentRead: true }),
    );
    return res.Item ? { value: res.Item.value as T, version: res.Item.version as number } : undefined;
  }

  async putValue<T>(id: string, value: T, expectedVersion: number | undefined): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { id, value, version: (expectedVersion ?? 0) + 1, updatedAt: new Date().toISOString() },
          ConditionExpression: expectedVersion === undefined ? 'attribute_not_exists(id)' : 'version = :v',
          ...(expectedVersion === undefined ? {} : { ExpressionAttributeValues: { ':v': expectedVersion } }),
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw err;
    }
  }
}
