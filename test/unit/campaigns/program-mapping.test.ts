import { describe, expect, it } from 'vitest';
import { CampaignMappingError } from '../../../shared/campaigns/resolve-campaigns.js';
import { syncCampaigns } from '../../../shared/campaigns/sync-campaigns.js';
import { InvalidSettingsError, parseSettings } from '../../../shared/config/settings.js';
import { MEMBER_STATUSES } from '../../../shared/domain/campaign-status.js';
import { salesforceIdSuffix } from '../../../shared/domain/salesforce-id.js';
import { InMemoryCampaignOrg, InMemoryCampaignState, InMemoryEmailSource } from './in-memory.js';

const NOW = Date.parse('2026-12-02T00:00:00Z');
/** A Campaign Id (key prefix 701) with its checksum suffix. */
const CAMPAIGN_ID = `701000000000001${salesforceIdSuffix('701000000000001')}`;

function setup(programs: Record<string, string>) {
  const source = new InMemoryEmailSource();
  const org = new InMemoryCampaignOrg();
  source.links.set(1, { leadId: 1, sobject: 'Lead', id: '00QA' });
  source.rows = [
    {
      marketoGUID: 'g1',
      leadId: 1,
      activityTypeId: 6,
      activityDate: '2026-11-01T10:00:00Z',
      emailName: 'Newsletter Q3.Issue 1',
    },
    {
      marketoGUID: 'g2',
      leadId: 1,
      activityTypeId: 10,
      activityDate: '2026-11-02T10:00:00Z',
      emailName: 'Webinar.Invite',
    },
  ];
  // A Campaign the customer already has, defining only one of the statuses the sync writes.
  org.campaigns.set(CAMPAIGN_ID, { id: CAMPAIGN_ID, name: 'Quarterly Newsletter', memberStatuses: ['Sent'] });
  org.campaigns.set('701NAMED', {
    id: '701NAMED',
    name: 'Webinars 2026',
    memberStatuses: [...MEMBER_STATUSES],
  });
  const run = () =>
    syncCampaigns({
      source,
      writer: org,
      store: new InMemoryCampaignState(),
      settings: { lookbackDays: 90, overlapMinutes: 60, lastFiveField: false, programs },
      clock: () => NOW,
    });
  return { org, run };
}

describe('campaigns.programs: explicit program → Campaign mapping', () => {
  it('writes members into the mapped Campaign (by Id or by name) and creates none for mapped programs', async () => {
    const w = setup({ 'Newsletter Q3': CAMPAIGN_ID, Webinar: 'Webinars 2026' });
    const report = await w.run();
    expect(report.campaignsCreated).toBe(0);
    expect(w.org.campaigns.size).toBe(2);
    expect(w.org.members.get(`${CAMPAIGN_ID}|00QA`)).toBe('Sent');
    expect(w.org.members.get('701NAMED|00QA')).toBe('Opened');
    // The mapped Campaign lacked statuses the sync writes: they are added, not the Campaign replaced.
    expect(w.org.campaigns.get(CAMPAIGN_ID)?.memberStatuses).toEqual([...MEMBER_STATUSES]);
    expect(report.memberStatusesAdded).toBe(MEMBER_STATUSES.length - 1);
  });

  it('creates a Campaign named after an unmapped program, as before', async () => {
    const w = setup({ 'Newsletter Q3': CAMPAIGN_ID });
    const report = await w.run();
    expect(report.campaignsCreated).toBe(1);
    expect([...w.org.campaigns.values()].map((c) => c.name)).toContain('Webinar');
  });

  it('stops with the unknown mapped Campaigns named, writing nothing', async () => {
    const missingId = `701000000000002${salesforceIdSuffix('701000000000002')}`;
    const w = setup({ 'Newsletter Q3': missingId, Webinar: 'No Such Campaign' });
    const error = await w.run().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CampaignMappingError);
    expect((error as Error).message).toContain(missingId);
    expect((error as Error).message).toContain('"Webinar" → "No Such Campaign"');
    expect(w.org.members.size).toBe(0);
  });

  it('refuses settings with a malformed Campaign Id, naming the program and the value', () => {
    const parse = (programs: Record<string, string>) => () => parseSettings({ campaigns: { programs } });
    expect(parse({ 'Newsletter Q3': CAMPAIGN_ID, Webinar: 'Webinars 2026' })).not.toThrow();
    // A Lead Id, not a Campaign's.
    expect(parse({ 'Newsletter Q3': '00Q5g00000000AAAEA' })).toThrow(
      /Newsletter Q3[\s\S]*00Q5g00000000AAAEA[\s\S]*not a Campaign/,
    );
    // A wrong 18-character checksum.
    const bad = '701000000000001ZZZ';
    const error = (() => {
      try {
        parse({ 'Newsletter Q3': bad })();
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidSettingsError);
    expect((error as Error).message).toContain(bad);
    expect((error as Error).message).toContain('checksum');
  });
});
