import { EMAIL_ACTIVITY_STATUS } from '../../domain/campaign-status.js';
import type { EmailActivityRow, EmailActivitySource, LinkedPerson } from '../../ports/campaign-writer.js';
import type { MarketoApi } from '../../ports/marketo-api.js';

/**
 * Job 4b's Marketo side over MarketoApi: email activities (Send Email 6, Email Delivered 7, Email
 * Bounced 8, Unsubscribe Email 9, Open Email 10, Click Email 11 — standard ids, API-NOTES) whose
 * primary attribute value is the email asset name `Program.Email`; lead → Salesforce person by
 * `sfdcType` / `sfdcLeadId` / `sfdcContactId`.
 */
export class MarketoEmailActivityReader implements EmailActivitySource {
  constructor(private readonly marketo: MarketoApi) {}

  async readEmailActivities(since: Date, until: Date): Promise<EmailActivityRow[]> {
    const out: EmailActivityRow[] = [];
    for await (const rows of this.emailActivityPages(since, until)) out.push(...rows);
    return out;
  }

  async *emailActivityPages(since: Date, until: Date): AsyncGenerator<EmailActivityRow[]> {
    let nextPageToken = await this.marketo.getPagingToken(since);
    for (;;) {
      const page = await this.page(nextPageToken);
      yield page.rows.filter((r) => Date.parse(r.activityDate) <= until.getTime());
      if (!page.more) return;
      nextPageToken = page.nextPageToken;
    }
  }

  async firstEmailActivityPage(since: Date): Promise<{ rows: EmailActivityRow[]; more: boolean }> {
    const { rows, more } = await this.page(await this.marketo.getPagingToken(since));
    return { rows, more };
  }

  private async page(nextPageToken: string) {
    const page = await this.marketo.getActivities({
      nextPageToken,
      activityTypeIds: [...EMAIL_ACTIVITY_STATUS.keys()],
    });
    const rows: EmailActivityRow[] = page.items.map((a) => ({
      marketoGUID: a.marketoGUID,
      leadId: a.leadId,
      activityTypeId: a.activityTypeId,
      activityDate: a.activityDate,
      emailName: a.primaryAttributeValue ?? '',
    }));
    return { rows, more: page.moreResult, nextPageToken: page.nextPageToken };
  }

  async linkedPeople(leadIds: readonly number[]): Promise<Map<number, LinkedPerson>> {
    const out = new Map<number, LinkedPerson>();
    if (leadIds.length === 0) return out;
    const leads = await this.marketo.getLeads({
      filterType: 'id',
      filterValues: [...leadIds],
      fields: ['id', 'sfdcType', 'sfdcLeadId', 'sfdcContactId'],
    });
    for (const l of leads) {
      if (l.sfdcType === 'Contact' && l.sfdcContactId)
        out.set(l.id, { leadId: l.id, sobject: 'Contact', id: l.sfdcContactId });
      else if (l.sfdcType === 'Lead' && l.sfdcLeadId)
        out.set(l.id, { leadId: l.id, sobject: 'Lead', id: l.sfdcLeadId });
    }
    return out;
  }
}
