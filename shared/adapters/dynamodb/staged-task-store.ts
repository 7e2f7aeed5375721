import { gunzipSync, gzipSync } from 'node:zlib';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { StagedRow } from '../../domain/staged-row.js';
import {
  FlushLeaseLostError,
  type FlushState,
  type StagedItemSummary,
  type StagedTaskStore,
} from '../../ports/staged-task-store.js';
import { batchDeleteAll, batchGetAll } from './batch.js';
import { isConditionalCheckFailed } from './conditional-check.js';

const ROWS = 'ROWS';
const META = 'META';
/** Compressed rows per item; DynamoDB's item limit is 400 KB. */
const MAX_ITEM_BYTES = 300_000;

/**
 * Staging table for Bulk API 2.0 writes. `pk = ROWS`: one item per write message (its mapped Task
 * rows, gzipped JSON, split into parts if ever over 300 KB), key stagedItemKey() (`<runId>#<hash of its GUIDs>`) so a
 * redelivered message overwrites its own item instead of adding one. `pk = META`: `lastStaged`
 * (when rows were last staged: the flush waits for a quiet period) and `flush` (lease, members and
 * Bulk job id of the flush in progress, so a restart resumes the same job).
 */
export class DynamoDbStagedTaskStore implements StagedTaskStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** Stores rows under `key` (overwriting an earlier copy) and records the time. */
  async stage(key: string, rows: StagedRow[], now = new Date()): Promise<void> {
    if (rows.length === 0) return;
    const stagedAt = now.toISOString();
    const parts = packRows(rows);
    for (const [i, part] of parts.entries()) {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            pk: ROWS,
            sk: `${key}#${i}`,
            rows: part.gz,
            rowCount: part.rows,
            bytes: part.bytes,
            stagedAt,
          },
        }),
      );
    }
    await this.doc
      .send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: META, sk: 'lastStaged' },
          UpdateExpression: 'SET stagedAt = :t',
          ConditionExpression: 'attribute_not_exists(stagedAt) OR stagedAt < :t',
          ExpressionAttributeValues: { ':t': stagedAt },
        }),
      )
      .catch((err: unknown) => {
        if (!isConditionalCheckFailed(err)) throw err;
      });
  }

  /** When rows were last staged (epoch ms), undefined if never. */
  async lastStagedAt(): Promise<number | undefined> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: META, sk: 'lastStaged' }, ConsistentRead: true }),
    );
    const at = res.Item?.stagedAt;
    return typeof at === 'string' ? Date.parse(at) : undefined;
  }

  /** Every staged item, oldest key first, without rows. */
  async list(): Promise<StagedItemSummary[]> {
    const out: StagedItemSummary[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const res = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': ROWS },
          ProjectionExpression: 'sk, rowCount, #b, stagedAt',
          ExpressionAttributeNames: { '#b': 'bytes' },
          ConsistentRead: true,
          ExclusiveStartKey,
        }),
      );
      for (const item of res.Items ?? []) {
        out.push({
          sk: String(item.sk),
          rows: Number(item.rowCount),
          bytes: Number(item.bytes),
          stagedAt: String(item.stagedAt),
        });
      }
      ExclusiveStartKey = res.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return out;
  }

  /** The rows of these items (items already removed are simply absent). */
  async load(sks: readonly string[]): Promise<StagedRow[]> {
    const items = await batchGetAll<{ sk: string; rows: Uint8Array }>(
      this.doc,
      this.table,
      sks.map((sk) => ({ pk: ROWS, sk })),
    );
    return items.flatMap((i) => JSON.parse(gunzipSync(i.rows).toString('utf8')) as StagedRow[]);
  }

  async remove(sks: readonly string[]): Promise<void> {
    await batchDeleteAll(
      this.doc,
      this.table,
      sks.map((sk) => ({ pk: ROWS, sk })),
    );
  }

  /**
   * Takes the flush lease (one flush at a time, across Lambda instances). Returns the state a
   * crashed or timed-out earlier flush left (members, job id) to resume, or undefined when
   * another flush holds a live lease. `takeOver` ignores a live lease (the single-process CLI:
   * a lease it finds was left by a process that died).
   */
  async acquireFlush(
    owner: string,
    options: { leaseMs: number; takeOver?: boolean; now?: number },
  ): Promise<FlushState | undefined> {
    const now = options.now ?? Date.now();
    try {
      const res = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: META, sk: 'flush' },
          UpdateExpression: 'SET #o = :o, leaseUntil = :l',
          ...(options.takeOver
            ? {}
            : { ConditionExpression: 'attribute_not_exists(leaseUntil) OR leaseUntil < :now OR #o = :o' }),
          ExpressionAttributeNames: { '#o': 'owner' },
          ExpressionAttributeValues: {
            ':o': owner,
            ':l': now + options.leaseMs,
            ...(options.takeOver ? {} : { ':now': now }),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const a = res.Attributes ?? {};
      return {
        ...(typeof a.flushId === 'string' ? { flushId: a.flushId } : {}),
        ...(Array.isArray(a.members) ? { members: a.members.map(String) } : {}),
        ...(typeof a.jobId === 'string' ? { jobId: a.jobId } : {}),
      };
    } catch (err) {
      if (isConditionalCheckFailed(err)) return undefined;
      throw err;
    }
  }

  /** Records what this flush covers, before any Salesforce call. */
  async planFlush(owner: string, flushId: string, members: readonly string[]): Promise<void> {
    await this.updateOwned(owner, 'SET flushId = :f, members = :m REMOVE jobId', {
      ':f': flushId,
      ':m': [...members],
    });
  }

  /** Persists the Bulk job id as soon as the job exists: a restart waits for this job instead of creating one. */
  async recordJob(owner: string, jobId: string): Promise<void> {
    await this.updateOwned(owner, 'SET jobId = :j', { ':j': jobId });
  }

  /** The flush is settled: forget its members and job, and end the lease. */
  async completeFlush(owner: string): Promise<void> {
    await this.updateOwned(owner, 'SET leaseUntil = :zero REMOVE flushId, members, jobId', { ':zero': 0 });
  }

  /** Ends the lease but keeps members and job for the next flush to resume. */
  async releaseFlush(owner: string): Promise<void> {
    await this.updateOwned(owner, 'SET leaseUntil = :zero', { ':zero': 0 }).catch((err: unknown) => {
      if (!(err instanceof FlushLeaseLostError)) throw err;
    });
  }

  private async updateOwned(
    owner: string,
    expression: string,
    values: Record<string, unknown>,
  ): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: META, sk: 'flush' },
          UpdateExpression: expression,
          ConditionExpression: '#o = :o',
          ExpressionAttributeNames: { '#o': 'owner' },
          ExpressionAttributeValues: { ':o': owner, ...values },
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err)) throw new FlushLeaseLostError(owner, { cause: err });
      throw err;
    }
  }
}

/** gzipped JSON parts of rows, each under MAX_ITEM_BYTES (halving until it fits). */
function packRows(rows: StagedRow[]): { gz: Uint8Array; rows: number; bytes: number }[] {
  const json = JSON.stringify(rows);
  const gz = gzipSync(json);
  if (gz.byteLength <= MAX_ITEM_BYTES || rows.length === 1) {
    if (gz.byteLength > MAX_ITEM_BYTES) {
      throw new RangeError(
        `One staged Task row is ${gz.byteLength} bytes compressed; the limit is ${MAX_ITEM_BYTES}`,
      );
    }
    return [{ gz: new Uint8Array(gz), rows: rows.length, bytes: Buffer.byteLength(json) }];
  }
  const half = Math.ceil(rows.length / 2);
  return [...packRows(rows.slice(0, half)), ...packRows(rows.slice(half))];
}
