import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { LeadTask, LeadTaskIndex } from '../../ports/lead-task-index.js';
import { batchDeleteAll, batchPutAll } from './batch.js';

const CURSOR_KEY = { pk: 'CURSOR', sk: 'deletedleads' };
const keyOf = (t: Pick<LeadTask, 'leadId' | 'marketoGUID'>) => ({ pk: `L#${t.leadId}`, sk: t.marketoGUID });

/** LeadTaskIndex on one DynamoDB table: pk L#<leadId>, sk marketoGUID; the feed position under pk CURSOR. */
export class DynamoDbLeadTaskIndex implements LeadTaskIndex {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async add(tasks: LeadTask[]): Promise<void> {
    const unique = new Map(tasks.map((t) => [`${t.leadId}#${t.marketoGUID}`, { ...keyOf(t), ...t }]));
    await batchPutAll(this.doc, this.table, [...unique.values()]);
  }

  async forLeads(leadIds: number[]): Promise<LeadTask[]> {
    const out: LeadTask[] = [];
    for (const leadId of new Set(leadIds)) {
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const res = await this.doc.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': `L#${leadId}` },
            ExclusiveStartKey,
          }),
        );
        for (const item of res.Items ?? [])
          out.push({ leadId, marketoGUID: String(item.marketoGUID), taskId: String(item.taskId) });
        ExclusiveStartKey = res.LastEvaluatedKey;
      } while (ExclusiveStartKey);
    }
    return out;
  }

  async remove(tasks: LeadTask[]): Promise<void> {
    const unique = new Map(tasks.map((t) => [`${t.leadId}#${t.marketoGUID}`, keyOf(t)]));
    await batchDeleteAll(this.doc, this.table, [...unique.values()]);
  }

  async deletionsReadUntil(): Promise<string | undefined> {
    const res = await this.doc.send(new GetCommand({ TableName: this.table, Key: CURSOR_KEY }));
    return typeof res.Item?.until === 'string' ? res.Item.until : undefined;
  }

  async setDeletionsReadUntil(iso: string): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.table, Item: { ...CURSOR_KEY, until: iso } }));
  }
}
