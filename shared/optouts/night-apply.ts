import { randomUUID } from 'node:crypto';
import { emailRef } from '../domain/email.js';
import { type Observation, observeAll, type Verdict } from '../domain/opt-out-policy.js';
import type { HistoryEntry, OptOutState } from '../domain/opt-out-state.js';
import { alignPeople } from './align-people.js';
import { addTally, bump, emptyTally, type NightTally, type PoisonChunk } from './night-tally.js';
import { nowOf, type OptOutDeps, policyOf } from './opt-out-deps.js';

/**
 * One chunk of people of a night: feed each person's changes to the policy (echoes of our own
 * writes recognised), then bring every record of those people in line (alignPeople). A chunk that
 * throws is retried, then split in halves until the person who breaks it is alone; that person is
 * a poison chunk (reported, retried next night) and everyone else goes through.
 */

/** A Marketo change this close before the webhook delivery counts as delivered by it. */
const WEBHOOK_COVERAGE_SLACK_MS = 5 * 60 * 1000;
/** Attempts of one chunk before it is split (or, alone, declared poison). */
export const CHUNK_ATTEMPTS = 2;
const REAL_VERDICTS: readonly Verdict[] = [
  'optOut',
  'resubscribe',
  'alreadyOptedOut',
  'drift',
  'resubscribeRejected',
];

interface PersonOrigin {
  marketo: boolean;
  salesforce: boolean;
}

/** Step 2 for one person: the policy over tonight's changes, and the history that explains it. */
function observeChanges(
  current: OptOutState,
  changes: readonly Observation[],
  policy: ReturnType<typeof policyOf>,
  at: string,
): { result: ReturnType<typeof observeAll>; history: HistoryEntry[] } {
  const result = observeAll(current, changes, policy);
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
  return { result, history };
}

/** What tonight's changes of one person count for: verdicts, which side they came from, coverage. */
function tallyPerson(
  before: OptOutState | undefined,
  result: ReturnType<typeof observeAll> | undefined,
  tally: NightTally,
): PersonOrigin {
  const origin = { marketo: false, salesforce: false };
  const verdicts = result?.verdicts ?? [];
  for (const v of verdicts) {
    bump(tally.verdicts, v.verdict);
    if (v.verdict === 'resubscribe') tally.resubscribes.applied++;
    if (v.verdict === 'resubscribeRejected') tally.resubscribes.rejected++;
    if (!REAL_VERDICTS.includes(v.verdict)) continue;
    if (v.observation.source === 'marketo-nightly') origin.marketo = true;
    if (v.observation.source === 'salesforce-nightly') origin.salesforce = true;
  }
  // Webhook coverage: tonight's Marketo opt-outs (not our own write to that lead coming back).
  const ownWrite = (v: { verdict: Verdict; observation: Observation }) =>
    v.verdict === 'echo' &&
    (before?.ourWrites ?? []).some(
      (w) => w.target === v.observation.target && w.value === v.observation.value,
    );
  const marketoOptOuts = verdicts.filter(
    (v) =>
      v.observation.source === 'marketo-nightly' &&
      v.observation.value &&
      v.observation.priorValue === false &&
      !ownWrite(v),
  );
  if (marketoOptOuts.length) {
    tally.coverage.optOuts++;
    const first = Math.min(...marketoOptOuts.map((v) => Date.parse(v.observation.at)));
    const webhookAt = result?.state.webhookAt;
    if (webhookAt && Date.parse(webhookAt) >= first - WEBHOOK_COVERAGE_SLACK_MS)
      tally.coverage.deliveredByWebhook++;
  }
  return origin;
}

/** Steps 2 and 3 for a chunk of people, once (throws on any failure). */
async function applyPeopleOnce(
  deps: OptOutDeps,
  emails: readonly string[],
  changes: ReadonlyMap<string, readonly Observation[]>,
  cause: string,
): Promise<{ tally: NightTally; pending: string[] }> {
  const tally = emptyTally();
  const policy = policyOf(deps);
  const at = nowOf(deps).toISOString();
  // Tonight's changes go through the policy in the same state write as the alignment's sightings;
  // the last call per person is the one stored (the store calls again after a concurrent write).
  const observed = new Map<string, { before: OptOutState; result: ReturnType<typeof observeAll> }>();
  const aligned = await alignPeople(deps, emails, {
    cause,
    marketoReason: 'Opted out in Salesforce (nightly unsubscribe sync)',
    observe: (email, current) => {
      const { result, history } = observeChanges(current, changes.get(email) ?? [], policy, at);
      observed.set(email, { before: current, result });
      return { state: result.state, history };
    },
  });
  const origins = new Map<string, PersonOrigin>();
  for (const email of emails) {
    const o = observed.get(email);
    origins.set(email, tallyPerson(o?.before, o?.result, tally));
  }
  for (const [email, outcome] of aligned.byPerson) {
    const origin = origins.get(email);
    const wrote = (system: string) => outcome.writes.some((w) => w.ok && w.target.startsWith(`${system}:`));
    if (origin?.marketo && wrote('salesforce')) tally.changesApplied.marketoToSalesforce++;
    if (origin?.salesforce && wrote('marketo')) tally.changesApplied.salesforceToMarketo++;
  }
  for (const [v, n] of Object.entries(aligned.sightings)) bump(tally.verdicts, `sighting.${v}`, n ?? 0);
  // A resubscribe found while aligning (a record read before its side's chunk) counts the same.
  tally.resubscribes.applied += aligned.sightings.resubscribe ?? 0;
  tally.resubscribes.rejected += aligned.sightings.resubscribeRejected ?? 0;
  for (const f of aligned.failed) bump(tally.failedByError, f.error ?? 'unknown');
  tally.people = emails.length;
  tally.disagreements = { ...aligned.disagreements };
  tally.written = { ...aligned.written };
  tally.failed = aligned.failed.length;
  tally.retryableFailed = aligned.failed.filter((f) => f.retryable).length;
  const pending = [...new Set(aligned.failed.filter((f) => f.retryable).map((f) => f.email))];
  return { tally, pending };
}

export interface PeopleOutcome {
  tally: NightTally;
  /** People whose writes failed with a retryable error, or who were poison: retried next night. */
  pending: string[];
  poison: PoisonChunk[];
}

/**
 * Steps 2 and 3 for a chunk of people, isolated: retried, then split until what fails is one
 * person. Re-running a part is safe: the policy is idempotent and alignment writes only records
 * that still disagree.
 */
export async function applyPeople(
  deps: OptOutDeps,
  emails: readonly string[],
  changes: ReadonlyMap<string, readonly Observation[]>,
  cause: string,
): Promise<PeopleOutcome> {
  let lastError: unknown;
  const retried = emptyTally();
  for (let attempt = 1; attempt <= CHUNK_ATTEMPTS; attempt++) {
    try {
      const { tally, pending } = await applyPeopleOnce(deps, emails, changes, cause);
      tally.chunks.retried += retried.chunks.retried;
      return { tally, pending, poison: [] };
    } catch (err) {
      lastError = err;
      retried.chunks.retried++;
    }
  }
  const error = lastError instanceof Error ? lastError.name : 'unknown';
  if (emails.length === 1) {
    const ref = emailRef(emails[0] as string);
    deps.logger.warn('Opt-out person failed every attempt tonight; the night goes on without them', {
      person: ref,
      error,
      ...(lastError instanceof Error ? { message: lastError.message } : {}),
    });
    const tally = emptyTally();
    tally.chunks.retried = retried.chunks.retried;
    tally.chunks.poison = 1;
    return {
      tally,
      pending: [...emails],
      poison: [{ kind: 'person', ref, error, attempts: CHUNK_ATTEMPTS }],
    };
  }
  const half = Math.ceil(emails.length / 2);
  const parts = [emails.slice(0, half), emails.slice(half)];
  const outcomes = [];
  for (const part of parts) outcomes.push(await applyPeople(deps, part, changes, cause));
  let sum = emptyTally();
  for (const o of outcomes) sum = addTally(sum, o.tally);
  sum.chunks.retried += retried.chunks.retried;
  sum.chunks.split += 1;
  return {
    tally: sum,
    pending: outcomes.flatMap((o) => o.pending),
    poison: outcomes.flatMap((o) => o.poison),
  };
}
