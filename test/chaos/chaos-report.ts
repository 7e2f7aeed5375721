import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ChaosConfig } from './chaos-config.js';

/** One scenario's line of the table: what was injected, and what reconciliation found. */
export interface ScenarioRow {
  scenario: string;
  seed: number;
  /** Faults injected, by kind (vendor faults as the sandboxes count them, process faults as injected). */
  faults: Record<string, number>;
  /** API requests the sandboxes served (the population the fault rate applies to). */
  calls: { marketo: number; salesforce: number };
  /** Eligible activities (ground truth: one Task each). */
  activities: number;
  /** Tasks found in Salesforce for them. */
  tasks: number;
  duplicates: number;
  missing: number;
  wrongWho: number;
  /** Tasks for activities that should have none. */
  unexpected: number;
  /** Opt-out changes made on either side or by webhook. */
  optOutChanges: number;
  /** People whose opt-out is missing from at least one of their records at the end. */
  optOutsLost: number;
  /** Records opted out that belong to nobody who opted out. */
  falseOptOuts: number;
  /** Messages in any dead-letter queue at the end. */
  deadLetters: number;
  /** 606 / 615 the sandbox answered beyond the injected ones: Marketo limits broken by us. */
  limitBreaches: number;
  /** Highest receive count of any message (SQS's ApproximateReceiveCount). */
  maxReceives: number;
  /** Parks until a vendor's reset (ChangeMessageVisibility by the deferrer). */
  parks: number;
  durationMs: number;
  notes?: string[];
}

export const totalFaults = (row: ScenarioRow): number => Object.values(row.faults).reduce((n, v) => n + v, 0);

/** Is the row clean: nothing duplicated, missing, misattached, lost or dead-lettered? */
export function rowProblems(row: ScenarioRow): string[] {
  const problems: string[] = [];
  for (const key of [
    'duplicates',
    'missing',
    'wrongWho',
    'unexpected',
    'optOutsLost',
    'falseOptOuts',
    'deadLetters',
  ] as const) {
    if (row[key] !== 0) problems.push(`${key}=${row[key]}`);
  }
  return problems;
}

const pad = (s: string, n: number) => s.padEnd(n);
const lpad = (s: string, n: number) => s.padStart(n);

/** The scenario table, as printed at the end of the run (Markdown, so it can go in the README as is). */
export function formatTable(config: ChaosConfig, rows: readonly ScenarioRow[]): string {
  const header = [
    'scenario',
    'vendor calls',
    'faults injected',
    'activities',
    'Tasks',
    'dup',
    'missing',
    'opt-out changes',
    'opt-outs lost',
    'DLQ',
    'max receives',
    'time',
  ];
  const lines = rows.map((r) => [
    r.scenario,
    `${r.calls.marketo + r.calls.salesforce}`,
    `${totalFaults(r)}: ${Object.entries(r.faults)
      .filter(([, n]) => n > 0)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}`,
    String(r.activities),
    String(r.tasks),
    String(r.duplicates),
    String(r.missing),
    String(r.optOutChanges),
    String(r.optOutsLost),
    String(r.deadLetters),
    String(r.maxReceives),
    `${(r.durationMs / 1000).toFixed(1)} s`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const numeric = new Set([1, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  const fmt = (cells: string[]) =>
    `| ${cells.map((c, i) => (numeric.has(i) ? lpad(c, widths[i] ?? 0) : pad(c, widths[i] ?? 0))).join(' | ')} |`;
  return [
    `Chaos suite: size ${config.full ? 'full' : 'ci'}, fault rate ${config.rate}, seed ${config.seed} (reproduce: CHAOS_SEED=${config.seed}${config.rate !== 0.1 ? ` CHAOS_RATE=${config.rate}` : ''})`,
    '',
    fmt(header),
    `|${widths.map((w, i) => (numeric.has(i) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`,
    ...lines.map(fmt),
  ].join('\n');
}

export function writeResults(file: string, config: ChaosConfig, rows: readonly ScenarioRow[]): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(
    file,
    `${JSON.stringify({ finishedAt: new Date().toISOString(), ...config, scenarios: rows }, null, 2)}\n`,
  );
}
