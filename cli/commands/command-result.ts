/**
 * What a command that decides its own exit code returns (verify: 1 on any discrepancy): the
 * human-readable lines (printed unless --json) and the --json summary (always the last line).
 */
export interface CommandResult {
  exitCode: number;
  lines: string[];
  summary: Record<string, unknown>;
}

export function isCommandResult(value: unknown): value is CommandResult {
  const v = value as Partial<CommandResult> | undefined;
  return typeof v?.exitCode === 'number' && Array.isArray(v.lines) && typeof v.summary === 'object';
}
