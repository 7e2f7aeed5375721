/**
 * Human-readable rendering of a command summary (the JSON line follows it): a short aligned table
 * of its values (nested objects as dotted keys), then each list of records as its own table.
 */
export function printHuman(summary: Record<string, unknown>): void {
  for (const line of humanLines(summary)) process.stdout.write(`${line}\n`);
}

export function humanLines(summary: Record<string, unknown>): string[] {
  const scalars: [string, string][] = [];
  const tables: string[] = [];
  const walk = (value: unknown, key: string) => {
    if (Array.isArray(value)) {
      if (value.length > 0 && value.every(isFlatRecord)) {
        const header = [...new Set(value.flatMap((r) => Object.keys(r)))];
        tables.push(
          '',
          `${key}:`,
          ...formatTable(
            header,
            value.map((r) => header.map((h) => cell(r[h]))),
          ),
        );
      } else scalars.push([key, value.length === 0 ? '–' : value.map(cell).join(', ')]);
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(v, key ? `${key}.${k}` : k);
    } else scalars.push([key, String(cell(value))]);
  };
  walk(summary, '');
  const width = Math.max(0, ...scalars.map(([k]) => k.length));
  return [...scalars.map(([k, v]) => `${k.padEnd(width)}  ${v}`), ...tables];
}

function isFlatRecord(v: unknown): v is Record<string, unknown> {
  return (
    v !== null &&
    typeof v === 'object' &&
    !Array.isArray(v) &&
    Object.values(v).every((x) => x === null || typeof x !== 'object' || Array.isArray(x))
  );
}

function cell(v: unknown): string | number {
  if (typeof v === 'number') return v;
  if (Array.isArray(v)) return v.map(String).join(', ');
  if (v !== null && typeof v === 'object') return JSON.stringify(v);
  return v === undefined || v === null ? '–' : String(v);
}

/** A short aligned table: a header row, a rule, then the rows (numbers right-aligned). */
export function formatTable(header: string[], rows: (string | number)[][]): string[] {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'));
  const line = (r: string[]) =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map((r) => line(r.map(String)))];
}
