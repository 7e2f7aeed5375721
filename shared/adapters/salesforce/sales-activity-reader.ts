import * as z from 'zod';
import {
  type SalesActivityKind,
  type SalesActivityRecord,
  taskKind,
  whoObject,
} from '../../domain/sales-activity.js';
import { soql, soqlIdentifier } from '../../domain/soql.js';
import type { SalesActivitySource, SalesPerson } from '../../ports/sales-activity-source.js';
import type { SalesforceApi } from '../../ports/salesforce-api.js';

/**
 * Job 4a's source over SalesforceApi.query (every page, through the client's budget and retries).
 * Salesforce facts (REST API developer guide / Object Reference): Task `IsClosed` follows its
 * Status; `TaskSubtype` (Call, Email, ListEmail, Task…) is set on create; `CompletedDateTime` is
 * when a Task was closed; Events carry `StartDateTime` / `EndDateTime`; incremental reads by
 * `SystemModstamp`; a converted Lead carries `IsConverted` and `ConvertedContactId`.
 */

const str = z.string().nullish();
const taskRow = z
  .object({
    Id: z.string(),
    WhoId: str,
    Subject: str,
    Status: str,
    OwnerId: str,
    ActivityDate: str,
    CompletedDateTime: str,
    Description: str,
    TaskSubtype: str,
    Type: str,
    SystemModstamp: z.string(),
    LastModifiedDate: str,
  })
  .loose();
const eventRow = z
  .object({
    Id: z.string(),
    WhoId: str,
    Subject: str,
    OwnerId: str,
    StartDateTime: str,
    EndDateTime: str,
    Description: str,
    SystemModstamp: z.string(),
  })
  .loose();
const personRow = z
  .object({ Id: z.string(), Email: str, IsConverted: z.boolean().nullish(), ConvertedContactId: str })
  .loose();

const iso = (v: string) => new Date(v).toISOString();

export class SalesforceSalesActivityReader implements SalesActivitySource {
  constructor(
    private readonly salesforce: SalesforceApi,
    /** Task External ID field this product writes (settings salesforce.taskExternalIdField). */
    private readonly ownTaskField: string,
    private readonly instance: () => string | undefined = () => undefined,
  ) {}

  async readEligible(params: {
    since: Date;
    until: Date;
    kinds: readonly SalesActivityKind[];
  }): Promise<SalesActivityRecord[]> {
    const { since, until, kinds } = params;
    const out: SalesActivityRecord[] = [];
    const taskKinds: readonly SalesActivityKind[] = kinds.filter((k) => k !== 'meeting');
    if (taskKinds.length > 0) {
      const own = soqlIdentifier(this.ownTaskField);
      const rows = await this.salesforce.query(
        soql`SELECT Id, WhoId, Subject, Status, OwnerId, ActivityDate, CompletedDateTime, Description, TaskSubtype, Type, SystemModstamp, LastModifiedDate, ${own} FROM Task WHERE IsClosed = true AND ${own} = null AND SystemModstamp > ${since} AND SystemModstamp <= ${until} ORDER BY SystemModstamp`,
      );
      for (const raw of rows) {
        const r = taskRow.parse(raw);
        const kind = taskKind(r.TaskSubtype, r.Type);
        if (!taskKinds.includes(kind)) continue;
        const ownValue = (raw as Record<string, unknown>)[this.ownTaskField];
        out.push({
          id: r.Id,
          sobject: 'Task',
          kind,
          whoId: r.WhoId ?? null,
          subject: r.Subject ?? '',
          status: r.Status ?? '',
          ownerId: r.OwnerId ?? null,
          occurredAt: iso(r.CompletedDateTime ?? r.ActivityDate ?? r.LastModifiedDate ?? r.SystemModstamp),
          dueDate: r.ActivityDate ?? null,
          description: r.Description ?? null,
          systemModstamp: iso(r.SystemModstamp),
          marketoActivityId: typeof ownValue === 'string' && ownValue !== '' ? ownValue : null,
        });
      }
    }
    if (kinds.includes('meeting')) {
      // An Event becomes eligible when it ends, which changes no field: read those that ended in the window too.
      const rows = await this.salesforce.query(
        soql`SELECT Id, WhoId, Subject, OwnerId, StartDateTime, EndDateTime, Description, SystemModstamp FROM Event WHERE EndDateTime <= ${until} AND (SystemModstamp > ${since} OR EndDateTime > ${since}) ORDER BY SystemModstamp`,
      );
      for (const raw of rows) {
        const r = eventRow.parse(raw);
        out.push({
          id: r.Id,
          sobject: 'Event',
          kind: 'meeting',
          whoId: r.WhoId ?? null,
          subject: r.Subject ?? '',
          status: 'Ended',
          ownerId: r.OwnerId ?? null,
          occurredAt: iso(r.StartDateTime ?? r.SystemModstamp),
          dueDate: r.EndDateTime ? iso(r.EndDateTime) : null,
          description: r.Description ?? null,
          systemModstamp: iso(r.SystemModstamp),
          marketoActivityId: null,
        });
      }
    }
    return out;
  }

  async people(ids: readonly string[]): Promise<Map<string, SalesPerson>> {
    const out = new Map<string, SalesPerson>();
    const leadIds = ids.filter((id) => whoObject(id) === 'Lead');
    const contactIds = ids.filter((id) => whoObject(id) === 'Contact');
    // IN lists stay far below the 16 KB URI limit (API-NOTES) at 200 ids of 18 characters.
    for (let i = 0; i < leadIds.length; i += 200) {
      const rows = await this.salesforce.query(
        soql`SELECT Id, Email, IsConverted, ConvertedContactId FROM Lead WHERE Id IN ${leadIds.slice(i, i + 200)}`,
      );
      for (const raw of rows) {
        const r = personRow.parse(raw);
        out.set(r.Id, {
          id: r.Id,
          sobject: 'Lead',
          email: r.Email ?? null,
          convertedContactId: r.IsConverted ? (r.ConvertedContactId ?? null) : null,
        });
      }
    }
    for (let i = 0; i < contactIds.length; i += 200) {
      const rows = await this.salesforce.query(
        soql`SELECT Id, Email FROM Contact WHERE Id IN ${contactIds.slice(i, i + 200)}`,
      );
      for (const raw of rows) {
        const r = personRow.parse(raw);
        out.set(r.Id, { id: r.Id, sobject: 'Contact', email: r.Email ?? null, convertedContactId: null });
      }
    }
    return out;
  }

  instanceUrl(): string | undefined {
    return this.instance();
  }
}
