import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSoql, runQuery } from '../../../sandboxes/salesforce/soql-engine.js';
import {
  SoqlDate,
  SoqlValueError,
  soql,
  soqlFields,
  soqlIdentifier,
  soqlQuote,
} from '../../../shared/domain/soql.js';
import { injectionStrings } from '../../security/hostile-inputs.js';

/** Distinct values (the matching test needs one record per value). */
const HOSTILE = [
  ...new Set([
    "' OR Email != '",
    "\\' OR 1=1 --",
    "o'brien@example.com",
    'line\nbreak\r\ttab\b\f',
    '"double" and \\backslash\\',
    'ünïcödé 日本語 👍',
    "') OR Id != null OR Email IN ('",
    '\\',
    "'",
    '%_ wildcard-ish',
    ...injectionStrings(),
  ]),
];

describe('soql tagged template', () => {
  it('quotes and escapes strings', () => {
    expect(soql`SELECT Id FROM Lead WHERE Email = ${"o'brien@example.com"}`).toBe(
      "SELECT Id FROM Lead WHERE Email = 'o\\'brien@example.com'",
    );
    expect(soqlQuote('a\\b"c\nd\re\tf\bg\fh')).toBe("'a\\\\b\\\"c\\nd\\re\\tf\\bg\\fh'");
  });

  it('writes numbers, booleans, null, datetimes and dates as literals', () => {
    const since = new Date('2024-05-01T10:00:00.123Z');
    expect(
      soql`WHERE A = ${42} AND B = ${-1.5} AND C = ${true} AND D = ${null} AND E > ${since} AND F = ${new SoqlDate('2024-05-01')}`,
    ).toBe(
      'WHERE A = 42 AND B = -1.5 AND C = true AND D = null AND E > 2024-05-01T10:00:00Z AND F = 2024-05-01',
    );
  });

  it('turns arrays into IN lists', () => {
    expect(soql`WHERE Id IN ${['a', "b'c"]}`).toBe("WHERE Id IN ('a','b\\'c')");
  });

  it('rejects values that are not SOQL literals, with a message naming the position', () => {
    expect(() => soql`WHERE A = ${undefined as unknown as string}`).toThrow(SoqlValueError);
    expect(() => soql`WHERE A = ${undefined as unknown as string}`).toThrow(/value #1 is undefined/);
    expect(() => soql`WHERE A = ${{ a: 1 } as unknown as string}`).toThrow(/not a SOQL value/);
    expect(() => soql`WHERE A IN ${[]}`).toThrow(/empty list/);
    expect(() => soql`WHERE A = ${Number.NaN}`).toThrow(/finite/);
    expect(() => soql`WHERE A = ${1e21}`).toThrow(/exponent/);
    expect(() => soql`WHERE A = ${new Date('nope')}`).toThrow(/Invalid Date/);
    expect(() => new SoqlDate('2024-13-45')).toThrow(SoqlValueError);
  });

  it('validates identifiers and splices them verbatim', () => {
    expect(soql`SELECT ${soqlFields(['Id', 'Marketo_Activity_Id__c'])} FROM ${soqlIdentifier('Task')}`).toBe(
      'SELECT Id, Marketo_Activity_Id__c FROM Task',
    );
    for (const bad of ['Email = 1 OR Id', "Email'", '1Field', '', 'a b', 'Lead;DROP']) {
      expect(() => soqlIdentifier(bad)).toThrow(SoqlValueError);
    }
  });

  it.each(HOSTILE)('keeps the query structure and gives the value back exactly: %j', (value) => {
    const text = soql`SELECT Id, Email FROM Lead WHERE Email = ${value} AND HasOptedOutOfEmail = ${false}`;
    const parsed = parseSoql(text);
    expect(parsed.object).toBe('Lead');
    expect(parsed.fields).toEqual(['Id', 'Email']);
    expect(parsed.where).toEqual({
      type: 'and',
      left: { type: 'compare', field: 'Email', op: '=', value: { kind: 'string', value } },
      right: {
        type: 'compare',
        field: 'HasOptedOutOfEmail',
        op: '=',
        value: { kind: 'boolean', value: false },
      },
    });
  });

  it('keeps the structure for any string at all (fast-check, 3,000 runs)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ maxLength: 50 }), (a, b) => {
        const parsed = parseSoql(soql`SELECT Id FROM Contact WHERE Email = ${a} OR Email IN ${[b, a]}`);
        expect(parsed.object).toBe('Contact');
        expect(parsed.where).toEqual({
          type: 'or',
          left: { type: 'compare', field: 'Email', op: '=', value: { kind: 'string', value: a } },
          right: {
            type: 'in',
            field: 'Email',
            negated: false,
            values: [
              { kind: 'string', value: b },
              { kind: 'string', value: a },
            ],
          },
        });
      }),
      { numRuns: 3_000 },
    );
  });

  it('matches only the record holding the hostile value', () => {
    const records = HOSTILE.map((Email, i) => ({ Id: String(i), Email, HasOptedOutOfEmail: false }));
    for (const [i, value] of HOSTILE.entries()) {
      const parsed = parseSoql(soql`SELECT Id FROM Lead WHERE Email = ${value}`);
      expect(runQuery(parsed, records).map((r) => r.Id)).toEqual([String(i)]);
      const inList = parseSoql(soql`SELECT Id FROM Lead WHERE Email IN ${[value, 'nobody']}`);
      expect(runQuery(inList, records).map((r) => r.Id)).toEqual([String(i)]);
    }
  });
});

describe('sandbox SOQL engine', () => {
  const rows = [
    {
      Id: '1',
      Email: 'A@x.com',
      Score: 5,
      CreatedDate: '2024-01-01T00:00:00.000+0000',
      HasOptedOutOfEmail: true,
    },
    {
      Id: '2',
      Email: 'b@x.com',
      Score: 10,
      CreatedDate: '2024-02-01T00:00:00.000+0000',
      HasOptedOutOfEmail: false,
    },
    {
      Id: '3',
      Email: null,
      Score: 7,
      CreatedDate: '2024-03-01T00:00:00.000+0000',
      HasOptedOutOfEmail: false,
    },
  ];
  const ids = (q: string) => runQuery(parseSoql(q), rows).map((r) => r.Id);

  it('supports comparisons, null, booleans, datetimes, LIKE, NOT IN, parentheses, ORDER BY, LIMIT', () => {
    expect(ids("SELECT Id FROM Lead WHERE Email = 'a@x.com'")).toEqual(['1']);
    expect(ids('SELECT Id FROM Lead WHERE Email = null')).toEqual(['3']);
    expect(ids('SELECT Id FROM Lead WHERE Email != null AND HasOptedOutOfEmail = false')).toEqual(['2']);
    expect(ids('SELECT Id FROM Lead WHERE CreatedDate > 2024-01-15T00:00:00Z ORDER BY Score DESC')).toEqual([
      '2',
      '3',
    ]);
    expect(ids("SELECT Id FROM Lead WHERE Email LIKE '%@X.COM' ORDER BY Id")).toEqual(['1', '2']);
    expect(ids("SELECT Id FROM Lead WHERE Id NOT IN ('1') AND (Score >= 10 OR Score < 6)")).toEqual(['2']);
    expect(ids('SELECT Id FROM Lead ORDER BY Score ASC LIMIT 2')).toEqual(['1', '3']);
    expect(parseSoql('SELECT COUNT() FROM Task').count).toBe(true);
  });

  it('refuses what it does not understand', () => {
    expect(() => parseSoql("SELECT Id FROM Lead WHERE Email = 'x' OR")).toThrow();
    expect(() => parseSoql("SELECT Id FROM Lead WHERE Email = 'unterminated")).toThrow(/unterminated/);
    expect(() => parseSoql("SELECT Id FROM Lead WHERE Email = 'x' extra")).toThrow();
  });
});
