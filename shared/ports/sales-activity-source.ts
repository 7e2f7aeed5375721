import type { SalesActivityKind, SalesActivityRecord } from '../domain/sales-activity.js';

/** A Lead or Contact a WhoId names, as job 4a needs it to find the Marketo lead. */
export interface SalesPerson {
  id: string;
  sobject: 'Lead' | 'Contact';
  email: string | null;
  /** A converted Lead's Contact: the person to resolve instead (SPEC job 1's rule). */
  convertedContactId: string | null;
}

/** Where job 4a reads sales activity from (Salesforce Tasks and Events). */
export interface SalesActivitySource {
  /**
   * Closed Tasks and ended Events (ended at or before `until`) of the given kinds changed after
   * `since` (SystemModstamp), or Events that ended after `since`; Tasks this product wrote are
   * left out. Every page read.
   */
  readEligible(params: {
    since: Date;
    until: Date;
    kinds: readonly SalesActivityKind[];
  }): Promise<SalesActivityRecord[]>;
  /** Those of these Task / Event ids that are still eligible (closed / ended by `until`, not ours). */
  readByIds(params: {
    ids: readonly string[];
    until: Date;
    kinds: readonly SalesActivityKind[];
  }): Promise<SalesActivityRecord[]>;
  /** The Leads and Contacts these ids name (missing ids are absent from the map). */
  people(ids: readonly string[]): Promise<Map<string, SalesPerson>>;
  /** Base URL for record links, when known. */
  instanceUrl(): string | undefined;
}
