import type { Verdict } from '../domain/opt-out-policy.js';

/**
 * What a nightly reconciliation has done so far, added up chunk by chunk and kept in the
 * checkpoint between invocations (ids and counts only: never an email).
 */

/** A chunk that kept failing after its retries: the night went on without it. */
export interface PoisonChunk {
  /** `marketo-page`, `salesforce-page` (a read) or `person` (observing/aligning one person). */
  kind: 'marketo-page' | 'salesforce-page' | 'person';
  /** Where it was: a paging position, or the person's emailRef. */
  ref: string;
  error: string;
  attempts: number;
  /** Nights this person has been poison in a row (people are retried by the next night). */
  nights?: number;
}

/** How the night dated Salesforce records reading "subscribed" (only when Salesforce may resubscribe). */
export interface FieldHistoryTally {
  /** History queries made (one per chunk with such records). */
  queries: number;
  /** Records dated by their history row (the field's change to "subscribed"). */
  dated: number;
  /** Records with no such row (field not tracked, change outside the window): the lower bound. */
  undated: number;
  /** Objects whose history the org refused (INVALID_TYPE): the rest of the run uses the lower bound. */
  unsupported: number;
}

export const emptyFieldHistoryTally = (): FieldHistoryTally => ({
  queries: 0,
  dated: 0,
  undated: 0,
  unsupported: 0,
});

export interface NightTally {
  changesRead: { marketo: number; salesforce: number };
  people: number;
  verdicts: Partial<Record<Verdict | `sighting.${Verdict}`, number>>;
  resubscribes: { applied: number; rejected: number };
  disagreements: { salesforce: number; marketo: number };
  written: { salesforce: number; marketo: number };
  changesApplied: { marketoToSalesforce: number; salesforceToMarketo: number };
  failed: number;
  retryableFailed: number;
  failedByError: Record<string, number>;
  skipped: Record<string, number>;
  apiCalls: { marketo: number; salesforce: number };
  coverage: { optOuts: number; deliveredByWebhook: number };
  chunks: { done: number; retried: number; split: number; poison: number };
  /** Absent in checkpoints written before it existed. */
  fieldHistory?: FieldHistoryTally;
}

/** Poison chunks kept in the report (the count is exact; the list is capped). */
export const MAX_POISON_LISTED = 100;

export function emptyTally(): NightTally {
  return {
    changesRead: { marketo: 0, salesforce: 0 },
    people: 0,
    verdicts: {},
    resubscribes: { applied: 0, rejected: 0 },
    disagreements: { salesforce: 0, marketo: 0 },
    written: { salesforce: 0, marketo: 0 },
    changesApplied: { marketoToSalesforce: 0, salesforceToMarketo: 0 },
    failed: 0,
    retryableFailed: 0,
    failedByError: {},
    skipped: {},
    apiCalls: { marketo: 0, salesforce: 0 },
    coverage: { optOuts: 0, deliveredByWebhook: 0 },
    chunks: { done: 0, retried: 0, split: 0, poison: 0 },
    fieldHistory: emptyFieldHistoryTally(),
  };
}

export const bump = (counts: Partial<Record<string, number>>, key: string, by = 1) => {
  counts[key] = (counts[key] ?? 0) + by;
};

type Countable = number | { [k: string]: Countable | undefined };

function addInto(
  target: { [k: string]: Countable | undefined },
  add: { [k: string]: Countable | undefined },
) {
  for (const [k, v] of Object.entries(add)) {
    if (v === undefined) continue;
    const cur = target[k];
    if (typeof v === 'number') target[k] = (typeof cur === 'number' ? cur : 0) + v;
    else {
      const inner = typeof cur === 'object' ? cur : {};
      addInto(inner, v);
      target[k] = inner;
    }
  }
}

/** a + b, field by field (every leaf is a count). */
export function addTally(a: NightTally, b: NightTally): NightTally {
  const out = structuredClone(a) as unknown as { [k: string]: Countable };
  addInto(out, b as unknown as { [k: string]: Countable });
  return out as unknown as NightTally;
}
