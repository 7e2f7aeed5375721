import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { MEMBER_STATUSES, type MembershipStatus } from '../../domain/campaign-status.js';
import type { CampaignPersonState, CampaignStateStore } from '../../ports/campaign-writer.js';
import { batchGetAll, batchPutAll } from './batch.js';

/**
 * Job 4b's state in one table (TABLES.campaigns, partition key `pk`): `WATERMARK`;
 * `PERSON#Lead:<id>` / `PERSON#Contact:<id>` — memberships and the last-five text written;
 * `FIRST#<program>` — the program's earliest Send Email.
 */
const personItem = z.object({
  pk: z.string(),
  memberships: z.array(
    z.object({
      campaign: z.string(),
      status: z.enum(MEMBER_STATUSES as [string, ...string[]]),
      at: z.string(),
    }),
  ),
  lastFive: z.string().optional(),
  optedOutAt: z.string().optional(),
});
const firstItem = z.object({ pk: z.string(), at: z.string() });

export class DynamoDbCampaignStateStore implements CampaignStateStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async getWatermark(): Promise<string | undefined> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: 'WATERMARK' }, ConsistentRead: true }),
    );
    return typeof res.Item?.watermark === 'string' ? res.Item.watermark : undefined;
  }

  async putWatermark(iso: string): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.table, Item: { pk: 'WATERMARK', watermark: iso } }));
  }

  async getPeople(keys: readonly string[]) {
    const items = await batchGetAll<unknown>(
      this.doc,
      this.table,
      [...new Set(keys)].map((k) => ({ pk: `PERSON#${k}` })),
    );
    const out = new Map<string, CampaignPersonState>();
    for (const raw of items) {
      const { pk, memberships, lastFive, optedOutAt } = personItem.parse(raw);
      out.set(pk.slice('PERSON#'.length), {
        memberships: memberships as MembershipStatus[],
        ...(lastFive !== undefined ? { lastFive } : {}),
        ...(optedOutAt !== undefined ? { optedOutAt } : {}),
      });
    }
    return out;
  }

  async putPeople(rows: readonly ({ key: string } & CampaignPersonState)[]) {
    await batchPutAll(
      this.doc,
      this.table,
      rows.map(({ key, ...rest }) => ({ pk: `PERSON#${key}`, ...rest })),
    );
  }

  async getFirstSends(programs: readonly string[]) {
    const items = await batchGetAll<unknown>(
      this.doc,
      this.table,
      [...new Set(programs)].map((p) => ({ pk: `FIRST#${p}` })),
    );
    return new Map(items.map((raw) => firstItem.parse(raw)).map((i) => [i.pk.slice('FIRST#'.length), i.at]));
  }

  async putFirstSends(values: ReadonlyMap<string, string>) {
    await batchPutAll(
      this.doc,
      this.table,
      [...values].map(([p, at]) => ({ pk: `FIRST#${p}`, at })),
    );
  }
}
