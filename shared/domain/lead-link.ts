/** What the write path needs to know about a Marketo lead: its link to a Salesforce Lead or Contact. */
export interface CachedLead {
  leadId: number;
  /** false when Marketo has no such lead (deleted or never existed). */
  exists: boolean;
  sfdcType?: string | null;
  sfdcLeadId?: string | null;
  sfdcContactId?: string | null;
  /** Only read with activities.unlinkedLeads = matchByEmail (unlinked leads are never cached). */
  email?: string | null;
  /** A negative answer (no link, no lead) is cached for the run that asked only: its id. */
  forRun?: string;
  /** The Contact Salesforce converted `sfdcLeadId` into (Marketo may still say sfdcType Lead). */
  convertedContactId?: string | null;
}
