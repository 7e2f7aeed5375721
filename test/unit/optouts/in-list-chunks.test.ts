import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { soql, soqlIdentifier } from '../../../shared/domain/soql.js';
import { inListChunks } from '../../../shared/optouts/person-records.js';

/** The query URL the Salesforce client would send (it refuses one over 15,000 characters). */
const queryUrlLength = (emails: string[]) =>
  `/services/data/v62.0/query?q=${encodeURIComponent(
    soql`SELECT Id, Email, ${soqlIdentifier('Marketo_Sales_Opt_Out__c')}, SystemModstamp FROM ${soqlIdentifier('Contact')} WHERE Email IN ${emails}`,
  )}`.length;

describe('IN lists chunked by encoded length', () => {
  it('keeps 100 ordinary non-ASCII emails under the query URL limit (QUERY_TOO_LONG before)', () => {
    const emails = Array.from({ length: 100 }, (_, i) => `александра.петровна.${i}@почта.example.ru`);
    // One list of 100 would be refused by the client.
    expect(queryUrlLength(emails)).toBeGreaterThan(15_000);
    const chunks = inListChunks(emails);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.flat()).toEqual(emails);
    for (const c of chunks) expect(queryUrlLength(c)).toBeLessThanOrEqual(15_000);
  });

  it('never exceeds the limit and never drops or reorders a value', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 80 }), { maxLength: 400 }),
        (values) => {
          const chunks = inListChunks(values);
          expect(chunks.flat()).toEqual(values);
          for (const c of chunks) expect(queryUrlLength(c)).toBeLessThanOrEqual(15_000);
        },
      ),
      { numRuns: 50 },
    );
  });
});
