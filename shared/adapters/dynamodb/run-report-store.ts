import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { countersToAdd, type RunKind, type RunReport } from '../../domain/run-report.js';
import type { RunReportStore } from '../../ports/run-report-store.js';

/** One run report item per cycle; counters are added atomically by every handler that contributes. */
export class DynamoDbRunReportStore implements RunReportStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async start(kind: RunKind, runId: string, details: Record<string, unknown> = {}): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: { kind, runId, startedAt: new Date().toISOString(), status: 'running', counts: {}, details },
        ConditionExpression: 'attribute_not_exists(runId)',
      }),
    );
  }

  /** Atomically adds to counters (zero and unknown-shaped names are ignored). */
  async add(kind: RunKind, runId: string, counts: Record<string, number>): Promise<void> {
    const entries = countersToAdd(counts);
    if (entries.length === 0) return;
    const names: Record<string, string> = { '#c': 'counts' };
    const values: Record<string, number> = {};
    const parts = entries.map(([k, v], i) => {
      names[`#k${i}`] = k;
      values[`:v${i}`] = v;
      return `#c.#k${i} :v${i}`;
    });
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { kind, runId },
        UpdateExpression: `ADD ${parts.join(', ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ConditionExpression: 'attribute_exists(runId)',
      }),
    );
  }

  async finish(
    kind: RunKind,
    runId: string,
    status: 'completed' | 'failed',
    details?: Record<string, unknown>,
  ): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { kind, runId },
        UpdateExpression: details
          ? 'SET #s = :s, finishedAt = :f, details = :d'
          : 'SET #s = :s, finishedAt = :f',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: {
          ':s': status,
          ':f': new Date().toISOString(),
          ...(details ? { ':d': details } : {}),
        },
        ConditionExpression: 'attribute_exists(runId)',
      }),
    );
  }

  async get(kind: RunKind, runId: string): Promise<RunReport | undefined> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { kind, runId }, ConsistentRead: true }),
    );
    return res.Item as RunReport | undefined;
  }

  async recent(kind: RunKind, limit = 5): Promise<RunReport[]> {
    const res = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: '#kind = :k',
        ExpressionAttributeNames: { '#kind': 'kind' },
        ExpressionAttributeValues: { ':k': kind },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (res.Items ?? []) as RunReport[];
  }
}
