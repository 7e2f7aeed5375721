/**
 * RFC 4180 CSV as Bulk API 2.0 speaks it: a header row, double-quoted fields where needed,
 * `""` for a quote inside a field, LF or CRLF line endings.
 */

export class CsvParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CsvParseError';
  }
}

/** Text → rows of fields (the header row included). A trailing line break adds no row. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  let fieldStarted = false;
  while (i < text.length) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      field += c;
      i++;
      continue;
    }
    if (c === '"' && field === '') {
      quoted = true;
      fieldStarted = true;
      i++;
      continue;
    }
    if (c === ',') {
      row.push(field);
      field = '';
      fieldStarted = true;
      i++;
      continue;
    }
    if (c === '\n' || c === '\r') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      fieldStarted = false;
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      continue;
    }
    field += c;
    fieldStarted = true;
    i++;
  }
  if (quoted) throw new CsvParseError('unterminated quoted field');
  if (fieldStarted || field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** Rows → objects keyed by the header row. */
export function parseCsvRecords(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  if (!header) return [];
  return rows.map((row) => {
    const record: Record<string, string> = {};
    header.forEach((name, i) => {
      record[name] = row[i] ?? '';
    });
    return record;
  });
}

function quote(field: string, always: boolean): string {
  return always || /[",\r\n]/.test(field) || field !== field.trim()
    ? `"${field.replace(/"/g, '""')}"`
    : field;
}

/** Rows → CSV text, every line (the last included) ended by `lineEnding`. */
export function toCsv(
  rows: readonly (readonly string[])[],
  options: { lineEnding?: '\n' | '\r\n'; quoteAll?: boolean } = {},
): string {
  const eol = options.lineEnding ?? '\n';
  return rows.map((row) => row.map((f) => quote(f, options.quoteAll ?? false)).join(',') + eol).join('');
}
