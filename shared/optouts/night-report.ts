import type { Verdict } from '../domain/opt-out-policy.js';
import {
  emptyFieldHistoryTally,
  type FieldHistoryTally,
  type NightTally,
  type PoisonChunk,
} from './night-tally.js';
import { nowOf, type OptOutDeps } from './opt-out-deps.js';
import type { NightCheckpoint } from './reconcile.js';

/** The report of a night (so far, when `continued`): ids and counts only, never an email. */

export interface OptOutRunReport {
  kind: 'optouts';
  /** `continued`: the budget ran out, the next invocation resumes the night. */
  status: 'completed' | 'continued';
  invocations: number;
  /** Wall time inside invocations. */
  busyMs: number;
  chunks: NightTally['chunks'];
  /** Chunks that failed every attempt (listed up to MAX_POISON_LISTED). */
  poison: PoisonChunk[];
  runId: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  window: { marketoSince: string; salesforceSince: string; until: string };
  /** Change records read on each side (after filtering to the opt-out field). */
  changesRead: { marketo: number; salesforce: number };
  /** People looked at (changed on either side, or retried). */
  people: number;
  /** Verdict of every change read, e.g. optOut, echo, resubscribeRejected. */
  verdicts: Partial<Record<Verdict, number>>;
  /** Our own writes that came back and were ignored. */
  echoesIgnored: number;
  resubscribes: { applied: number; rejected: number };
  /** Salesforce records reading "subscribed" dated by field history, or not (the lower bound). */
  fieldHistory?: FieldHistoryTally;
  /** Records (per side) that disagreed with the person's decided opt-out. */
  disagreements: { salesforce: number; marketo: number; total: number };
  /** Records fixed per side (= successful writes). */
  fixed: { salesforce: number; marketo: number };
  /** People whose change on one side was carried to the other. */
  changesApplied: { marketoToSalesforce: number; salesforceToMarketo: number };
  writes: { salesforce: number; marketo: number; failed: number; retryableFailed: number };
  failedByError: Record<string, number>;
  skipped: Record<string, number>;
  apiCalls: { marketo: number; salesforce: number };
  /** Of tonight's Marketo opt-outs, how many the real-time webhook had already delivered. */
  webhookCoverage: { optOuts: number; deliveredByWebhook: number; percent: number | null };
  /** People left for the next run (retryable failures and poison). */
  pendingPeople: number;
}

export function buildReport(
  deps: OptOutDeps,
  n: NightCheckpoint,
  status: OptOutRunReport['status'],
): OptOutRunReport {
  const finished = nowOf(deps);
  const t = n.tally;
  return {
    kind: 'optouts',
    status,
    invocations: n.invocations,
    busyMs: n.busyMs,
    chunks: t.chunks,
    poison: n.poison,
    runId: n.runId,
    startedAt: n.startedAt,
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - Date.parse(n.startedAt),
    window: { marketoSince: n.marketoSince, salesforceSince: n.salesforceSince, until: n.until },
    changesRead: t.changesRead,
    people: t.people,
    verdicts: t.verdicts as Partial<Record<Verdict, number>>,
    echoesIgnored: t.verdicts.echo ?? 0,
    resubscribes: t.resubscribes,
    fieldHistory: t.fieldHistory ?? emptyFieldHistoryTally(),
    disagreements: { ...t.disagreements, total: t.disagreements.salesforce + t.disagreements.marketo },
    fixed: { ...t.written },
    changesApplied: t.changesApplied,
    writes: { ...t.written, failed: t.failed, retryableFailed: t.retryableFailed },
    failedByError: t.failedByError,
    skipped: t.skipped,
    apiCalls: t.apiCalls,
    webhookCoverage: {
      ...t.coverage,
      percent: t.coverage.optOuts
        ? Math.round((t.coverage.deliveredByWebhook / t.coverage.optOuts) * 1000) / 10
        : null,
    },
    pendingPeople: n.pending.length,
  };
}
