/** Human-readable rendering of a command summary (the JSON line follows it). */
export function printHuman(summary: Record<string, unknown>, indent = ''): void {
  for (const [key, value] of Object.entries(summary)) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      process.stdout.write(`${indent}${key}:\n`);
      printHuman(value as Record<string, unknown>, `${indent}  `);
    } else if (Array.isArray(value)) {
      process.stdout.write(`${indent}${key}: ${value.length === 0 ? '[]' : ''}\n`);
      for (const item of value) {
        process.stdout.write(
          `${indent}  - ${typeof item === 'object' ? JSON.stringify(item) : String(item)}\n`,
        );
      }
    } else {
      process.stdout.write(`${indent}${key}: ${String(value)}\n`);
    }
  }
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
