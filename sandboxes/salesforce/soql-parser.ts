/**
 * A SOQL subset for the sandbox: SELECT fields | COUNT() FROM one object, WHERE with
 * = != <> < > <= >= IN / NOT IN, LIKE, AND / OR / NOT and parentheses, null, true/false,
 * numbers, quoted strings (backslash escapes), date and datetime literals; ORDER BY; LIMIT;
 * OFFSET. Anything else is a MALFORMED_QUERY, as on the real service.
 */

export class SoqlParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SoqlParseError';
  }
}

export type SoqlLiteralValue =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'null' }
  | { kind: 'datetime'; value: string; ms: number }
  | { kind: 'date'; value: string };

export type SoqlCondition =
  | { type: 'and' | 'or'; left: SoqlCondition; right: SoqlCondition }
  | { type: 'not'; operand: SoqlCondition }
  | { type: 'compare'; field: string; op: '=' | '!=' | '<' | '>' | '<=' | '>='; value: SoqlLiteralValue }
  | { type: 'in'; field: string; negated: boolean; values: SoqlLiteralValue[] }
  | { type: 'like'; field: string; pattern: string };

export interface SoqlQuery {
  fields: string[];
  count: boolean;
  object: string;
  where?: SoqlCondition;
  orderBy: { field: string; direction: 'ASC' | 'DESC'; nulls: 'FIRST' | 'LAST' }[];
  limit?: number;
  offset?: number;
}

type Token =
  | { t: 'ident'; v: string }
  | { t: 'string'; v: string; like: string }
  | { t: 'number'; v: number }
  | { t: 'datetime'; v: string }
  | { t: 'date'; v: string }
  | { t: 'op'; v: string }
  | { t: 'punct'; v: '(' | ')' | ',' };

const UNESCAPE: Record<string, string> = {
  n: '\n',
  r: '\r',
  t: '\t',
  b: '\b',
  f: '\f',
  '"': '"',
  "'": "'",
  '\\': '\\',
  '%': '%',
  _: '_',
};

const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})/;
const DATE = /^\d{4}-\d{2}-\d{2}(?![\dT:])/;

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "'") {
      let value = '';
      // The LIKE view of the same literal: escaped wildcards and backslashes stay escaped.
      let like = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new SoqlParseError('unterminated string literal');
        const ch = text[i] as string;
        if (ch === '\\') {
          const next = text[i + 1];
          const mapped = next === undefined ? undefined : UNESCAPE[next];
          if (mapped === undefined) throw new SoqlParseError(`invalid escape sequence \\${next ?? ''}`);
          value += mapped;
          like += next === '%' || next === '_' || next === '\\' ? `\\${next}` : mapped;
          i += 2;
          continue;
        }
        if (ch === "'") {
          i++;
          break;
        }
        value += ch;
        like += ch === '\\' ? '\\\\' : ch;
        i++;
      }
      tokens.push({ t: 'string', v: value, like });
      continue;
    }
    const rest = text.slice(i);
    const dt = DATETIME.exec(rest);
    if (dt) {
      tokens.push({ t: 'datetime', v: dt[0] });
      i += dt[0].length;
      continue;
    }
    const d = DATE.exec(rest);
    if (d) {
      tokens.push({ t: 'date', v: d[0] });
      i += d[0].length;
      continue;
    }
    const num = /^-?\d+(\.\d+)?/.exec(rest);
    if (num) {
      tokens.push({ t: 'number', v: Number(num[0]) });
      i += num[0].length;
      continue;
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(rest);
    if (ident) {
      tokens.push({ t: 'ident', v: ident[0] });
      i += ident[0].length;
      continue;
    }
    const op = /^(<=|>=|!=|<>|=|<|>)/.exec(rest);
    if (op) {
      tokens.push({ t: 'op', v: op[0] === '<>' ? '!=' : op[0] });
      i += op[0].length;
      continue;
    }
    if (c === '(' || c === ')' || c === ',') {
      tokens.push({ t: 'punct', v: c });
      i++;
      continue;
    }
    throw new SoqlParseError(`unexpected character ${JSON.stringify(c)} at ${i}`);
  }
  return tokens;
}

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }
  private next(): Token {
    const tok = this.tokens[this.pos++];
    if (!tok) throw new SoqlParseError('unexpected end of query');
    return tok;
  }
  private isKeyword(word: string, offset = 0): boolean {
    const tok = this.tokens[this.pos + offset];
    return tok?.t === 'ident' && tok.v.toUpperCase() === word;
  }
  private expectKeyword(word: string): void {
    if (!this.isKeyword(word)) throw new SoqlParseError(`expected ${word}`);
    this.pos++;
  }
  private expectPunct(p: '(' | ')' | ','): void {
    const tok = this.next();
    if (tok.t !== 'punct' || tok.v !== p) throw new SoqlParseError(`expected '${p}'`);
  }
  private identifier(): string {
    const tok = this.next();
    if (tok.t !== 'ident') throw new SoqlParseError(`expected a field name, got ${JSON.stringify(tok)}`);
    return tok.v;
  }

  parse(): SoqlQuery {
    this.expectKeyword('SELECT');
    const fields: string[] = [];
    let count = false;
    if (this.isKeyword('COUNT') && this.tokens[this.pos + 1]?.t === 'punct') {
      this.pos++;
      this.expectPunct('(');
      this.expectPunct(')');
      count = true;
    } else {
      fields.push(this.identifier());
      while (this.peek()?.t === 'punct' && this.peek()?.v === ',') {
        this.pos++;
        fields.push(this.identifier());
      }
    }
    this.expectKeyword('FROM');
    const object = this.identifier();
    const query: SoqlQuery = { fields, count, object, orderBy: [] };
    if (this.isKeyword('WHERE')) {
      this.pos++;
      query.where = this.orExpr();
    }
    if (this.isKeyword('ORDER')) {
      this.pos++;
      this.expectKeyword('BY');
      do {
        if (query.orderBy.length > 0) this.pos++;
        const field = this.identifier();
        let direction: 'ASC' | 'DESC' = 'ASC';
        if (this.isKeyword('ASC') || this.isKeyword('DESC'))
          direction = this.identifier().toUpperCase() as 'ASC';
        let nulls: 'FIRST' | 'LAST' = direction === 'ASC' ? 'FIRST' : 'LAST';
        if (this.isKeyword('NULLS')) {
          this.pos++;
          const which = this.identifier().toUpperCase();
          if (which !== 'FIRST' && which !== 'LAST') throw new SoqlParseError('expected NULLS FIRST or LAST');
          nulls = which;
        }
        query.orderBy.push({ field, direction, nulls });
      } while (this.peek()?.t === 'punct' && this.peek()?.v === ',');
    }
    if (this.isKeyword('LIMIT')) {
      this.pos++;
      query.limit = this.integer();
    }
    if (this.isKeyword('OFFSET')) {
      this.pos++;
      query.offset = this.integer();
    }
    if (this.pos !== this.tokens.length) {
      throw new SoqlParseError(`unexpected token ${JSON.stringify(this.peek())} after the query`);
    }
    return query;
  }

  private integer(): number {
    const tok = this.next();
    if (tok.t !== 'number' || !Number.isInteger(tok.v) || tok.v < 0)
      throw new SoqlParseError('expected an integer');
    return tok.v;
  }

  private orExpr(): SoqlCondition {
    let left = this.andExpr();
    while (this.isKeyword('OR')) {
      this.pos++;
      left = { type: 'or', left, right: this.andExpr() };
    }
    return left;
  }

  private andExpr(): SoqlCondition {
    let left = this.unary();
    while (this.isKeyword('AND')) {
      this.pos++;
      left = { type: 'and', left, right: this.unary() };
    }
    return left;
  }

  private unary(): SoqlCondition {
    if (this.isKeyword('NOT')) {
      this.pos++;
      return { type: 'not', operand: this.unary() };
    }
    const tok = this.peek();
    if (tok?.t === 'punct' && tok.v === '(') {
      this.pos++;
      const inner = this.orExpr();
      this.expectPunct(')');
      return inner;
    }
    return this.predicate();
  }

  private predicate(): SoqlCondition {
    const field = this.identifier();
    if (this.isKeyword('IN') || (this.isKeyword('NOT') && this.isKeyword('IN', 1))) {
      const negated = this.isKeyword('NOT');
      this.pos += negated ? 2 : 1;
      this.expectPunct('(');
      const values = [this.literal()];
      while (this.peek()?.t === 'punct' && this.peek()?.v === ',') {
        this.pos++;
        values.push(this.literal());
      }
      this.expectPunct(')');
      return { type: 'in', field, negated, values };
    }
    if (this.isKeyword('LIKE')) {
      this.pos++;
      const tok = this.next();
      if (tok.t !== 'string') throw new SoqlParseError('LIKE needs a string pattern');
      return { type: 'like', field, pattern: tok.like };
    }
    const op = this.next();
    if (op.t !== 'op') throw new SoqlParseError(`expected an operator after ${field}`);
    return { type: 'compare', field, op: op.v as '=', value: this.literal() };
  }

  private literal(): SoqlLiteralValue {
    const tok = this.next();
    switch (tok.t) {
      case 'string':
        return { kind: 'string', value: tok.v };
      case 'number':
        return { kind: 'number', value: tok.v };
      case 'datetime':
        return { kind: 'datetime', value: tok.v, ms: Date.parse(tok.v) };
      case 'date':
        return { kind: 'date', value: tok.v };
      case 'ident': {
        const word = tok.v.toLowerCase();
        if (word === 'null') return { kind: 'null' };
        if (word === 'true' || word === 'false') return { kind: 'boolean', value: word === 'true' };
        throw new SoqlParseError(`unexpected ${tok.v}: bind values must be literals`);
      }
      default:
        throw new SoqlParseError(`expected a value, got ${JSON.stringify(tok)}`);
    }
  }
}

export function parseSoql(text: string): SoqlQuery {
  return new Parser(tokenize(text)).parse();
}
