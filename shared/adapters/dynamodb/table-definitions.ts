/**
 * Every DynamoDB table the product uses, in one place: the CDK stateful stack creates them
 * from this list and the embedded default creates the same tables on dynalite, so the key
 * schemas cannot drift apart.
 */
export interface TableDefinition {
  /** Environment variable that carries the table name into a function or the CLI. */
  readonly envVar: string;
  /** Name used by the embedded default (and the CDK construct id). */
  readonly localName: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
  /** Attribute holding an epoch-seconds expiry (DynamoDB TTL in AWS; checked on read locally). */
  readonly ttlAttribute?: string;
}

export const TABLES = {
  /** Activity stream cursors (watermark, paging token, owner) and opt-out sync cursors. */
  cursors: { envVar: 'CURSORS_TABLE', localName: 'sync-cursors', partitionKey: 'id' },
  /** marketoGUID → Salesforce Task Id: the duplicate-proof ledger of every Task we wrote. */
  ledger: { envVar: 'LEDGER_TABLE', localName: 'sync-task-ledger', partitionKey: 'marketoGUID' },
  /** Run reports: pk = job kind (activities | optouts), sk = time-ordered run id. */
  runs: { envVar: 'RUNS_TABLE', localName: 'sync-runs', partitionKey: 'kind', sortKey: 'runId' },
  /** Marketo lead → Salesforce WhoId, cached with a TTL. */
  leadCache: {
    envVar: 'LEAD_CACHE_TABLE',
    localName: 'sync-lead-cache',
    partitionKey: 'leadId',
    ttlAttribute: 'expiresAt',
  },
  /**
   * Activities waiting for their lead to reach Salesforce (pk P#<leadId mod 16>, sk
   * <leadId>#<marketoGUID>), each until its type's look-back ends. Written by the write step,
   * revisited (read, deleted) by the schedule step, read by verify.
   */
  pending: {
    envVar: 'PENDING_TABLE',
    localName: 'sync-pending-activities',
    partitionKey: 'pk',
    sortKey: 'sk',
    ttlAttribute: 'expiresAt',
  },
  /**
   * The Tasks we wrote per Marketo lead (pk L#<leadId>, sk marketoGUID), only for types with
   * onLeadDeleted = deleteTask, and the deleted-leads feed position (pk CURSOR).
   */
  leadTasks: { envVar: 'LEAD_TASKS_TABLE', localName: 'sync-lead-tasks', partitionKey: 'pk', sortKey: 'sk' },
  /** Marketo call governor shared by every concurrent caller (sliding window + in-flight leases). */
  governor: { envVar: 'GOVERNOR_TABLE', localName: 'sync-governor', partitionKey: 'id' },
  /**
   * Tasks staged for Bulk API 2.0 (pk ROWS: one gzipped item per write message) and the flush's
   * state (pk META: lease, members, Bulk job id). Empty between cycles.
   */
  staging: { envVar: 'STAGING_TABLE', localName: 'sync-task-staging', partitionKey: 'pk', sortKey: 'sk' },
  /** Opt-out state per normalised email: sk = STATE | H#<time>#<id> (history) | E#<eventId> (dedupe). */
  optOuts: { envVar: 'OPT_OUTS_TABLE', localName: 'sync-opt-outs', partitionKey: 'email', sortKey: 'sk' },
  /** Why each SQS message failed, by (queue key, SQS MessageId): kept as long as the dead-letter queue keeps it. */
  failures: {
    envVar: 'FAILURES_TABLE',
    localName: 'sync-failures',
    partitionKey: 'queue',
    sortKey: 'messageId',
    ttlAttribute: 'expiresAt',
  },
  /** Job 4a: Salesforce Task/Event watermark, one ledger entry per record sent to Marketo, type set-up lease. */
  salesActivity: { envVar: 'SALES_ACTIVITY_TABLE', localName: 'sync-sales-activity', partitionKey: 'pk' },
  /**
   * The webhook's per-source request counters (optOuts.webhookPerSourceLimit): pk = hashed source
   * # window length # window start, one fixed-window counter each, expiring with DynamoDB TTL.
   * Apart from the opt-out table so that no opt-out scan meets them and the intake's grant on it
   * is UpdateItem only.
   */
  webhookSources: {
    envVar: 'WEBHOOK_SOURCES_TABLE',
    localName: 'sync-webhook-sources',
    partitionKey: 'pk',
    ttlAttribute: 'expiresAt',
  },
  /** Job 4b: email-activity watermark, each person's campaign memberships and last-five text, programs' first send. */
  campaigns: { envVar: 'CAMPAIGNS_TABLE', localName: 'sync-campaigns', partitionKey: 'pk' },
} as const satisfies Record<string, TableDefinition>;

export type TableKey = keyof typeof TABLES;

/**
 * Table names resolved from the environment. A function is given only the tables it may touch
 * (least privilege), so a missing variable fails when that table is first used, naming it.
 */
export function tableNamesFromEnv(env: NodeJS.ProcessEnv = process.env): Record<TableKey, string> {
  const out = {} as Record<TableKey, string>;
  for (const [key, def] of Object.entries(TABLES) as [TableKey, TableDefinition][]) {
    const value = env[def.envVar];
    Object.defineProperty(out, key, {
      enumerable: true,
      get() {
        if (!value)
          throw new Error(`Environment variable ${def.envVar} is not set: it must name the ${key} table.`);
        return value;
      },
    });
  }
  return out;
}
