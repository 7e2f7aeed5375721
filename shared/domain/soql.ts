/**
 * The one way to put values into SOQL. Every interpolated value is turned into a SOQL
 * literal (strings quoted and backslash-escaped), so a value can never change the shape of
 * the query. Field and object names are not values: pass them through `soqlIdentifier`.
 *
 *   soql`SELECT Id FROM Lead WHERE Email = ${email} AND CreatedDate > ${since}`
 *   soql`SELECT ${soqlIdentifier(field)} FROM Contact WHERE Id IN ${ids}`
 */

/** Ids (18 characters) per SOQL `IN (...)` list: 200 keep a query well under the REST URI length limit. */
export const SOQL_IN_BATCH = 200;

declare const soqlQueryBrand: unique symbol;

/**
 * SOQL text built by the `soql` tag, every value escaped. `SalesforceApi.query` accepts only this
 * type, so a query assembled by string concatenation does not compile.
 */
export type SoqlQuery = string & { readonly [soqlQueryBrand]: true };

/** A piece of SOQL that is already safe to splice in verbatim (an identifier, a nested soql``). */
export class SoqlFragment {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** A calendar date (`YYYY-MM-DD`), written unquoted as a SOQL date literal. */
export class SoqlDate {
  readonly text: string;
  constructor(value: string) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) {
      throw new SoqlValueError(`soqlDate expects YYYY-MM-DD, got ${JSON.stringify(value)}`);
    }
    this.text = value;
  }
}

export type SoqlScalar = string | number | boolean | Date | SoqlDate | null;
export type SoqlValue = SoqlScalar | SoqlFragment | readonly SoqlScalar[];

/** A value that cannot be written as a SOQL literal: fix the caller, never stringify it. */
export class SoqlValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SoqlValueError';
  }
}

const ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  "'": "\\'",
  '"': '\\"',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

/** `o'brien` → `'o\'brien'`: a quoted SOQL string literal. */
export function soqlQuote(value: string): string {
  return `'${value.replace(/[\\'"\n\r\t\b\f]/g, (c) => ESCAPES[c] ?? c)}'`;
}

/**
 * SOQL datetime literal in UTC. Milliseconds are dropped (SOQL literals are whole seconds),
 * which makes `>=` comparisons re-read at most one extra second: safe for watermarks.
 */
export function soqlDateTime(value: Date): string {
  if (Number.isNaN(value.getTime())) throw new SoqlValueError('Invalid Date cannot be used in SOQL');
  return value.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function scalarLiteral(value: unknown, position: string): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return soqlQuote(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new SoqlValueError(`${position}: ${value} is not a finite number`);
    const text = String(value);
    if (/e/i.test(text))
      throw new SoqlValueError(`${position}: ${text} needs exponent notation, not valid SOQL`);
    return text;
  }
  if (value instanceof Date) return soqlDateTime(value);
  if (value instanceof SoqlDate) return value.text;
  if (value === undefined) {
    throw new SoqlValueError(`${position} is undefined: pass null explicitly or leave the condition out`);
  }
  throw new SoqlValueError(
    `${position} is a ${typeof value} (${Object.prototype.toString.call(value)}), not a SOQL value`,
  );
}

/** One interpolated value → SOQL text. Arrays become `('a','b')` for IN / NOT IN. */
export function soqlLiteral(value: unknown, position = 'value'): string {
  if (value instanceof SoqlFragment) return value.text;
  if (Array.isArray(value)) {
    if (value.length === 0) {
      throw new SoqlValueError(
        `${position} is an empty list: IN () is not valid SOQL, skip the query instead`,
      );
    }
    return `(${value.map((v, i) => scalarLiteral(v, `${position}[${i}]`)).join(',')})`;
  }
  return scalarLiteral(value, position);
}

/**
 * Tagged template: literal text is trusted, every `${value}` is escaped as a SOQL literal. Only a
 * tagged template can call it (a plain string has no TemplateStringsArray), and only its result is
 * a SoqlQuery.
 */
export function soql(strings: TemplateStringsArray, ...values: SoqlValue[]): SoqlQuery {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += soqlLiteral(value, `soql value #${i + 1}`) + (strings[i + 1] ?? '');
  });
  return out as SoqlQuery;
}

const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$/;

/** Is this a plausible field / object API name (`Email`, `Marketo_Activity_Id__c`, `Owner.Name`)? */
export function isSoqlIdentifier(name: string): boolean {
  return name.length <= 255 && IDENTIFIER.test(name);
}

/** A validated field or object name, to splice into soql`` (or a REST path) verbatim. */
export function soqlIdentifier(name: string): SoqlFragment {
  if (!isSoqlIdentifier(name)) {
    throw new SoqlValueError(
      `${JSON.stringify(name)} is not a valid Salesforce API name (letters, digits, underscores, e.g. My_Field__c)`,
    );
  }
  return new SoqlFragment(name);
}

/** A comma-separated list of validated identifiers, for SELECT lists. */
export function soqlFields(names: readonly string[]): SoqlFragment {
  if (names.length === 0) throw new SoqlValueError('SELECT needs at least one field');
  return new SoqlFragment(names.map((n) => soqlIdentifier(n).text).join(', '));
}
