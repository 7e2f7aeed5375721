/**
 * The sandbox's SOQL evaluator: runs a parsed query (soql-parser.ts) over records — WHERE with
 * case-insensitive field names, null comparisons false as on the service, LIKE with % and _,
 * ORDER BY (nulls first ascending), LIMIT and OFFSET.
 */
import type { SoqlCondition, SoqlLiteralValue, SoqlQuery } from './soql-parser.js';

export {
  parseSoql,
  type SoqlCondition,
  type SoqlLiteralValue,
  SoqlParseError,
  type SoqlQuery,
  tokenize,
} from './soql-parser.js';

export type FieldValue = string | number | boolean | null | undefined;
export type RecordLike = Record<string, unknown>;

/** Case-insensitive field read, as SOQL field names are. */
export function readField(record: RecordLike, field: string): FieldValue {
  if (field in record) return record[field] as FieldValue;
  const lower = field.toLowerCase();
  for (const key of Object.keys(record)) if (key.toLowerCase() === lower) return record[key] as FieldValue;
  return undefined;
}

/** -1 / 0 / 1, or undefined when the two are not comparable (null involved). */
function compareTo(fieldValue: FieldValue, literal: SoqlLiteralValue): number | undefined {
  if (fieldValue === null || fieldValue === undefined || literal.kind === 'null') return undefined;
  const cmp = (a: number | string, b: number | string) => (a < b ? -1 : a > b ? 1 : 0);
  switch (literal.kind) {
    case 'string':
      return cmp(String(fieldValue).toLowerCase(), literal.value.toLowerCase());
    case 'number':
      return cmp(Number(fieldValue), literal.value);
    case 'boolean':
      return cmp(String(fieldValue === true || fieldValue === 'true'), String(literal.value));
    case 'datetime': {
      const ms = Date.parse(String(fieldValue));
      return Number.isNaN(ms) ? undefined : cmp(ms, literal.ms);
    }
    case 'date':
      return cmp(String(fieldValue).slice(0, 10), literal.value);
  }
}

function likeToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\' && pattern[i + 1] !== undefined) {
      source += (pattern[i + 1] as string).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      i++;
    } else if (c === '%') source += '.*';
    else if (c === '_') source += '.';
    else source += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'is');
}

/**
 * An IN list of string literals only, as a set of lower-cased values (the same comparison as
 * compareTo's, case-insensitive): a query of 200 emails over 100,000 records is then 100,000 set
 * look-ups instead of 20 million comparisons. Built once per parsed list.
 */
const stringSets = new WeakMap<readonly SoqlLiteralValue[], Set<string> | null>();
function stringInSet(values: readonly SoqlLiteralValue[]): Set<string> | null {
  let set = stringSets.get(values);
  if (set === undefined) {
    const strings = values.flatMap((l) => (l.kind === 'string' ? [l.value.toLowerCase()] : []));
    set = strings.length === values.length ? new Set(strings) : null;
    stringSets.set(values, set);
  }
  return set;
}

export function matches(record: RecordLike, cond: SoqlCondition): boolean {
  switch (cond.type) {
    case 'and':
      return matches(record, cond.left) && matches(record, cond.right);
    case 'or':
      return matches(record, cond.left) || matches(record, cond.right);
    case 'not':
      return !matches(record, cond.operand);
    case 'like': {
      const v = readField(record, cond.field);
      return v !== null && v !== undefined && likeToRegExp(cond.pattern).test(String(v));
    }
    case 'in': {
      const v = readField(record, cond.field);
      const strings = stringInSet(cond.values);
      const found = strings
        ? v !== null && v !== undefined && strings.has(String(v).toLowerCase())
        : cond.values.some((lit) =>
            lit.kind === 'null' ? v === null || v === undefined : compareTo(v, lit) === 0,
          );
      return cond.negated ? !found : found;
    }
    case 'compare': {
      const v = readField(record, cond.field);
      if (cond.value.kind === 'null' || v === null || v === undefined) {
        const bothNull = cond.value.kind === 'null' && (v === null || v === undefined);
        if (cond.op === '=') return bothNull;
        if (cond.op === '!=') return !bothNull;
        return false;
      }
      const c = compareTo(v, cond.value);
      if (c === undefined) return false;
      switch (cond.op) {
        case '=':
          return c === 0;
        case '!=':
          return c !== 0;
        case '<':
          return c < 0;
        case '>':
          return c > 0;
        case '<=':
          return c <= 0;
        case '>=':
          return c >= 0;
      }
    }
  }
}

/** Every field a condition mentions (for INVALID_FIELD checks). */
export function conditionFields(cond: SoqlCondition | undefined): string[] {
  if (!cond) return [];
  switch (cond.type) {
    case 'and':
    case 'or':
      return [...conditionFields(cond.left), ...conditionFields(cond.right)];
    case 'not':
      return conditionFields(cond.operand);
    default:
      return [cond.field];
  }
}

/** Apply WHERE, ORDER BY, OFFSET and LIMIT to a set of records. */
export function runQuery<R extends RecordLike>(query: SoqlQuery, records: Iterable<R>): R[] {
  const where = query.where;
  let rows = [...records].filter((r) => (where ? matches(r, where) : true));
  if (query.orderBy.length > 0) {
    rows.sort((a, b) => {
      for (const { field, direction, nulls } of query.orderBy) {
        const va = readField(a, field);
        const vb = readField(b, field);
        const na = va === null || va === undefined;
        const nb = vb === null || vb === undefined;
        if (na || nb) {
          if (na && nb) continue;
          return (na ? -1 : 1) * (nulls === 'FIRST' ? 1 : -1);
        }
        const sa = typeof va === 'number' ? va : String(va).toLowerCase();
        const sb = typeof vb === 'number' ? vb : String(vb).toLowerCase();
        if (sa < sb) return direction === 'ASC' ? -1 : 1;
        if (sa > sb) return direction === 'ASC' ? 1 : -1;
      }
      return 0;
    });
  }
  if (query.offset !== undefined) rows = rows.slice(query.offset);
  if (query.limit !== undefined) rows = rows.slice(0, query.limit);
  return rows;
}
