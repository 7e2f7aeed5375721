import { randomUUID } from 'node:crypto';
import { emailRef } from '../domain/email.js';
import { mapLimit } from '../domain/map-limit.js';
import {
  confirmWrites,
  type Observation,
  observe,
  planWrites,
  rememberWrites,
  type Verdict,
} from '../domain/opt-out-policy.js';
import { type HistoryEntry, type OptOutState, systemOf, type TargetKey } from '../domain/opt-out-state.js';
import { nowOf, type OptOutDeps, policyOf } from './opt-out-deps.js';
import {
  findMarketoLeads,
  findSalesforceRecords,
  type PersonRecord,
  type WriteOutcome,
  writeMarketo,
  writeSalesforce,
} from './person-records.js';
import { sightedResubscribes } from './salesforce-field-history.js';

/**
 * Brings every record of some people in line with their decided opt-out: find all their Leads,
 * Contacts and Marketo leads; take any record that disagrees and that we did not know about as an
 * observation (a system saying "opted out" wins); remember the writes we are about to make (echo
 * suppression, before sending); write; record what landed and what failed in the history.
 * Used by the webhook consumer (one person) and by the nightly run (everyone who changed).
 */

export interface AlignOptions {
  /** The webhook event id or nightly run id that causes the writes. */
  cause: string;
  /** Per person: when the change was accepted, for the write latency in the history. */
  latencyFrom?: ReadonlyMap<string, string>;
  /** Only this side (the webhook consumer writes both; tests may narrow). */
  systems?: { salesforce: boolean; marketo: boolean };
  /** Reason written to Marketo's unsubscribedReason. */
  marketoReason?: string;
  /**
   * Changes to apply to each person's stored state before the sightings, in the same write (the
   * night feeds tonight's changes through the policy here: one state write per person, not two).
   * Called again on a concurrent write, so it must be a pure function of its input.
   */
  observe?: (email: string, current: OptOutState) => { state: OptOutState; history: HistoryEntry[] };
}

export interface AlignResult {
  people: number;
  /** Verdicts of records found disagreeing that we had not seen before. */
  sightings: Partial<Record<Verdict, number>>;
  /** Records whose value disagreed with the decision (each one planned for a write). */
  disagreements: { salesforce: number; marketo: number };
  written: { salesforce: number; marketo: number };
  failed: (WriteOutcome & { email: string })[];
  /** Planned writes dropped because the person's decision changed before they were sent. */
  superseded: number;
  /** Decided value and outcome per person. */
  byPerson: Map<string, { optedOut: boolean; writes: WriteOutcome[] }>;
}

/** People whose state is written at once (each write is a few DynamoDB calls, latency-bound). */
const STATE_WRITES_IN_FLIGHT = 16;

const bump = (counts: Partial<Record<string, number>>, key: string, by = 1) => {
  counts[key] = (counts[key] ?? 0) + by;
};

export async function alignPeople(
  deps: OptOutDeps,
  emails: readonly string[],
  options: AlignOptions,
): Promise<AlignResult> {
  const policy = policyOf(deps);
  const field = deps.settings.optOuts.salesforceField;
  const systems = options.systems ?? { salesforce: true, marketo: true };
  const result: AlignResult = {
    people: emails.length,
    sightings: {},
    disagreements: { salesforce: 0, marketo: 0 },
    written: { salesforce: 0, marketo: 0 },
    failed: [],
    superseded: 0,
    byPerson: new Map(),
  };
  if (emails.length === 0) return result;
  const now = nowOf(deps);

  // 1. Every record carrying these emails, on both sides.
  const found: PersonRecord[] = [];
  if (systems.salesforce) {
    const sf = await deps.salesforce();
    found.push(...(await findSalesforceRecords(sf, field, emails, now)));
  }
  if (systems.marketo) found.push(...(await findMarketoLeads(await deps.marketo(), emails, now)));
  const byEmail = new Map<string, PersonRecord[]>();
  for (const r of found) byEmail.set(r.email, [...(byEmail.get(r.email) ?? []), r]);
  // 1b. A Salesforce record reading "subscribed" where we last saw it opted out, when Salesforce may
  // resubscribe: dated by its field history (the change itself), not by the lower bound. The views
  // are taken after `observe`: a record among tonight's changes was dated by the night's own read
  // (and agrees with its view, so step 2 does not observe it again): its history is not read twice.
  let resubscribed = new Map<TargetKey, { historyId: string; at: string }>();
  if (systems.salesforce && policy.resubscribeSources.includes('salesforce')) {
    const stored = await deps.store.getMany(emails.filter((e) => byEmail.has(e)));
    const candidates = emails.flatMap((email) => {
      const current = stored.get(email)?.state;
      if (!current) return [];
      const views = (options.observe?.(email, current).state ?? current).records;
      return (byEmail.get(email) ?? []).flatMap((r) => {
        const view = views[r.target];
        return systemOf(r.target) === 'salesforce' && !r.optedOut && view?.optedOut
          ? [{ target: r.target, since: view.at }]
          : [];
      });
    });
    if (candidates.length)
      resubscribed = await sightedResubscribes(await deps.salesforce(), { field, candidates });
  }

  // 2. Per person: sightings → decision → planned writes, remembered before they are sent.
  const plans = await mapLimit(emails, STATE_WRITES_IN_FLIGHT, async (email) => {
    const records = byEmail.get(email) ?? [];
    let plan: { target: TargetKey; value: boolean }[] = [];
    let verdicts: Verdict[] = [];
    const at = now.toISOString();
    const r = await deps.store.update(email, (current) => {
      const observed = options.observe?.(email, current);
      let state: OptOutState = observed?.state ?? current;
      const history: HistoryEntry[] = [...(observed?.history ?? [])];
      let viewsChanged = observed !== undefined && JSON.stringify(state) !== JSON.stringify(current);
      verdicts = [];
      for (const rec of records) {
        const view = state.records[rec.target];
        if (view && view.optedOut === rec.optedOut) continue;
        viewsChanged = true;
        const obs: Observation = {
          source: systemOf(rec.target) === 'marketo' ? 'marketo-nightly' : 'salesforce-nightly',
          target: rec.target,
          value: rec.optedOut,
          at: rec.at,
          evidence: { runId: options.cause },
        };
        const change = rec.optedOut ? undefined : resubscribed.get(rec.target);
        if (change) {
          obs.at = change.at;
          obs.priorValue = true;
          obs.evidence = { runId: options.cause, historyId: change.historyId };
        }
        const o = observe(state, obs, policy);
        state = o.state;
        if (o.verdict === 'alreadySubscribed' || o.verdict === 'unchanged') continue;
        verdicts.push(o.verdict);
        history.push({
          kind: 'observed',
          id: randomUUID(),
          at,
          source: obs.source,
          target: rec.target,
          value: rec.optedOut,
          verdict: o.verdict,
          evidence: obs.evidence,
          optedOut: state.optedOut,
        });
      }
      plan = planWrites(state, records);
      if (plan.length) state = rememberWrites(state, plan, at, options.cause, policy);
      if (!viewsChanged && plan.length === 0 && history.length === 0) return undefined;
      return { state, history };
    });
    for (const v of verdicts) bump(result.sightings, v);
    return { email, plan, optedOut: r.state.optedOut };
  });

  // 3. Re-check before writing: a webhook or another run may have changed a person's decision
  // since the plan was stored; a write that no longer matches the stored decision is dropped (the
  // change that moved it aligns the records itself).
  const planned = plans.filter((p) => p.plan.length > 0);
  const current = planned.length ? await deps.store.getMany(planned.map((p) => p.email)) : new Map();
  for (const p of planned) {
    const now = current.get(p.email)?.state.optedOut;
    if (now === p.optedOut) continue;
    result.superseded += p.plan.length;
    p.plan = [];
    p.optedOut = now ?? p.optedOut;
  }

  // 4. The writes, batched across people.
  const all = plans.flatMap((p) => p.plan);
  for (const w of all) result.disagreements[systemOf(w.target)]++;
  const outcomes: WriteOutcome[] = [];
  const sfWrites = all.filter((w) => systemOf(w.target) === 'salesforce');
  const mkWrites = all.filter((w) => systemOf(w.target) === 'marketo');
  if (sfWrites.length) {
    const sf = await deps.salesforce();
    outcomes.push(...(await writeSalesforce(sf, field, sfWrites)));
  }
  if (mkWrites.length) {
    const mk = await deps.marketo();
    const reason = options.marketoReason ?? 'Opted out in Salesforce (unsubscribe sync)';
    outcomes.push(
      ...(await writeMarketo(
        mk,
        mkWrites.map((w) => ({ ...w, reason })),
      )),
    );
  }
  const outcomeByTarget = new Map(outcomes.map((o) => [o.target, o]));

  // 5. What landed, what failed (failed retryable targets are retried by the next run).
  const landedAt = nowOf(deps).toISOString();
  await mapLimit(plans, STATE_WRITES_IN_FLIGHT, async ({ email, plan, optedOut }) => {
    const writes = plan.flatMap((w) => {
      const o = outcomeByTarget.get(w.target);
      return o ? [o] : [];
    });
    result.byPerson.set(email, { optedOut, writes });
    for (const o of writes) {
      if (o.ok) result.written[systemOf(o.target)]++;
      else result.failed.push({ ...o, email });
    }
    if (writes.length === 0) return;
    const from = options.latencyFrom?.get(email);
    await deps.store.update(email, (current) => {
      const ok = writes.filter((w) => w.ok);
      const state = confirmWrites(current, ok, landedAt);
      const pending = writes.filter((w) => !w.ok && w.retryable).map((w) => w.target);
      const history: HistoryEntry[] = writes.map((w) =>
        w.ok
          ? {
              kind: 'written',
              id: `${options.cause}:${w.target}`,
              at: landedAt,
              target: w.target,
              value: w.value,
              cause: options.cause,
              ...(from ? { latencyMs: Date.parse(landedAt) - Date.parse(from) } : {}),
            }
          : {
              kind: 'writeFailed',
              id: `${options.cause}:${w.target}`,
              at: landedAt,
              target: w.target,
              value: w.value,
              cause: options.cause,
              error: w.error ?? 'unknown',
              retryable: w.retryable ?? true,
            },
      );
      const stillPending = [...new Set([...(state.pendingTargets ?? []), ...pending])].filter(
        (t) => !ok.some((w) => w.target === t),
      );
      return {
        state: {
          ...state,
          ...(stillPending.length ? { pendingTargets: stillPending } : { pendingTargets: [] }),
        },
        history,
      };
    });
    if (writes.some((w) => !w.ok)) {
      deps.logger.warn('Some opt-out writes failed', {
        person: emailRef(email),
        failed: writes.filter((w) => !w.ok).map((w) => ({ target: w.target, error: w.error })),
      });
    }
  });
  return result;
}
