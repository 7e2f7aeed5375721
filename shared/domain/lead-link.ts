/** What the write path needs to know about a Marketo lead: its link to a Salesforce Lead or Contact. */
export interface CachedLead {
  leadId: number;
  /** false when Marketo has no such lead (deleted or never existed). */
  exists: boolean;
  sfdcType?: string | null;
  sfdcLeadId?: string | null;
  sfdcContactId?: string | null;
}
