import { randomUUID } from 'node:crypto';
import { normaliseEmail } from '../domain/email.js';
import { type Observation, observeAll, type Verdict } from '../domain/opt-out-policy.js';
import { type HistoryEntry, marketoTarget, type OptOutState } from '../domain/opt-out-state.js';
import { newRunId } from '../domain/run-report.js';
import { soql, soqlIdentifier } from '../domain/soql.js';
import { recordJobCompleted } from '../observability/metrics.js';
import type { LeadChange } from '../ports/marketo-api.js';
import { readMarketoPages } from '../ports/marketo-paging.js';
import { alignPeople } from './align-people.js';
import { nowOf, type OptOutDeps, policyOf } from './opt-out-deps.js';
import { MARKETO_LEAD_FIELDS, SALESFORCE_PERSON_OBJECTS, salesforceRowToRecord } from './person-records.js';

/**
 * The nightly unsubscribe reconciliation, both directions, in one run:
 *   1. read what changed since the cursor: Marketo lead changes on `unsubscribed` (paging token from
 *      the watermark, every page while moreResult) and Salesforce Leads/Contacts by SystemModstamp;
 *   2. feed each change to the policy in the person's state (echoes of our own writes recognised);
 *   3. bring every record of each person who changed in line (alignPeople: both sides, all records
 *      with that normalised email), retrying people whose writes failed last time;
 *   4. advance the cursor and store a consent-drift report in the runs table (kind `optouts`).
 * A crash anywhere leaves the cursor where it was: the next run re-reads and re-applies (idempotent).
 */

export const OPT_OUT_CURSOR_ID = 'optouts#nightly';
/** Re-read this far behind the watermarks: late-committed changes, clock skew. */
const OVERLAP_MS = 60 * 60 * 1000;
/** A Marketo change this close before the webhook delivery counts as delivered by it. */
const WEBHOOK_COVERAGE_SLACK_MS = 5 * 60 * 1000;
const MAX_PAGES = 10_000;
const MAX_PENDING_PEOPLE = 10_000;

export interface OptOutCursor {
  marketoWatermark?: string;
  salesforceWatermark?: string;
  /** People whose writes failed with a retryable error: retried by the next run. */
  pendingPeople?: string[];
}

export interface OptOutRunReport {
  kind: 'optouts';
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
  /** People left for the next run (retryable failures). */
  pendingPeople: number;
}

const bump = (counts: Record<string, number>, key: string, by = 1) => {
  counts[key] = (counts[key] ?? 0) + by;
};

const truthy = (v: string | null | undefined) => v === 'true' || v === '1';

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T);
      }
    }),
  );
  return out;
}

interface PersonChange {
  obs: Observation;
}

export async function reconcileOptOuts(
  deps: OptOutDeps,
  options: { runId?: string } = {},
): Promise<OptOutRunReport> {
  const started = nowOf(deps);
  const runId = options.runId ?? newRunId(started);
  const cause = `nightly:${runId}`;
  const policy = policyOf(deps);
  const field = deps.settings.optOuts.salesforceField;
  await deps.runs.start('optouts', runId, { salesforceField: field });
  try {
    const cursorItem = await deps.cursors.getValue<OptOutCursor>(OPT_OUT_CURSOR_ID);
    const cursor = cursorItem?.value ?? {};
    const lookback = new Date(started.getTime() - deps.settings.optOuts.lookbackDays * 86_400_000);
    const marketoSince = cursor.marketoWatermark ? new Date(cursor.marketoWatermark) : lookback;
    const salesforceSince = cursor.salesforceWatermark ? new Date(cursor.salesforceWatermark) : lookback;

    const mk = await deps.marketo();
    const sf = await deps.salesforce();
    const callsBefore = { m: mk.callCounts().total, s: sf.callCounts().total };
    const skipped: Record<string, number> = {};
    const changes = new Map<string, PersonChange[]>();
    const add = (email: string, obs: Observation) => {
      const key = normaliseEmail(email);
      changes.set(key, [...(changes.get(key) ?? []), { obs }]);
    };

    // 1a. Marketo: every change of `unsubscribed` since the watermark (minus the overlap).
    const leadChanges: LeadChange[] = [];
    const seen = new Set<string>();
    const pages = readMarketoPages({
      marketo: mk,
      readPage: (nextPageToken) =>
        mk.getLeadChanges({
          nextPageToken,
          fields: ['unsubscribed', 'unsubscribedReason'],
          batchSize: deps.settings.marketo.batchSize,
        }),
      since: new Date(marketoSince.getTime() - OVERLAP_MS),
      dateOf: (c) => c.activityDate,
      onTokenRefused: () =>
        deps.logger.warn('Lead-changes paging token rejected; regenerating it', { runId }),
    });
    let pageCount = 0;
    for await (const res of pages) {
      for (const c of res.items) {
        if (seen.has(c.marketoGUID)) continue;
        seen.add(c.marketoGUID);
        if (c.fields?.some((f) => f.name.toLowerCase() === 'unsubscribed')) leadChanges.push(c);
      }
      if (++pageCount >= MAX_PAGES) break;
    }
    const leadIds = [...new Set(leadChanges.map((c) => c.leadId))];
    const leads = leadIds.length
      ? await mk.getLeads({ filterType: 'id', filterValues: leadIds, fields: MARKETO_LEAD_FIELDS })
      : [];
    const leadById = new Map(leads.map((l) => [l.id, l]));
    for (const c of leadChanges) {
      const lead = leadById.get(c.leadId);
      if (!lead) {
        bump(skipped, 'marketoLeadNotFound');
        continue;
      }
      if (!lead.email) {
        bump(skipped, 'marketoLeadWithoutEmail');
        continue;
      }
      const f = c.fields?.find((x) => x.name.toLowerCase() === 'unsubscribed');
      add(lead.email, {
        source: 'marketo-nightly',
        target: marketoTarget(c.leadId),
        value: truthy(f?.newValue),
        priorValue: truthy(f?.oldValue),
        at: new Date(c.activityDate).toISOString(),
        evidence: {
          leadId: c.leadId,
          activityGuid: c.marketoGUID,
          runId,
          ...(lead.unsubscribedReason ? { reason: lead.unsubscribedReason } : {}),
        },
      });
    }

    // 1b. Salesforce: Leads and Contacts modified since the watermark; the state tells a change
    // of the opt-out field apart from an edit of another field (same value as last known).
    let salesforceRead = 0;
    for (const sobject of SALESFORCE_PERSON_OBJECTS) {
      const rows = await sf.query<{ Id: string; Email?: string | null; SystemModstamp?: string | null }>(
        soql`SELECT Id, Email, ${soqlIdentifier(field)}, SystemModstamp FROM ${soqlIdentifier(sobject)} WHERE SystemModstamp > ${new Date(salesforceSince.getTime() - OVERLAP_MS)} AND Email != null`,
      );
      for (const row of rows) {
        const rec = salesforceRowToRecord(sobject, row, field, started);
        if (!rec) continue;
        salesforceRead++;
        add(rec.email, {
          source: 'salesforce-nightly',
          target: rec.target,
          value: rec.optedOut,
          at: rec.at,
          evidence: { recordId: row.Id, sobject, runId },
        });
      }
    }

    // 2. The policy, per person.
    for (const p of cursor.pendingPeople ?? []) if (!changes.has(p)) changes.set(p, []);
    const emails = [...changes.keys()];
    const verdicts: Record<string, number> = {};
    const resubscribes = { applied: 0, rejected: 0 };
    const origins = new Map<string, { marketo: boolean; salesforce: boolean }>();
    const coverage = { optOuts: 0, deliveredByWebhook: 0 };
    await mapLimit(emails, 8, async (email) => {
      const personChanges = changes.get(email) ?? [];
      let result: ReturnType<typeof observeAll> | undefined;
      let before: OptOutState | undefined;
      const at = nowOf(deps).toISOString();
      await deps.store.update(email, (current) => {
        before = current;
        result = observeAll(
          current,
          personChanges.map((c) => c.obs),
          policy,
        );
        const history: HistoryEntry[] = result.verdicts
          .filter((v) => v.verdict !== 'unchanged' && v.verdict !== 'alreadySubscribed')
          .map((v) => ({
            kind: 'observed',
            id: randomUUID(),
            at,
            source: v.observation.source,
            ...(v.observation.target ? { target: v.observation.target } : {}),
            value: v.observation.value,
            verdict: v.verdict,
            evidence: { ...v.observation.evidence, changedAt: v.observation.at },
            optedOut: v.optedOut,
          }));
        const viewsChanged = JSON.stringify(result.state.records) !== JSON.stringify(current.records);
        if (history.length === 0 && !viewsChanged) return undefined;
        return { state: result.state, history };
      });
      const origin = { marketo: false, salesforce: false };
      for (const v of result?.verdicts ?? []) {
        bump(verdicts, v.verdict);
        if (v.verdict === 'resubscribe') resubscribes.applied++;
        if (v.verdict === 'resubscribeRejected') resubscribes.rejected++;
        const real = ['optOut', 'resubscribe', 'alreadyOptedOut', 'drift', 'resubscribeRejected'].includes(
          v.verdict,
        );
        if (real && v.observation.source === 'marketo-nightly') origin.marketo = true;
        if (real && v.observation.source === 'salesforce-nightly') origin.salesforce = true;
      }
      origins.set(email, origin);
      // Webhook coverage: tonight's Marketo opt-outs, and whether the webhook had delivered them.
      const webhookAt = result?.state.webhookAt;
      // Our own write to that very lead coming back is not an opt-out of the night.
      const ownWrite = (v: { verdict: Verdict; observation: Observation }) =>
        v.verdict === 'echo' &&
        (before?.ourWrites ?? []).some(
          (w) => w.target === v.observation.target && w.value === v.observation.value,
        );
      const marketoOptOuts = (result?.verdicts ?? []).filter(
        (v) =>
          v.observation.source === 'marketo-nightly' &&
          v.observation.value &&
          v.observation.priorValue === false &&
          !ownWrite(v),
      );
      if (marketoOptOuts.length) {
        coverage.optOuts++;
        const first = Math.min(...marketoOptOuts.map((v) => Date.parse(v.observation.at)));
        if (webhookAt && Date.parse(webhookAt) >= first - WEBHOOK_COVERAGE_SLACK_MS)
          coverage.deliveredByWebhook++;
      }
    });

    // 3. Every record of every person who changed, brought in line.
    const aligned = await alignPeople(deps, emails, {
      cause,
      marketoReason: 'Opted out in Salesforce (nightly unsubscribe sync)',
    });
    const changesApplied = { marketoToSalesforce: 0, salesforceToMarketo: 0 };
    for (const [email, outcome] of aligned.byPerson) {
      const origin = origins.get(email);
      const wroteSf = outcome.writes.some((w) => w.ok && w.target.startsWith('salesforce:'));
      const wroteMk = outcome.writes.some((w) => w.ok && w.target.startsWith('marketo:'));
      if (origin?.marketo && wroteSf) changesApplied.marketoToSalesforce++;
      if (origin?.salesforce && wroteMk) changesApplied.salesforceToMarketo++;
    }
    for (const [v, n] of Object.entries(aligned.sightings)) bump(verdicts, `sighting.${v}`, n ?? 0);
    const failedByError: Record<string, number> = {};
    for (const f of aligned.failed) bump(failedByError, f.error ?? 'unknown');
    const pending = [...new Set(aligned.failed.filter((f) => f.retryable).map((f) => f.email))].slice(
      0,
      MAX_PENDING_PEOPLE,
    );

    // 4. Cursor and report.
    const until = started.toISOString();
    const moved = await deps.cursors.putValue<OptOutCursor>(
      OPT_OUT_CURSOR_ID,
      { marketoWatermark: until, salesforceWatermark: until, pendingPeople: pending },
      cursorItem?.version,
    );
    if (!moved)
      deps.logger.warn('Opt-out cursor moved by another run meanwhile; left as that run set it', { runId });
    const finished = nowOf(deps);
    const report: OptOutRunReport = {
      kind: 'optouts',
      runId,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationMs: finished.getTime() - started.getTime(),
      window: {
        marketoSince: marketoSince.toISOString(),
        salesforceSince: salesforceSince.toISOString(),
        until,
      },
      changesRead: { marketo: leadChanges.length, salesforce: salesforceRead },
      people: emails.length,
      verdicts,
      echoesIgnored: verdicts.echo ?? 0,
      resubscribes,
      disagreements: {
        ...aligned.disagreements,
        total: aligned.disagreements.salesforce + aligned.disagreements.marketo,
      },
      fixed: { ...aligned.written },
      changesApplied,
      writes: {
        ...aligned.written,
        failed: aligned.failed.length,
        retryableFailed: aligned.failed.filter((f) => f.retryable).length,
      },
      failedByError,
      skipped,
      apiCalls: {
        marketo: mk.callCounts().total - callsBefore.m,
        salesforce: sf.callCounts().total - callsBefore.s,
      },
      webhookCoverage: {
        ...coverage,
        percent: coverage.optOuts
          ? Math.round((coverage.deliveredByWebhook / coverage.optOuts) * 1000) / 10
          : null,
      },
      pendingPeople: pending.length,
    };
    await deps.runs.add('optouts', runId, {
      'read.marketo': report.changesRead.marketo,
      'read.salesforce': report.changesRead.salesforce,
      people: report.people,
      disagreements: report.disagreements.total,
      'written.salesforce': report.writes.salesforce,
      'written.marketo': report.writes.marketo,
      failed: report.writes.failed,
      echoes: report.echoesIgnored,
      'calls.marketo': report.apiCalls.marketo,
      'calls.salesforce': report.apiCalls.salesforce,
    });
    await deps.runs.finish('optouts', runId, 'completed', { report });
    recordJobCompleted('optouts');
    deps.logger.info('Nightly unsubscribe reconciliation done', { report });
    return report;
  } catch (err) {
    await deps.runs
      .finish('optouts', runId, 'failed', {
        error: err instanceof Error ? `${err.name}: ${err.message}` : 'unknown',
      })
      .catch(() => undefined);
    throw err;
  }
}
