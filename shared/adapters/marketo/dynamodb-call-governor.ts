import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed } from '../dynamodb/conditional-check.js';
import {
  type CallGovernor,
  type CallGovernorLimits,
  type CallGovernorStats,
  decide,
  type GovernorRuntime,
  type GovernorState,
  type Lease,
  realSleep,
  waitFor,
  withDefaults,
} from './call-governor.js';

export interface DynamoDbCallGovernorOptions extends CallGovernorLimits, GovernorRuntime {
  doc: DynamoDBDocumentClient;
  /** The `governor` table (partition key `id`). */
  tableName: string;
  /** Item id: one per Marketo instance (default `marketo`). */
  id?: string;
}

interface GovernorItem {
  id: string;
  version: number;
  /** Sliding log: epoch ms each finished call's response came back (pruned at the next grant). */
  calls?: number[];
  /** Calls in flight: leaseId → expiry (epoch ms). */
  leases?: Record<string, number>;
  parkedUntil?: number;
  parkedReason?: string;
}

/**
 * The call governor shared by every process and Lambda instance: one DynamoDB item holding a
 * sliding log of the last calls' response times and a map of live leases (calls in flight),
 * replaced under an optimistic lock (`version`) on grant, appended to on release. Crashed
 * holders' leases expire after `leaseMs`. The log is pruned to the current window at every grant,
 * so the item stays small (≈ 20 bytes per call).
 */
export class DynamoDbCallGovernor implements CallGovernor {
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly id: string;
  private readonly limits: Required<CallGovernorLimits>;
  private readonly runtime: GovernorRuntime;
  private readonly clock: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly counters: CallGovernorStats = { acquired: 0, waits: 0, conflicts: 0, parkedWaits: 0 };

  constructor(options: DynamoDbCallGovernorOptions) {
    this.doc = options.doc;
    this.tableName = options.tableName;
    this.id = options.id ?? 'marketo';
    this.limits = withDefaults(options);
    this.runtime = options;
    this.clock = options.clock ?? Date.now;
    this.sleep = options.sleep ?? realSleep;
    this.random = options.random ?? Math.random;
  }

  async acquire(): Promise<Lease> {
    const started = this.clock();
    for (;;) {
      const item = await this.read();
      const now = this.clock();
      const state: GovernorState = {
        calls: item?.calls ?? [],
        leases: item?.leases ?? {},
        ...(item?.parkedUntil !== undefined ? { parkedUntil: item.parkedUntil } : {}),
        ...(item?.parkedReason !== undefined ? { parkedReason: item.parkedReason } : {}),
      };
      const d = decide(state, now, this.limits, this.runtime.pollMs ?? 100);
      if (d.kind !== 'grant') {
        await waitFor(d, now, started, this.runtime, this.counters, this.sleep, this.random);
        continue;
      }
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { id: this.id, version: (item?.version ?? 0) + 1, ...d.next },
            ...(item
              ? { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': item.version } }
              : { ConditionExpression: 'attribute_not_exists(id)' }),
          }),
        );
      } catch (err) {
        if (!isConditionalCheckFailed(err)) throw err;
        this.counters.conflicts += 1;
        await this.sleep(Math.floor(this.random() * 15));
        continue;
      }
      this.counters.acquired += 1;
      return this.lease(d.leaseId, now);
    }
  }

  async park(untilMs: number, reason: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: this.id },
          UpdateExpression:
            'SET parkedUntil = :u, parkedReason = :r, version = if_not_exists(version, :zero) + :one',
          ConditionExpression: 'attribute_not_exists(parkedUntil) OR parkedUntil < :u',
          ExpressionAttributeValues: { ':u': untilMs, ':r': reason, ':zero': 0, ':one': 1 },
        }),
      );
    } catch (err) {
      // Already parked at least as long: nothing to do.
      if (!isConditionalCheckFailed(err)) throw err;
    }
  }

  stats(): CallGovernorStats {
    return { ...this.counters };
  }

  private async read(): Promise<GovernorItem | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { id: this.id }, ConsistentRead: true }),
    );
    return out.Item as GovernorItem | undefined;
  }

  private lease(id: string, acquiredAt: number): Lease {
    let released = false;
    return {
      id,
      acquiredAt,
      release: async () => {
        if (released) return;
        released = true;
        try {
          // The call now counts from its response time (see CallGovernor). Bumping the version
          // makes a concurrent acquirer holding the old state re-read.
          await this.doc.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: { id: this.id },
              UpdateExpression:
                'REMOVE leases.#lease SET calls = list_append(if_not_exists(calls, :none), :done), version = version + :one',
              ConditionExpression: 'attribute_exists(leases.#lease)',
              ExpressionAttributeNames: { '#lease': id },
              ExpressionAttributeValues: { ':one': 1, ':none': [], ':done': [this.clock()] },
            }),
          );
        } catch (err) {
          // Already expired and pruned by another caller.
          if (!isConditionalCheckFailed(err)) throw err;
        }
      },
    };
  }
}
