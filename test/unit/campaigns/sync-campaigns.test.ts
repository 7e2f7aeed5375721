import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CampaignSyncDeps, syncCampaigns } from '../../../shared/campaigns/sync-campaigns.js';
import { MEMBER_STATUSES } from '../../../shared/domain/campaign-status.js';
import type { EmailActivityRow } from '../../../shared/ports/campaign-writer.js';
import { InMemoryCampaignOrg, InMemoryCampaignState, InMemoryEmailSource } from './in-memory.js';

const NOW = Date.parse('2026-12-02T00:00:00Z');
const TYPE = { Sent: 6, Delivered: 7, Opened: 10, Clicked: 11, Bounced: 8, Unsubscribed: 9 } as const;
let guid = 0;
const row = (
  leadId: number,
  status: keyof typeof TYPE,
  day: string,
  email = 'Newsletter Q3.Issue 1',
): EmailActivityRow => ({
  marketoGUID: `g${++guid}`,
  leadId,
  activityTypeId: TYPE[status],
  activityDate: `${day}T10:00:00Z`,
  emailName: email,
});

function setup() {
  const source = new InMemoryEmailSource();
  const org = new InMemoryCampaignOrg();
  const state = new InMemoryCampaignState();
  source.links.set(1, { leadId: 1, sobject: 'Lead', id: '00QA' });
  source.links.set(2, { leadId: 2, sobject: 'Contact', id: '003B' });
  source.links.set(3, { leadId: 3, sobject: 'Lead', id: '00QC' });
  const deps = (clock = NOW): CampaignSyncDeps => ({
    source,
    writer: org,
    store: state,
    settings: { lookbackDays: 90, overlapMinutes: 60, lastFiveField: true },
    clock: () => clock,
  });
  return { source, org, state, deps };
}

describe('syncCampaigns', () => {
  it('creates the Campaign once with every member status and writes each member at its furthest step', async () => {
    const w = setup();
    w.source.rows = [
      row(1, 'Sent', '2026-11-01'),
      row(1, 'Opened', '2026-11-02'),
      row(1, 'Delivered', '2026-11-01'),
      row(2, 'Sent', '2026-11-01'),
      row(2, 'Bounced', '2026-11-01'),
      row(2, 'Clicked', '2026-11-03'),
      row(9, 'Sent', '2026-11-01'),
      row(1, 'Sent', '2026-11-05', 'No program here'),
    ];
    const report = await syncCampaigns(w.deps());
    expect([...w.org.campaigns.values()]).toEqual([
      { id: '701C1', name: 'Newsletter Q3', memberStatuses: [...MEMBER_STATUSES] },
    ]);
    expect(w.org.statusOf('Newsletter Q3', '00QA')).toBe('Opened');
    expect(w.org.statusOf('Newsletter Q3', '003B')).toBe('Bounced');
    expect(report).toMatchObject({
      campaignsCreated: 1,
      membersWritten: 2,
      membersByStatus: { Opened: 1, Bounced: 1 },
      skipped: { noSalesforcePerson: 1, noProgram: 1 },
    });
  });

  it('converges to the furthest status whatever order and runs the activities arrive in', async () => {
    const rowArb = fc.record({
      leadId: fc.constantFrom(1, 2),
      status: fc.constantFrom(...(Object.keys(TYPE) as (keyof typeof TYPE)[])),
      day: fc.constantFrom('2026-11-01', '2026-11-02', '2026-11-03'),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(rowArb, { minLength: 1, maxLength: 20 }), fc.nat(), async (raw, cut) => {
        const rows = raw.map((r) => row(r.leadId, r.status, r.day));
        const w = setup();
        const split = cut % (rows.length + 1);
        // Later activities first, in two runs: the first sees only the tail.
        w.source.rows = rows.slice(split);
        await syncCampaigns(w.deps(NOW));
        w.source.rows = rows;
        w.state.watermark = undefined; // re-read everything, as a back-fill would
        await syncCampaigns(w.deps(NOW + 1000));
        for (const [leadId, person] of [
          [1, '00QA'],
          [2, '003B'],
        ] as const) {
          const mine = raw.filter((r) => r.leadId === leadId);
          if (mine.length === 0) continue;
          const best = MEMBER_STATUSES[Math.max(...mine.map((r) => MEMBER_STATUSES.indexOf(r.status)))];
          expect(w.org.statusOf('Newsletter Q3', person)).toBe(best);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('leaves out a person opted out before the first send and replaces a converted Lead by its Contact', async () => {
    const w = setup();
    w.org.optOuts.set('00QA', '2026-10-30T00:00:00.000Z'); // before the first send
    w.org.optOuts.set('003B', '2026-11-10T00:00:00.000Z'); // after it: stays a member
    w.org.converted.set('00QC', '003C');
    w.source.rows = [
      row(1, 'Sent', '2026-11-01'),
      row(2, 'Sent', '2026-11-01'),
      row(3, 'Opened', '2026-11-02'),
    ];
    const report = await syncCampaigns(w.deps());
    expect(w.org.statusOf('Newsletter Q3', '00QA')).toBeUndefined();
    expect(w.org.statusOf('Newsletter Q3', '003B')).toBe('Sent');
    expect(w.org.statusOf('Newsletter Q3', '00QC')).toBeUndefined();
    expect(w.org.statusOf('Newsletter Q3', '003C')).toBe('Opened');
    expect(report).toMatchObject({ convertedReplaced: 1, skipped: { optedOutBeforeFirstSend: 1 } });
  });

  it('writes the exact last-five field and rewrites it only when it changes', async () => {
    const w = setup();
    w.source.rows = ['Alpha', 'Beta', 'Gamma', 'Delta', 'Epsilon', 'Zeta'].map((p, i) =>
      row(1, i % 2 ? 'Opened' : 'Sent', `2026-11-0${i + 1}`, `${p}.Email`),
    );
    await syncCampaigns(w.deps());
    expect(w.org.lastFive.get('00QA')).toBe(
      [
        '2026-11-06 Opened — Zeta',
        '2026-11-05 Sent — Epsilon',
        '2026-11-04 Opened — Delta',
        '2026-11-03 Sent — Gamma',
        '2026-11-02 Opened — Beta',
      ].join('\n'),
    );
    expect(w.org.lastFiveWrites).toBe(1);
    w.state.watermark = undefined; // the same activities again
    const again = await syncCampaigns(w.deps(NOW + 1000));
    expect(w.org.lastFiveWrites).toBe(1);
    expect(again.membersWritten).toBe(0);
  });
});
