import { DynamoDbSourceRateLimiter } from '../../shared/adapters/dynamodb/source-rate-limiter.js';
import { normaliseEmail } from '../../shared/domain/email.js';
import type { HistoryEntry } from '../../shared/domain/opt-out-state.js';
import { alignAllOptOuts, type FullAlignmentReport } from '../../shared/optouts/full-alignment.js';
import type { OptOutDeps } from '../../shared/optouts/opt-out-deps.js';
import { type OptOutRunReport, reconcileOptOutsToEnd } from '../../shared/optouts/reconcile.js';
import { failureRecorderFor } from '../../shared/runtime/failure-recorder.js';
import { optOutDepsFromPlatform } from '../../shared/runtime/opt-out-runtime.js';
import type { LocalEnvironment } from '../embedded/local-environment.js';
import { formatAlignmentProgress } from '../progress.js';
import type { CommandResult } from './command-result.js';
import { type RunningServer, runServeCommand, type ServeOptions } from './serve.js';

export { runServeCommand } from './serve.js';

/**
 * `optouts`                  one nightly unsubscribe reconciliation, both directions
 * `optouts --full [--id-gap N]` first-enable alignment: every opted-out record, whatever its age
 * `optouts history <email>`  the person's opt-out state and its full history
 * The lead's cli/main.ts builds the OptOutDeps (buildOptOutDeps) and prints `summary` for --json.
 */

export interface OptOutsCommandResult {
  exitCode: number;
  /** One JSON-able object summarising the command (the --json last line). */
  summary: Record<string, unknown>;
}

export class OptOutsUsageError extends Error {
  override readonly name = 'OptOutsUsageError';
  constructor(message: string) {
    super(`${message}. Usage: optouts | optouts --full [--id-gap N] | optouts history <email>`);
  }
}

/** OptOutDeps from the embedded default / configured environment the CLI starts. */
export function optOutDepsFromLocal(local: LocalEnvironment): OptOutDeps {
  return optOutDepsFromPlatform(local.platform, async () => local.credentials);
}

const isLocal = (ctx: OptOutDeps | LocalEnvironment): ctx is LocalEnvironment => 'platform' in ctx;

/**
 * `optouts --full`: the first-enable alignment, run to its end in this process (resumed if an
 * earlier process was interrupted), with a progress line on a terminal and the report.
 */
export async function runFullAlignmentCommand(
  ctx: OptOutDeps | LocalEnvironment,
  options: { idGap?: number; progress?: boolean; maxChunks?: number } = {},
): Promise<CommandResult> {
  const deps = isLocal(ctx) ? optOutDepsFromLocal(ctx) : ctx;
  const started = Date.now();
  const onChunk = options.progress
    ? (r: FullAlignmentReport) =>
        process.stderr.write(
          `\r${formatAlignmentProgress({
            elapsedMs: Date.now() - started,
            marketoIdsUpTo: r.marketoScan.idsUpTo,
            marketoLeads: r.marketoScan.leads,
            read: r.read,
            aligned: r.aligned,
            chunks: r.chunks.done,
          })}\x1b[K`,
        )
    : undefined;
  const report = await alignAllOptOuts(deps, {
    ...(options.idGap !== undefined ? { idGap: options.idGap } : {}),
    ...(options.maxChunks !== undefined ? { maxChunks: options.maxChunks } : {}),
    ...(onChunk ? { onChunk } : {}),
  });
  if (options.progress) process.stderr.write('\n');
  return { exitCode: report.failed ? 1 : 0, lines: formatFullReport(report), summary: fullSummary(report) };
}

/** The --json summary of `optouts --full`. */
export function fullSummary(r: FullAlignmentReport): Record<string, unknown> {
  return {
    command: 'optouts --full',
    status: r.status,
    runId: r.runId,
    read: r.read,
    marketoLeadsScanned: r.marketoScan.leads,
    marketoIdsUpTo: r.marketoScan.idsUpTo,
    people: r.people,
    aligned: r.aligned,
    conflicts: r.conflicts,
    skipped: r.skipped,
    failed: r.failed,
    failedByError: r.failedByError,
    pendingPeople: r.pendingPeople,
    apiCalls: r.apiCalls,
    invocations: r.invocations,
    chunks: r.chunks,
    poison: r.poison,
  };
}

export function formatFullReport(r: FullAlignmentReport): string[] {
  const skipped = Object.entries(r.skipped);
  return [
    `First-enable opt-out alignment ${r.runId} (${r.status}; ${r.invocations} invocation(s), ${r.chunks.done} chunks)`,
    `  opted out read   Marketo ${r.read.marketo} (of ${r.marketoScan.leads} leads, ids ≤ ${r.marketoScan.idsUpTo}), Salesforce ${r.read.salesforce}; people ${r.people}`,
    `  aligned          Salesforce ${r.aligned.salesforce}, Marketo ${r.aligned.marketo}; failed ${r.failed} (retry with another --full: ${r.pendingPeople} people)`,
    `  conflicts        ${r.conflicts} (an opt-out met a resubscribe; the policy chose)`,
    `  skipped          ${skipped.length ? skipped.map(([k, n]) => `${k} ${n}`).join(', ') : 'none'}`,
    `  API calls        Marketo ${r.apiCalls.marketo}, Salesforce ${r.apiCalls.salesforce}`,
  ];
}

/** Runs `optouts [history <email>]`; returns the --json summary (the human lines go to `out`). */
export async function runOptOutsCommand(
  ctx: OptOutDeps | LocalEnvironment,
  args: readonly string[],
  out: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<Record<string, unknown>> {
  const deps = isLocal(ctx) ? optOutDepsFromLocal(ctx) : ctx;
  const result = await runOptOutsCommandWith(deps, args, out);
  return result.summary;
}

/** `serve` on the local environment: webhook + local consumer, until SIGINT/SIGTERM. */
export async function runServeCommandLocal(
  local: LocalEnvironment,
  options: Omit<ServeOptions, 'sqsClient'> & { untilSignal?: boolean } = {},
): Promise<RunningServer> {
  const running = await runServeCommand(optOutDepsFromLocal(local), {
    ...options,
    sqsClient: local.platform.sqs,
    failureRecorder: failureRecorderFor(local.platform.doc, local.platform.tables),
    sourceLimiter: new DynamoDbSourceRateLimiter(local.platform.doc, local.platform.tables.webhookSources),
  });
  process.stdout.write(`Webhook: POST ${running.url}/webhooks/unsubscribe (GET ${running.url}/healthz)\n`);
  if (options.untilSignal === false) return running;
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await running.close();
  return running;
}

export async function runOptOutsCommandWith(
  deps: OptOutDeps,
  args: readonly string[],
  out: (line: string) => void,
): Promise<OptOutsCommandResult> {
  const [sub, ...rest] = args.filter((a) => a !== '--json');
  if (sub === undefined || sub === 'run') {
    const report = await reconcileOptOutsToEnd(deps);
    for (const line of formatRunReport(report)) out(line);
    return { exitCode: 0, summary: runSummary(report) };
  }
  if (sub === 'history') {
    const raw = rest[0];
    if (!raw) throw new OptOutsUsageError('optouts history needs an email address');
    return printHistory(deps, raw, out);
  }
  throw new OptOutsUsageError(`Unknown optouts subcommand "${sub}"`);
}

/** The --json summary (SPEC: counts read / written / skipped by reason / failed, API calls, duration). */
export function runSummary(r: OptOutRunReport): Record<string, unknown> {
  return {
    command: 'optouts',
    runId: r.runId,
    read: r.changesRead.marketo + r.changesRead.salesforce,
    readBySide: r.changesRead,
    people: r.people,
    written: r.writes.salesforce + r.writes.marketo,
    writtenBySide: { salesforce: r.writes.salesforce, marketo: r.writes.marketo },
    skipped: r.skipped,
    failed: r.writes.failed,
    failedByError: r.failedByError,
    disagreements: r.disagreements,
    changesApplied: r.changesApplied,
    echoesIgnored: r.echoesIgnored,
    resubscribes: r.resubscribes,
    webhookCoverage: r.webhookCoverage,
    apiCalls: r.apiCalls,
    invocations: r.invocations,
    chunks: r.chunks,
    poison: r.poison,
    durationMs: r.durationMs,
  };
}

export function formatRunReport(r: OptOutRunReport): string[] {
  const pct = r.webhookCoverage.percent === null ? 'n/a' : `${r.webhookCoverage.percent}%`;
  return [
    `Unsubscribe reconciliation ${r.runId} (${r.window.marketoSince} → ${r.window.until}, ${r.durationMs} ms)`,
    `  changes read     Marketo ${r.changesRead.marketo}, Salesforce ${r.changesRead.salesforce}; people ${r.people}`,
    `  disagreements    ${r.disagreements.total} (Salesforce ${r.disagreements.salesforce}, Marketo ${r.disagreements.marketo})`,
    `  fixed            Salesforce ${r.fixed.salesforce}, Marketo ${r.fixed.marketo}; failed ${r.writes.failed} (retry next run: ${r.pendingPeople} people)`,
    `  carried over     Marketo → Salesforce ${r.changesApplied.marketoToSalesforce}, Salesforce → Marketo ${r.changesApplied.salesforceToMarketo}`,
    `  echoes ignored   ${r.echoesIgnored}; resubscribes applied ${r.resubscribes.applied}, rejected ${r.resubscribes.rejected}`,
    `  webhook coverage ${r.webhookCoverage.deliveredByWebhook}/${r.webhookCoverage.optOuts} of tonight's Marketo opt-outs (${pct})`,
    `  API calls        Marketo ${r.apiCalls.marketo}, Salesforce ${r.apiCalls.salesforce}`,
    `  chunks           ${r.chunks.done} in ${r.invocations} invocation(s); retried ${r.chunks.retried}, split ${r.chunks.split}, poison ${r.chunks.poison}${r.poison.length ? ` (${r.poison.map((p) => `${p.kind} ${p.ref}: ${p.error}`).join('; ')})` : ''}`,
  ];
}

export function formatHistoryEntry(e: HistoryEntry): string {
  const value = (v: boolean) => (v ? 'opted out' : 'subscribed');
  switch (e.kind) {
    case 'observed': {
      const ev = Object.entries(e.evidence)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(' ');
      return `${e.at}  observed  ${e.source.padEnd(18)} ${value(e.value).padEnd(10)} on ${e.target ?? '(person)'}  → ${e.verdict}; decision ${value(e.optedOut)}  [${ev}]`;
    }
    case 'written':
      return `${e.at}  written   ${e.target} = ${value(e.value)}  (${e.cause}${e.latencyMs !== undefined ? `, ${e.latencyMs} ms after acceptance` : ''})`;
    case 'writeFailed':
      return `${e.at}  FAILED    ${e.target} = ${value(e.value)}  (${e.cause}): ${e.error}${e.retryable ? ', will retry' : ', not retryable'}`;
  }
}

async function printHistory(
  deps: OptOutDeps,
  raw: string,
  out: (line: string) => void,
): Promise<OptOutsCommandResult> {
  const email = normaliseEmail(raw);
  const [current, history] = await Promise.all([deps.store.get(email), deps.store.history(email)]);
  if (!current && history.length === 0) {
    out(`No opt-out state for ${email}.`);
    return { exitCode: 0, summary: { command: 'optouts history', found: false } };
  }
  if (current) {
    const s = current.state;
    out(`${email}: ${s.optedOut ? 'OPTED OUT' : 'subscribed'} (state version ${current.version})`);
    if (s.optedOutAt) out(`  latest opt-out      ${s.optedOutAt}`);
    if (s.resubscribedAt) out(`  latest resubscribe  ${s.resubscribedAt} (allowed source)`);
    if (s.lastChange) out(`  last change         ${s.lastChange.at} from ${s.lastChange.source}`);
    if (s.webhookAt) out(`  webhook delivery    ${s.webhookAt}`);
    if (s.rejectedResubscribes) out(`  rejected resubscribes ${s.rejectedResubscribes}`);
    out('  records:');
    for (const [target, view] of Object.entries(s.records).sort()) {
      out(`    ${target.padEnd(36)} ${view.optedOut ? 'opted out ' : 'subscribed'}  (as of ${view.at})`);
    }
    if (s.pendingTargets?.length) out(`  pending retries: ${s.pendingTargets.join(', ')}`);
  }
  out(`History (${history.length} entries, oldest first):`);
  for (const e of history) out(`  ${formatHistoryEntry(e)}`);
  return {
    exitCode: 0,
    summary: {
      command: 'optouts history',
      found: true,
      optedOut: current?.state.optedOut ?? false,
      entries: history.length,
      records: Object.keys(current?.state.records ?? {}).length,
    },
  };
}
