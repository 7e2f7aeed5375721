import { describe, expect, it } from 'vitest';
import { SandboxStore } from '../../../sandboxes/salesforce/sandbox-store.js';

/** The sandbox's Campaign objects against the Object Reference (sources in campaign-rules.ts). */
const ctx = { client: 'test', autoAssign: undefined, kind: 'test' };

function org() {
  const store = new SandboxStore();
  const id = (r: { id?: string | null; success: boolean }) => {
    expect(r.success).toBe(true);
    return String(r.id);
  };
  const campaign = id(store.create('Campaign', { Name: 'Newsletter Q3' }, ctx));
  const lead = id(store.create('Lead', { LastName: 'Lee', Company: 'Acme' }, ctx));
  const contact = id(store.create('Contact', { LastName: 'Cole' }, ctx));
  return { store, campaign, lead, contact, id };
}

describe('sandbox CampaignMember / CampaignMemberStatus rules', () => {
  it('a new Campaign has "Sent" (default) and "Responded"; a member created without Status gets the default', () => {
    const o = org();
    const labels = [...o.store.campaigns.CampaignMemberStatus.values()]
      .filter((s) => s.CampaignId === o.campaign)
      .map((s) => [s.Label, s.IsDefault, s.HasResponded]);
    expect(labels).toEqual([
      ['Sent', true, false],
      ['Responded', false, true],
    ]);
    const member = o.id(o.store.create('CampaignMember', { CampaignId: o.campaign, LeadId: o.lead }, ctx));
    expect(o.store.campaigns.CampaignMember.get(member)?.Status).toBe('Sent');
  });

  it('refuses a Status the Campaign does not define, and a second member for the same person', () => {
    const o = org();
    const bad = o.store.create(
      'CampaignMember',
      { CampaignId: o.campaign, LeadId: o.lead, Status: 'Opened' },
      ctx,
    );
    expect(bad).toMatchObject({
      success: false,
      errors: [{ statusCode: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', fields: ['Status'] }],
    });
    o.id(o.store.create('CampaignMember', { CampaignId: o.campaign, LeadId: o.lead, Status: 'Sent' }, ctx));
    const again = o.store.create(
      'CampaignMember',
      { CampaignId: o.campaign, LeadId: o.lead, Status: 'Responded' },
      ctx,
    );
    expect(again).toMatchObject({
      success: false,
      errors: [{ statusCode: 'DUPLICATE_VALUE', message: 'Already a campaign member.' }],
    });
    // No update is made by the refused create.
    expect([...o.store.campaigns.CampaignMember.values()].map((m) => m.Status)).toEqual(['Sent']);
  });

  it('with both a LeadId and a ContactId inserts only the ContactId', () => {
    const o = org();
    const member = o.id(
      o.store.create('CampaignMember', { CampaignId: o.campaign, LeadId: o.lead, ContactId: o.contact }, ctx),
    );
    expect(o.store.campaigns.CampaignMember.get(member)).toMatchObject({
      ContactId: o.contact,
      LeadId: null,
    });
    // The Lead is not a member, so it can still be added on its own.
    o.id(o.store.create('CampaignMember', { CampaignId: o.campaign, LeadId: o.lead }, ctx));
  });

  it('updates Status by member Id but refuses to move a member to another person or Campaign', () => {
    const o = org();
    const member = o.id(o.store.create('CampaignMember', { CampaignId: o.campaign, LeadId: o.lead }, ctx));
    expect(o.store.update('CampaignMember', { Id: member, Status: 'Responded' }, ctx).success).toBe(true);
    const moved = o.store.update('CampaignMember', { Id: member, ContactId: o.contact }, ctx);
    expect(moved).toMatchObject({
      success: false,
      errors: [{ statusCode: 'INVALID_FIELD_FOR_INSERT_UPDATE', fields: ['ContactId'] }],
    });
    expect(o.store.campaigns.CampaignMember.get(member)).toMatchObject({
      LeadId: o.lead,
      Status: 'Responded',
    });
  });

  it('refuses a duplicate or over-long status label on one Campaign', () => {
    const o = org();
    const dup = o.store.create('CampaignMemberStatus', { CampaignId: o.campaign, Label: 'Sent' }, ctx);
    expect(dup).toMatchObject({ success: false, errors: [{ statusCode: 'DUPLICATE_VALUE' }] });
    const long = o.store.create(
      'CampaignMemberStatus',
      { CampaignId: o.campaign, Label: 'x'.repeat(766) },
      ctx,
    );
    expect(long).toMatchObject({ success: false, errors: [{ statusCode: 'STRING_TOO_LONG' }] });
    o.id(o.store.create('CampaignMemberStatus', { CampaignId: o.campaign, Label: 'x'.repeat(765) }, ctx));
  });
});
