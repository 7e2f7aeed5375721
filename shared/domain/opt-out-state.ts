/**
 * The opt-out state of one person (one normalised email), as kept in the `optOuts` table.
 * Pure types and helpers: no SDK imports. The policy that changes it is opt-out-policy.ts.
 */

/** Where an observation of an opt-out (or resubscribe) came from. */
export type OptOutSource = 'webhook' | 'marketo-nightly' | 'salesforce-nightly';

/** The names settings.optOuts.resubscribeSources uses for the same origins. */
export type OptOutOrigin = 'webhook' | 'marketo' | 'salesforce';

export type OptOutSystem = 'marketo' | 'salesforce';

export type SalesforcePersonObject = 'Lead' | 'Contact';

export function originOf(source: OptOutSource): OptOutOrigin {
  switch (source) {
    case 'webhook':
      return 'webhook';
    case 'marketo-nightly':
      return 'marketo';
    case 'salesforce-nightly':
      return 'salesforce';
  }
}

/**
 * A record on one side that carries the person's opt-out, as a stable string key:
 * `marketo:<leadId>` or `salesforce:<Lead|Contact>:<Id>`.
 */
export type TargetKey = string;

export function marketoTarget(leadId: number | string): TargetKey {
  return `marketo:${leadId}`;
}

export function salesforceTarget(sobject: SalesforcePersonObject, id: string): TargetKey {
  return `salesforce:${sobject}:${id}`;
}

export type ParsedTarget =
  | { system: 'marketo'; leadId: number }
  | { system: 'salesforce'; sobject: SalesforcePersonObject; id: string };

export function parseTarget(target: TargetKey): ParsedTarget {
  const [system, a, b] = target.split(':');
  if (system === 'marketo' && a && /^\d+$/.test(a)) return { system, leadId: Number(a) };
  if (system === 'salesforce' && (a === 'Lead' || a === 'Contact') && b) {
    return { system, sobject: a, id: b };
  }
  throw new Error(`Not an opt-out target key: ${JSON.stringify(target)}`);
}

export function systemOf(target: TargetKey): OptOutSystem {
  return target.startsWith('marketo:') ? 'marketo' : 'salesforce';
}

/** What proves an observation: ids only, never the address itself. */
export interface Evidence {
  eventId?: string;
  leadId?: number;
  recordId?: string;
  sobject?: SalesforcePersonObject;
  activityGuid?: string;
  runId?: string;
  reason?: string;
  /** When the change happened on its side (history entries are stamped when we recorded them). */
  changedAt?: string;
  /** The Salesforce field history row (LeadHistory / ContactHistory Id) that dates the change. */
  historyId?: string;
}

/** One record's opt-out value as last seen or written by us. */
export interface RecordView {
  optedOut: boolean;
  /** When that value was observed on the record (or written there by us). */
  at: string;
}

/** A write of ours, remembered so that its echo is not taken for a new change. */
export interface OurWrite {
  target: TargetKey;
  value: boolean;
  /** When we decided to write (before the request was sent: echoes are never older). */
  at: string;
  /** The webhook event or nightly run that caused it. */
  cause: string;
}

export interface LastChange {
  source: OptOutSource;
  value: boolean;
  at: string;
  evidence: Evidence;
}

export interface OptOutState {
  email: string;
  /** The decided value every record should carry: true = opted out. */
  optedOut: boolean;
  /** Latest time an opt-out was observed (not counting our own echoes). */
  optedOutAt?: string;
  /** Latest time an allowed resubscribe was observed. Wins only when newer than optedOutAt. */
  resubscribedAt?: string;
  /** The last observation that changed or confirmed the decision. */
  lastChange?: LastChange;
  /** Latest webhook delivery for this person (webhook coverage in the nightly report). */
  webhookAt?: string;
  /** Every record known to carry this email, with its last known value. */
  records: Record<TargetKey, RecordView>;
  /** Recent writes of ours (pruned after the echo window). */
  ourWrites: OurWrite[];
  /** Count of resubscribes recorded but not applied (opt-out kept). */
  rejectedResubscribes: number;
  /** Records that could not be brought in line yet; the next nightly run retries them. */
  pendingTargets?: TargetKey[];
  updatedAt: string;
}

export function emptyOptOutState(email: string, now: string): OptOutState {
  return { email, optedOut: false, records: {}, ourWrites: [], rejectedResubscribes: 0, updatedAt: now };
}

/** An append-only history entry (one item `H#<at>#<id>` in the table). */
export type HistoryEntry =
  | {
      kind: 'observed';
      id: string;
      at: string;
      source: OptOutSource;
      target?: TargetKey;
      value: boolean;
      verdict: string;
      evidence: Evidence;
      /** The decided value after this observation. */
      optedOut: boolean;
    }
  | {
      kind: 'written';
      id: string;
      at: string;
      target: TargetKey;
      value: boolean;
      cause: string;
      /** Milliseconds from the change being accepted/observed to our write landing. */
      latencyMs?: number;
    }
  | {
      kind: 'writeFailed';
      id: string;
      at: string;
      target: TargetKey;
      value: boolean;
      cause: string;
      error: string;
      retryable: boolean;
    };

export function historySortKey(entry: Pick<HistoryEntry, 'at' | 'id'>): string {
  return `H#${entry.at}#${entry.id}`;
}

export function maxIso(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Date.parse(b) > Date.parse(a) ? b : a;
}
