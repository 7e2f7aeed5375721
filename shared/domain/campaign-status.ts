/**
 * Job 4b's pure rules (seed 004): a Marketo email program is a Salesforce Campaign; each member's
 * status is the furthest step the person reached, never going backwards.
 */

export type MemberStatus = 'Sent' | 'Delivered' | 'Opened' | 'Clicked' | 'Bounced' | 'Unsubscribed';

/**
 * Every value the sync writes, in rank order. One total order makes "the furthest step" a maximum,
 * so the result is the same whatever order activities arrive or are read in. `Bounced` and
 * `Unsubscribed` outrank every step (terminal); of the two, `Unsubscribed` wins (the person's own
 * statement outranks a mailbox's answer).
 */
export const MEMBER_STATUSES: readonly MemberStatus[] = [
  'Sent',
  'Delivered',
  'Opened',
  'Clicked',
  'Bounced',
  'Unsubscribed',
];

const RANK = new Map(MEMBER_STATUSES.map((s, i) => [s, i]));

/** Marketo standard activity type ids (API-NOTES) → the member status each one means. */
export const EMAIL_ACTIVITY_STATUS: ReadonlyMap<number, MemberStatus> = new Map([
  [6, 'Sent'], // Send Email
  [7, 'Delivered'], // Email Delivered
  [10, 'Opened'], // Open Email
  [11, 'Clicked'], // Click Email
  [8, 'Bounced'], // Email Bounced (hard)
  [9, 'Unsubscribed'], // Unsubscribe Email
]);

export function furthest(a: MemberStatus | undefined, b: MemberStatus): MemberStatus {
  if (a === undefined) return b;
  return (RANK.get(b) ?? 0) > (RANK.get(a) ?? 0) ? b : a;
}

/** True when `next` may replace `current` (strictly further; terminal statuses never change). */
export function advances(current: MemberStatus | undefined, next: MemberStatus): boolean {
  return furthest(current, next) !== current;
}

/**
 * The program part of an email asset name `Program.Email`. Marketo joins them with a dot; an
 * email name rarely holds one while program names often do (`Webinar 2.0`), so the split is at
 * the last dot. A name without a dot has no program.
 */
export function programOf(emailAssetName: string): string | undefined {
  const i = emailAssetName.lastIndexOf('.');
  if (i <= 0) return undefined;
  const program = emailAssetName.slice(0, i).trim();
  return program === '' ? undefined : program;
}

export interface MembershipStatus {
  campaign: string;
  status: MemberStatus;
  /** When the status was reached (ISO). */
  at: string;
}

/**
 * The last-five field: the person's five most recent campaign statuses, newest first, one per
 * line, `2026-12-01 Opened — Newsletter Q3`. Ties (same instant) order by campaign name, so the
 * text depends only on the memberships, never on reading order.
 */
export function lastFiveStatuses(memberships: readonly MembershipStatus[]): string {
  return [...memberships]
    .sort((a, b) => (a.at === b.at ? a.campaign.localeCompare(b.campaign) : a.at < b.at ? 1 : -1))
    .slice(0, 5)
    .map((m) => `${m.at.slice(0, 10)} ${m.status} — ${m.campaign}`)
    .join('\n');
}

export interface EmailEvent {
  personKey: string;
  campaign: string;
  status: MemberStatus;
  at: string;
}

/**
 * Folds email events into one status per (person, campaign): the furthest status, dated when it
 * was first reached. Commutative and associative, so any arrival order gives the same result.
 */
export function foldMemberships(
  current: ReadonlyMap<string, MembershipStatus & { personKey: string }>,
  events: readonly EmailEvent[],
): Map<string, MembershipStatus & { personKey: string }> {
  const out = new Map(current);
  for (const e of events) {
    const key = `${e.personKey}\u0000${e.campaign}`;
    const had = out.get(key);
    const status = furthest(had?.status, e.status);
    // Dated when the furthest status was first reached: the earliest event carrying it.
    const at = !had || had.status !== status ? e.at : e.status === status && e.at < had.at ? e.at : had.at;
    out.set(key, { personKey: e.personKey, campaign: e.campaign, status, at });
  }
  return out;
}
