import { afterEach, describe, expect, it } from 'vitest';
import { runCampaignsCommand } from '../../cli/commands/campaigns.js';
import { runVerifyJobCommand } from '../../cli/commands/verify-jobs.js';
import type { CampaignSyncDeps } from '../../shared/campaigns/sync-campaigns.js';
import type { CampaignVerifyReport } from '../../shared/campaigns/verify-campaigns.js';
import {
  EMAIL_ACTIVITY_STATUS,
  foldMemberships,
  lastFiveStatuses,
  MEMBER_STATUSES,
  programOf,
} from '../../shared/domain/campaign-status.js';
import { type Embedded, startEmbedded } from '../helpers/embedded.js';

/** Job 4b on the embedded default: Marketo email programs → Salesforce Campaigns and member status. */

let e: Embedded | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

describe('campaigns (job 4b) on the embedded default', () => {
  it('writes one member per person per program at the furthest status, with exclusions and the exact last-five field', async () => {
    e = await startEmbedded();
    const sf = e.local.salesforceSandbox!.state;
    // One Salesforce-linked Lead with email activity is converted before the run.
    const activeLeadIds = new Set(
      e.world.activities.filter((a) => EMAIL_ACTIVITY_STATUS.has(a.activityTypeId)).map((a) => a.leadId),
    );
    const convertible = e.world.leads.find(
      (l) => l.sfdcType === 'Lead' && l.sfdcLeadId && activeLeadIds.has(l.id) && sf.leads.has(l.sfdcLeadId),
    )!;
    const contactId = sf.convertLead(convertible.sfdcLeadId!);

    const first = await runCampaignsCommand(e.local);
    const second = await runCampaignsCommand(e.local);

    // Expected: fold of the world's email activities per linked person (converted Lead → Contact).
    const since = Date.parse(first.since);
    const personOf = (leadId: number) => {
      const l = e!.world.lead(leadId);
      if (l?.sfdcType === 'Contact' && l.sfdcContactId) return `Contact:${l.sfdcContactId}`;
      if (l?.sfdcType === 'Lead' && l.sfdcLeadId)
        return l.id === convertible.id ? `Contact:${contactId}` : `Lead:${l.sfdcLeadId}`;
      return undefined;
    };
    const events = e.world.activities.flatMap((a) => {
      const status = EMAIL_ACTIVITY_STATUS.get(a.activityTypeId);
      const campaign = programOf(String(a.primaryAttributeValue ?? ''));
      const personKey = personOf(a.leadId);
      const at = new Date(a.activityDate).toISOString();
      if (
        !status ||
        !campaign ||
        !personKey ||
        Date.parse(at) < since ||
        Date.parse(at) > Date.parse(first.until)
      )
        return [];
      return [{ personKey, campaign, status, at }];
    });
    const want = foldMemberships(new Map(), events);

    const campaignName = new Map([...sf.campaigns.Campaign.values()].map((c) => [c.Id, String(c.Name)]));
    const got = new Map<string, string>();
    for (const m of sf.campaigns.CampaignMember.values()) {
      const key = `${m.ContactId ? `Contact:${m.ContactId}` : `Lead:${m.LeadId}`}\u0000${campaignName.get(String(m.CampaignId))}`;
      expect(got.has(key), `one member per person per Campaign: ${key}`).toBe(false);
      got.set(key, String(m.Status));
    }
    expect(got.size).toBeGreaterThan(50);
    for (const [key, status] of got) expect(status, key).toBe(want.get(key)?.status);
    // Everyone left out was opted out before the program's first send.
    const missing = [...want.keys()].filter((k) => !got.has(k));
    expect(missing.length).toBe(first.skipped.optedOutBeforeFirstSend);
    for (const k of missing) {
      const [person = ''] = k.split('\u0000');
      const [sobject, id = ''] = person.split(':');
      const rec = sobject === 'Lead' ? sf.leads.get(id) : sf.contacts.get(id);
      expect(rec?.HasOptedOutOfEmail, k).toBe(true);
    }
    // The converted Lead is a Contact member, never a Lead member.
    expect([...got.keys()].some((k) => k.startsWith(`Contact:${contactId}\u0000`))).toBe(true);
    expect([...got.keys()].some((k) => k.startsWith(`Lead:${convertible.sfdcLeadId}\u0000`))).toBe(false);
    expect(first.convertedReplaced).toBe(1);
    // Every Campaign defines every status the sync writes.
    for (const c of sf.campaigns.Campaign.values()) {
      const labels = [...sf.campaigns.CampaignMemberStatus.values()]
        .filter((s) => s.CampaignId === c.Id)
        .map((s) => s.Label);
      for (const s of MEMBER_STATUSES) expect(labels).toContain(s);
    }
    // Last five, exact, for every person written.
    const byPerson = new Map<
      string,
      { campaign: string; status: (typeof MEMBER_STATUSES)[number]; at: string }[]
    >();
    for (const [k, m] of want)
      if (got.has(k)) byPerson.set(m.personKey, [...(byPerson.get(m.personKey) ?? []), m]);
    for (const [person, memberships] of byPerson) {
      const [sobject, id = ''] = person.split(':');
      const rec = sobject === 'Lead' ? sf.leads.get(id) : sf.contacts.get(id);
      expect(rec?.Marketo_Last_Campaign_Statuses__c, person).toBe(lastFiveStatuses(memberships));
    }
    expect(second).toMatchObject({ membersWritten: 0, lastFiveWritten: 0, campaignsCreated: 0 });
  });

  it('continues a back-fill stopped by its time budget on the next runs and converges to the same members', async () => {
    e = await startEmbedded();
    // A budget spent before the first chunk ends: each run applies one page (300 rows), checkpoints, stops.
    const tiny = (deps: CampaignSyncDeps): CampaignSyncDeps => ({ ...deps, budgetMs: 0, chunkRows: 300 });
    const runs = [];
    for (let i = 0; i < 20; i++) {
      const run = await runCampaignsCommand(e.local, { wrapDeps: tiny });
      runs.push(run);
      if (run.complete) break;
    }
    expect(runs[0]).toMatchObject({ complete: false });
    expect(runs.length).toBeGreaterThan(3);
    expect(runs.at(-1)?.complete).toBe(true);
    // The checkpoint moves forward run by run, and ends at the last run's end.
    const marks = runs.map((r) => r.since);
    for (let i = 1; i < marks.length; i++) expect(marks[i]! > marks[i - 1]!).toBe(true);

    const verified = await runVerifyJobCommand(e.local, 'campaigns');
    const report = verified.summary as unknown as CampaignVerifyReport;
    expect(report.counts.members).toBeGreaterThan(500);
    expect(report.counts).toMatchObject({ exact: report.counts.members, lastFiveWrong: 0 });
    expect(verified.exitCode).toBe(0);
    // One member per person per Campaign, whatever the number of runs.
    const sf = e.local.salesforceSandbox!.state;
    const pairs = [...sf.campaigns.CampaignMember.values()].map(
      (m) => `${m.CampaignId}|${m.ContactId ?? m.LeadId}`,
    );
    expect(new Set(pairs).size).toBe(pairs.length);
  });

  it('writes a mapped program into the Campaign settings name by Id (campaigns.programs), creating none for it', async () => {
    const program = 'Q4 Product Launch';
    e = await startEmbedded({
      settings: (input) => ({ ...input, campaigns: { programs: { [program]: '701000000000000AAA' } } }),
    });
    const sf = e.local.salesforceSandbox!.state;
    const campaignId = String(
      sf.create(
        'Campaign',
        { Name: 'Imported Launch' },
        { client: 'test', autoAssign: undefined, kind: 'test' },
      ).id,
    );
    // The settings name the Id of the Campaign created above (the sandbox assigns Ids at create).
    e.local.platform.settings.campaigns.programs[program] = campaignId;
    const run = await runCampaignsCommand(e.local);
    const names = [...sf.campaigns.Campaign.values()].map((c) => c.Name);
    expect(names).not.toContain(program);
    expect(names).toContain('Imported Launch');
    const members = [...sf.campaigns.CampaignMember.values()].filter((m) => m.CampaignId === campaignId);
    expect(members.length).toBeGreaterThan(10);
    expect(run.campaignsCreated).toBe(names.length - 1);
    const verified = await runVerifyJobCommand(e.local, 'campaigns');
    expect(verified.exitCode).toBe(0);
  });
});
