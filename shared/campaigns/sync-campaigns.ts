import {
  foldMemberships,
  lastFiveStatuses,
  type MemberStatus,
  type MembershipStatus,
} from '../domain/campaign-status.js';
import { readWindow } from '../domain/read-window.js';
import type {
  CampaignPersonState,
  CampaignStateStore,
  CampaignWriter,
  EmailActivityRow,
  EmailActivitySource,
  MemberWrite,
} from '../ports/campaign-writer.js';
import { campaignEvents } from './campaign-events.js';
import { resolveCampaigns } from './resolve-campaigns.js';

export interface CampaignSyncSettings {
  lookbackDays: number;
  overlapMinutes: number;
  /** Programs whose name matches sync (a case-insensitive regular expression); unset = every program. */
  programFilter?: string | undefined;
  /** Explicit program → Campaign Id or name (settings campaigns.programs), before name-based creation. */
  programs?: Readonly<Record<string, string>> | undefined;
  /** Write the last-five-statuses field on Lead and Contact. */
  lastFiveField: boolean;
}

export interface CampaignSyncDeps {
  source: EmailActivitySource;
  writer: CampaignWriter;
  store: CampaignStateStore;
  settings: CampaignSyncSettings;
  clock?: () => number;
  /** Stop starting new chunks after this long (a Lambda run's 15 minutes); unset = no limit. */
  budgetMs?: number;
  /** Rows per chunk (default 10,000). */
  chunkRows?: number;
}

export interface CampaignSyncReport {
  since: string;
  until: string;
  read: number;
  campaignsCreated: number;
  memberStatusesAdded: number;
  membersWritten: number;
  membersByStatus: Record<MemberStatus, number>;
  convertedReplaced: number;
  lastFiveWritten: number;
  skipped: {
    noProgram: number;
    filteredOut: number;
    noSalesforcePerson: number;
    optedOutBeforeFirstSend: number;
    unchanged: number;
  };
  failed: number;
  /** False when the run stopped at its time budget (watermark checkpointed; the next run continues). */
  complete: boolean;
}

/** Email activity rows applied per chunk (about 34 Marketo pages) between time-budget checks. */
const ROWS_PER_CHUNK = 10_000;

/**
 * One job-4b cycle: Marketo email activity since the watermark → one Salesforce Campaign per
 * program (created with its member statuses when missing) and one CampaignMember per person at the
 * furthest status reached; people who opted out before the program's first send are left out and a
 * converted Lead is replaced by its Contact.
 */
export async function syncCampaigns(deps: CampaignSyncDeps): Promise<CampaignSyncReport> {
  const { settings } = deps;
  const { since, until } = readWindow(await deps.store.getWatermark(), settings, (deps.clock ?? Date.now)());
  const report: CampaignSyncReport = {
    since: since.toISOString(),
    until: until.toISOString(),
    read: 0,
    campaignsCreated: 0,
    memberStatusesAdded: 0,
    membersWritten: 0,
    membersByStatus: { Sent: 0, Delivered: 0, Opened: 0, Clicked: 0, Bounced: 0, Unsubscribed: 0 },
    convertedReplaced: 0,
    lastFiveWritten: 0,
    skipped: {
      noProgram: 0,
      filteredOut: 0,
      noSalesforcePerson: 0,
      optedOutBeforeFirstSend: 0,
      unchanged: 0,
    },
    failed: 0,
    complete: true,
  };
  const clock = deps.clock ?? Date.now;
  const started = clock();
  const budget = deps.budgetMs ?? Number.POSITIVE_INFINITY;
  // Pages in chunks: each chunk's members, last-five fields and state are written before the next
  // is read, so a run stopped by its time budget checkpoints the watermark at the last activity it
  // applied and the next run continues there (re-reading the overlap folds to the same state).
  let group: EmailActivityRow[] = [];
  const excludedPairs = new Set<string>();
  let appliedUntil: string | undefined;
  const pages = deps.source.emailActivityPages(since, until)[Symbol.asyncIterator]();
  for (;;) {
    const page = await pages.next();
    if (!page.done) group.push(...page.value);
    if (!page.done && group.length < (deps.chunkRows ?? ROWS_PER_CHUNK)) continue;
    if (group.length > 0) {
      await applyChunk(deps, group, report, excludedPairs);
      appliedUntil = group.reduce(
        (max, r) => (r.activityDate > max ? r.activityDate : max),
        appliedUntil ?? '',
      );
      group = [];
    }
    if (page.done) break;
    if (clock() - started >= budget) {
      report.complete = false;
      await pages.return?.(undefined);
      break;
    }
  }
  if (report.failed > 0) return report;
  if (report.complete) await deps.store.putWatermark(until.toISOString());
  else if (appliedUntil) await deps.store.putWatermark(new Date(appliedUntil).toISOString());
  return report;
}

/** One chunk of email activity rows: fold, Campaigns, members, last-five fields and stored state. */
async function applyChunk(
  deps: CampaignSyncDeps,
  rows: readonly EmailActivityRow[],
  report: CampaignSyncReport,
  excludedPairs: Set<string>,
): Promise<void> {
  const { people, kept, state, optedOutAt, excluded, changedFirst, counts } = await campaignEvents(
    deps,
    deps.settings,
    rows,
  );
  report.read += counts.read;
  report.convertedReplaced += counts.convertedReplaced;
  report.skipped.noProgram += counts.noProgram;
  report.skipped.filteredOut += counts.filteredOut;
  report.skipped.noSalesforcePerson += counts.noSalesforcePerson;
  // Counted once per (person, program) over the run's chunks.
  for (const k of excluded) excludedPairs.add(k);
  report.skipped.optedOutBeforeFirstSend = excludedPairs.size;

  const writes: (MemberWrite & { key: string; membership: MembershipStatus })[] = [];
  const next = new Map<string, MembershipStatus[]>();
  for (const [key, person] of people) {
    const before = new Map(
      (state.get(key)?.memberships ?? []).map((m) => [`${key}\u0000${m.campaign}`, { ...m, personKey: key }]),
    );
    const after = foldMemberships(
      before,
      kept.filter((e) => e.personKey === key),
    );
    next.set(
      key,
      [...after.values()].map(({ personKey: _p, ...m }) => m),
    );
    for (const [k, m] of after) {
      const had = before.get(k);
      if (had && had.status === m.status) {
        if (kept.some((e) => `${e.personKey}\u0000${e.campaign}` === k)) report.skipped.unchanged += 1;
        continue;
      }
      writes.push({ key, campaignId: '', person, status: m.status, membership: m });
    }
  }

  // Campaigns: the mapped one or one per program, created with every member status the sync writes.
  const names = [...new Set(writes.map((w) => w.membership.campaign))];
  const resolved = await resolveCampaigns(deps.writer, names, deps.settings.programs ?? {}, { create: true });
  const campaigns = resolved.campaigns;
  report.campaignsCreated += resolved.created;
  report.memberStatusesAdded += resolved.memberStatusesAdded;
  for (const w of writes) w.campaignId = campaigns.get(w.membership.campaign)?.id ?? '';
  const results = writes.length > 0 ? await deps.writer.upsertMembers(writes) : [];
  const failedKeys = new Set<string>();
  results.forEach((r, i) => {
    const w = writes[i];
    if (!w) return;
    if (r.ok) {
      report.membersWritten += 1;
      report.membersByStatus[w.status] += 1;
    } else {
      report.failed += 1;
      failedKeys.add(w.key);
    }
  });

  // Persist what Salesforce now holds; a person with a failed write keeps the old state (retried).
  const toStore: ({ key: string } & CampaignPersonState)[] = [];
  const lastFiveWrites: { sobject: 'Lead' | 'Contact'; id: string; value: string }[] = [];
  for (const [key, person] of people) {
    if (failedKeys.has(key)) continue;
    const memberships = next.get(key) ?? [];
    const previous = state.get(key)?.lastFive;
    let lastFive = previous;
    if (deps.settings.lastFiveField) {
      lastFive = lastFiveStatuses(memberships);
      if (lastFive !== previous) lastFiveWrites.push({ ...person, value: lastFive });
    }
    const out = optedOutAt.get(key);
    toStore.push({
      key,
      memberships,
      ...(lastFive !== undefined ? { lastFive } : {}),
      ...(out !== undefined ? { optedOutAt: out } : {}),
    });
  }
  if (lastFiveWrites.length > 0) {
    await deps.writer.writeLastFive(lastFiveWrites);
    report.lastFiveWritten += lastFiveWrites.length;
  }
  await deps.store.putPeople(toStore);
  if (changedFirst.size > 0) await deps.store.putFirstSends(changedFirst);
}
