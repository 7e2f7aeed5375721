import * as z from 'zod';
import {
  type SalesActivityKind,
  type SalesActivityRecord,
  taskKind,
  whoObject,
} from '../../domain/sales-activity.js';
import { SOQL_IN_BATCH, SoqlFragment, soql, soqlIdentifier } from '../../domain/soql.js';
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
/** Key prefixes of Task (00T) and Event (00U) ids (Salesforce "Standard Field Record ID Prefix Decoder"). */
const TASK_PREFIX = '00T';
const EVENT_PREFIX = '00U';

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
    const own = soqlIdentifier(this.ownTaskField);
    return [
      ...(await this.tasks(
        kinds,
        new SoqlFragment(soql`${own} = null AND SystemModstamp > ${since} AND SystemModstamp <= ${until}`),
      )),
      // An Event becomes eligible when it ends, which changes no field: read those that ended in the window too.
      ...(await this.events(
        kinds,
        new SoqlFragment(
          soql`EndDateTime <= ${until} AND (SystemModstamp > ${since} OR EndDateTime > ${since})`,
        ),
      )),
    ];
  }

  async readByIds(params: {
    ids: readonly string[];
    until: Date;
    kinds: readonly SalesActivityKind[];
  }): Promise<SalesActivityRecord[]> {
    const { until, kinds } = params;
    const own = soqlIdentifier(this.ownTaskField);
    const out: SalesActivityRecord[] = [];
    const taskIds = params.ids.filter((id) => id.startsWith(TASK_PREFIX));
    const eventIds = params.ids.filter((id) => id.startsWith(EVENT_PREFIX));
    for (let i = 0; i < taskIds.length; i += SOQL_IN_BATCH)
      out.push(
        ...(await this.tasks(
          kinds,
          new SoqlFragment(soql`${own} = null AND Id IN ${taskIds.slice(i, i + SOQL_IN_BATCH)}`),
        )),
      );
    for (let i = 0; i < eventIds.length; i += SOQL_IN_BATCH)
      out.push(
        ...(await this.events(
          kinds,
          new SoqlFragment(soql`EndDateTime <= ${until} AND Id IN ${eventIds.slice(i, i + SOQL_IN_BATCH)}`),
        )),
      );
    return out;
  }

  /** Closed Tasks of the given kinds matching `where` (every page). */
  private async tasks(
    kinds: readonly SalesActivityKind[],
    where: SoqlFragment,
  ): Promise<SalesActivityRecord[]> {
    const taskKinds: readonly SalesActivityKind[] = kinds.filter((k) => k !== 'meeting');
    if (taskKinds.length === 0) return [];
    const own = soqlIdentifier(this.ownTaskField);
    const rows = await this.salesforce.query(
      soql`SELECT Id, WhoId, Subject, Status, OwnerId, ActivityDate, CompletedDateTime, Description, TaskSubtype, Type, SystemModstamp, LastModifiedDate, ${own} FROM Task WHERE IsClosed = true AND ${where} ORDER BY SystemModstamp`,
    );
    const out: SalesActivityRecord[] = [];
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
    return out;
  }

  /** Events matching `where` (every page), when meetings are enabled. */
  private async events(
    kinds: readonly SalesActivityKind[],
    where: SoqlFragment,
  ): Promise<SalesActivityRecord[]> {
    if (!kinds.includes('meeting')) return [];
    const rows = await this.salesforce.query(
      soql`SELECT Id, WhoId, Subject, OwnerId, StartDateTime, EndDateTime, Description, SystemModstamp FROM Event WHERE ${where} ORDER BY SystemModstamp`,
    );
    return rows.map((raw) => {
      const r = eventRow.parse(raw);
      return {
        id: r.Id,
        sobject: 'Event' as const,
        kind: 'meeting' as const,
        whoId: r.WhoId ?? null,
        subject: r.Subject ?? '',
        status: 'Ended',
        ownerId: r.OwnerId ?? null,
        occurredAt: iso(r.StartDateTime ?? r.SystemModstamp),
        dueDate: r.EndDateTime ? iso(r.EndDateTime) : null,
        description: r.Description ?? null,
        systemModstamp: iso(r.SystemModstamp),
        marketoActivityId: null,
      };
    });
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
