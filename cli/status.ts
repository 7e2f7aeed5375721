import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDbCampaignStateStore } from '../shared/adapters/dynamodb/campaign-state-store.js';
import { DynamoDbRunReportStore } from '../shared/adapters/dynamodb/run-report-store.js';
import { DynamoDbSalesActivityStore } from '../shared/adapters/dynamodb/sales-activity-store.js';
import { QUEUES, type QueueKey } from '../shared/adapters/sqs/queue-definitions.js';
import type { LocalEnvironment } from './embedded/local-environment.js';

export interface StatusSummary {
  command: 'status';
  cursors: { stream: string; watermark: string | null; activeRunId: string | null }[];
  lastRuns: {
    kind: string;
    runId: string;
    status: string;
    startedAt: string;
    finishedAt: string | null;
    counts: Record<string, number>;
    /** Activity runs: enabled optional types the instance lacked. */
    typesMissing?: string[];
  }[];
  queues: Record<QueueKey, { visible: number; inFlight: number; delayed: number; deadLetters: number }>;
  ledger: { entries: number };
  /** Jobs 4a (tasks) and 4b (campaigns): where the next run starts (less the overlap). */
  jobs: { tasks: { watermark: string | null }; campaigns: { watermark: string | null } };
}

/** Cursors, last runs, queue and dead-letter depths. Read-only. */
export async function collectStatus(local: LocalEnvironment): Promise<StatusSummary> {
  const { doc, tables } = local.platform;
  const cursorItems = await scanAll(doc, tables.cursors);
  const cursors = cursorItems
    .filter((i) => String(i.id).startsWith('activities#'))
    .map((i) => ({
      stream: String(i.id).slice('activities#'.length),
      watermark: (i.watermark as string | undefined) ?? null,
      activeRunId: (i.activeRunId as string | undefined) ?? null,
    }));
  const runs = new DynamoDbRunReportStore(doc, tables.runs);
  const kinds = ['activities', 'optouts', 'tasks', 'campaigns'] as const;
  const lastRuns = (await Promise.all(kinds.map((kind) => runs.recent(kind, 3)))).flat().map((r) => ({
    kind: r.kind,
    runId: r.runId,
    status: r.status,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt ?? null,
    counts: r.counts,
    ...(Array.isArray(r.details?.typesMissing) ? { typesMissing: r.details.typesMissing.map(String) } : {}),
  }));
  const queues = {} as StatusSummary['queues'];
  for (const key of Object.keys(QUEUES) as QueueKey[]) {
    const d = await local.queueDepth(key);
    queues[key] = { visible: d.visible, inFlight: d.inFlight, delayed: d.delayed, deadLetters: d.dlq };
  }
  const ledger = await doc.send(new ScanCommand({ TableName: tables.ledger, Select: 'COUNT' }));
  const jobs = {
    tasks: {
      watermark: (await new DynamoDbSalesActivityStore(doc, tables.salesActivity).getWatermark()) ?? null,
    },
    campaigns: {
      watermark: (await new DynamoDbCampaignStateStore(doc, tables.campaigns).getWatermark()) ?? null,
    },
  };
  return { command: 'status', cursors, lastRuns, queues, ledger: { entries: ledger.Count ?? 0 }, jobs };
}

async function scanAll(
  doc: LocalEnvironment['platform']['doc'],
  table: string,
): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const res = await doc.send(new ScanCommand({ TableName: table, ExclusiveStartKey }));
    out.push(...(res.Items ?? []));
    ExclusiveStartKey = res.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return out;
}
