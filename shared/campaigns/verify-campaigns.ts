import { foldMemberships, lastFiveStatuses, type MembershipStatus } from '../domain/campaign-status.js';
import type {
  CampaignReadBack,
  CampaignStateStore,
  CampaignWriter,
  EmailActivitySource,
} from '../ports/campaign-writer.js';
import { campaignEvents } from './campaign-events.js';
import { resolveCampaigns } from './resolve-campaigns.js';
import type { CampaignSyncSettings } from './sync-campaigns.js';

/**
 * Job 4b reconciliation, read-only: the Marketo email activity in the window, folded as the sync
 * folds it (same program, person, exclusion rules), against what Salesforce holds — each member's
 * CampaignMember status must equal the furthest step of their activities, and each person's
 * last-five field must be exactly the text of their memberships. A membership the state store
 * dates before the window is taken as it stands (its activities are older than the window).
 */

export interface CampaignVerifyDeps {
  source: EmailActivitySource;
  writer: Pick<
    CampaignWriter,
    | 'campaignsByName'
    | 'campaignsByIds'
    | 'createCampaign'
    | 'addMemberStatuses'
    | 'convertedContacts'
    | 'optedOutAt'
  >;
  readBack: CampaignReadBack;
  store: Pick<CampaignStateStore, 'getWatermark' | 'getFirstSends' | 'getPeople'>;
  settings: CampaignSyncSettings;
  now?: () => Date;
}

export interface CampaignVerifyReport {
  job: 'campaigns';
  window: { since: string; until: string; untilFrom: 'option' | 'watermark' | 'now' };
  counts: {
    emailActivities: number;
    people: number;
    /** (person, program) pairs whose member status was checked. */
    members: number;
    exact: number;
    /** The program has no Salesforce Campaign. */
    campaignMissing: number;
    missingMember: number;
    wrongStatus: number;
    lastFiveChecked: number;
    lastFiveWrong: number;
    /** Left out by seed 004's rule (opted out before the program's first send): never a member. */
    optedOutBeforeFirstSend: number;
  };
  wrongStatus: { personKey: string; campaign: string; expected: string; found: string | null }[];
  lastFiveWrong: { personKey: string; expected: string; found: string }[];
  campaignsMissing: string[];
  clean: boolean;
  durationMs: number;
}

export async function verifyCampaigns(
  deps: CampaignVerifyDeps,
  options: { since?: Date; until?: Date; idLimit?: number } = {},
): Promise<CampaignVerifyReport> {
  const started = Date.now();
  const now = deps.now?.() ?? new Date();
  const limit = options.idLimit ?? 1_000;
  const watermark = await deps.store.getWatermark();
  const until = options.until ?? (watermark ? new Date(watermark) : now);
  const untilFrom = options.until ? 'option' : watermark ? 'watermark' : 'now';
  const since = options.since ?? new Date(until.getTime() - deps.settings.lookbackDays * 86_400_000);
  const rows = await deps.source.readEmailActivities(since, until);
  const { people, kept, state: stored, counts } = await campaignEvents(deps, deps.settings, rows);

  // Expected memberships: stored ones dated before the window as they stand, then the window's events.
  const prior = new Map<string, MembershipStatus & { personKey: string }>();
  for (const [key, s] of stored)
    for (const m of s.memberships)
      if (Date.parse(m.at) < since.getTime())
        prior.set(`${key}\u0000${m.campaign}`, { ...m, personKey: key });
  const expected = foldMemberships(prior, kept);
  const inWindow = new Set(kept.map((e) => `${e.personKey}\u0000${e.campaign}`));

  const programs = [...new Set(kept.map((e) => e.campaign))];
  const { campaigns } = await resolveCampaigns(deps.writer, programs, deps.settings.programs ?? {}, {
    create: false,
  });
  const campaignOf = new Map([...campaigns].map(([p, c]) => [p, c.id]));
  const members = await deps.readBack.members([...new Set(campaignOf.values())]);
  const found = new Map(members.map((m) => [`${m.personKey}\u0000${m.campaignId}`, m.status]));

  const report: CampaignVerifyReport = {
    job: 'campaigns',
    window: { since: since.toISOString(), until: until.toISOString(), untilFrom },
    counts: {
      emailActivities: rows.length,
      people: people.size,
      members: 0,
      exact: 0,
      campaignMissing: 0,
      missingMember: 0,
      wrongStatus: 0,
      lastFiveChecked: 0,
      lastFiveWrong: 0,
      optedOutBeforeFirstSend: counts.optedOutBeforeFirstSend,
    },
    wrongStatus: [],
    lastFiveWrong: [],
    campaignsMissing: programs.filter((p) => !campaignOf.has(p)),
    clean: true,
    durationMs: 0,
  };
  const c = report.counts;
  c.campaignMissing = report.campaignsMissing.length;
  for (const [k, m] of expected) {
    if (!inWindow.has(k)) continue;
    c.members += 1;
    const campaignId = campaignOf.get(m.campaign);
    const status = campaignId ? found.get(`${m.personKey}\u0000${campaignId}`) : undefined;
    if (status === m.status) {
      c.exact += 1;
      continue;
    }
    if (status === undefined) c.missingMember += 1;
    else c.wrongStatus += 1;
    if (report.wrongStatus.length < limit)
      report.wrongStatus.push({
        personKey: m.personKey,
        campaign: m.campaign,
        expected: m.status,
        found: status ?? null,
      });
  }

  if (deps.settings.lastFiveField) {
    const texts = await deps.readBack.lastFive([...people.values()]);
    for (const [key] of people) {
      // Every membership of the person: the stored ones outside the window's programs, the expected ones within.
      const mine = new Map<string, MembershipStatus>();
      for (const m of stored.get(key)?.memberships ?? []) mine.set(m.campaign, m);
      for (const m of expected.values())
        if (m.personKey === key) mine.set(m.campaign, { campaign: m.campaign, status: m.status, at: m.at });
      const want = lastFiveStatuses([...mine.values()]);
      const have = texts.get(key) ?? '';
      c.lastFiveChecked += 1;
      if (want === have) continue;
      c.lastFiveWrong += 1;
      if (report.lastFiveWrong.length < limit)
        report.lastFiveWrong.push({ personKey: key, expected: want, found: have });
    }
  }
  report.clean = c.campaignMissing + c.missingMember + c.wrongStatus + c.lastFiveWrong === 0;
  report.durationMs = Date.now() - started;
  return report;
}
