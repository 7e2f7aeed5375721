import { EMAIL_ACTIVITY_STATUS, programOf } from '../domain/campaign-status.js';
import { estimateWindowActivities, windowPages } from '../domain/cycle-estimate.js';
import { readWindow } from '../domain/read-window.js';
import type { CampaignStateStore, CampaignWriter, EmailActivitySource } from '../ports/campaign-writer.js';
import { MARKETO_MAX_BATCH } from '../ports/vendor-limits.js';
import type { CampaignSyncSettings } from './sync-campaigns.js';

/** Salesforce sObject Collections and the adapter's IN lists take 200 (campaign-writer.ts). */
const SF_CHUNK = 200;

export interface CampaignPlan {
  job: 'campaigns';
  window: { since: string; until: string; origin: 'cursor' | 'lookback' };
  /** Email activities in the window, counted when the first page held them all, else extrapolated. */
  emailActivities: number;
  exact: boolean;
  /**
   * From the sample, scaled to the window: people (Marketo leads) and (person, program)
   * memberships. Upper bounds: a page covers a short span and people recur over the window.
   */
  people: number;
  memberships: number;
  /** Programs seen in the sample (selected by the filter) and how many have no Campaign yet. */
  programs: number;
  campaignsToCreate: number;
  calls: { marketo: number; salesforce: number };
  method: string;
}

export const CAMPAIGN_PLAN_METHOD =
  'first page of email activities read and extrapolated by its time span; people and memberships scaled from the page (upper bounds); Marketo: paging token, pages of 300, lead look-ups of 300; Salesforce: Campaign look-up and creation (3 calls a new Campaign), converted-Lead and opt-out queries of 200, member look-up and writes in collections of 200, the last-five field per 200 people';

/**
 * Dry run of the next job-4b run: its window, one page of Marketo email activity as a sample, the
 * Campaigns that exist, and the calls the run would spend per vendor. Writes nothing.
 */
export async function planCampaigns(deps: {
  source: Pick<EmailActivitySource, 'firstEmailActivityPage'>;
  writer: Pick<CampaignWriter, 'campaignsByName'>;
  store: Pick<CampaignStateStore, 'getWatermark'>;
  settings: CampaignSyncSettings;
  now?: () => number;
}): Promise<CampaignPlan> {
  const { settings } = deps;
  const nowMs = (deps.now ?? Date.now)();
  const watermark = await deps.store.getWatermark();
  const { since, until } = readWindow(watermark, settings, nowMs);
  const page = await deps.source.firstEmailActivityPage(since);
  const inWindow = page.rows.filter(
    (r) => EMAIL_ACTIVITY_STATUS.has(r.activityTypeId) && Date.parse(r.activityDate) <= until.getTime(),
  );
  const passedEnd = page.rows.some((r) => Date.parse(r.activityDate) > until.getTime());
  const lastAt = inWindow.at(-1)?.activityDate;
  const complete = passedEnd || !page.more;
  const activities = estimateWindowActivities(
    {
      from: since.toISOString(),
      until: until.toISOString(),
      inWindow: inWindow.length,
      complete,
      ...(lastAt ? { lastAt: new Date(lastAt).toISOString() } : {}),
    },
    new Date(nowMs),
  );
  const scale = inWindow.length === 0 ? 0 : activities / inWindow.length;
  const filter = settings.programFilter ? new RegExp(settings.programFilter, 'i') : undefined;
  const selected = inWindow.flatMap((r) => {
    const program = programOf(r.emailName);
    return program && (!filter || filter.test(program)) ? [{ leadId: r.leadId, program }] : [];
  });
  const programs = [...new Set(selected.map((s) => s.program))];
  const people = Math.round(new Set(selected.map((s) => s.leadId)).size * scale);
  const memberships = Math.round(new Set(selected.map((s) => `${s.leadId}|${s.program}`)).size * scale);
  const unmapped = programs.filter((p) => settings.programs?.[p] === undefined);
  const existing = unmapped.length > 0 ? await deps.writer.campaignsByName(unmapped) : new Map();
  const campaignsToCreate = unmapped.filter((p) => !existing.has(p)).length;
  const per = (count: number, size: number) => Math.ceil(count / size);
  const marketo = 1 + windowPages(activities, MARKETO_MAX_BATCH) + per(people, MARKETO_MAX_BATCH);
  const salesforce =
    memberships === 0
      ? 0
      : 2 * per(programs.length, SF_CHUNK) +
        3 * campaignsToCreate +
        per(people, SF_CHUNK) +
        2 * per(people, SF_CHUNK) +
        per(people, SF_CHUNK) +
        per(memberships, SF_CHUNK) +
        (settings.lastFiveField ? per(people, SF_CHUNK) : 0);
  return {
    job: 'campaigns',
    window: {
      since: since.toISOString(),
      until: until.toISOString(),
      origin: watermark ? 'cursor' : 'lookback',
    },
    emailActivities: activities,
    exact: complete,
    people,
    memberships,
    programs: programs.length,
    campaignsToCreate,
    calls: { marketo, salesforce },
    method: CAMPAIGN_PLAN_METHOD,
  };
}
