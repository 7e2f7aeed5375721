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
