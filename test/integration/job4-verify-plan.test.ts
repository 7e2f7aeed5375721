import { afterEach, describe, expect, it } from 'vitest';
import { runCampaignsCommand } from '../../cli/commands/campaigns.js';
import { runPlanJobCommand } from '../../cli/commands/plan-jobs.js';
import { runTasksCommand } from '../../cli/commands/tasks.js';
import { runVerifyJobCommand } from '../../cli/commands/verify-jobs.js';
import { collectStatus } from '../../cli/status.js';
import { seedSalesActivity } from '../../sandboxes/salesforce/sales-activity-seed.js';
import type { CampaignPlan } from '../../shared/campaigns/plan-campaigns.js';
import type { CampaignVerifyReport } from '../../shared/campaigns/verify-campaigns.js';
import type { SalesActivityPlan } from '../../shared/salesactivity/plan-sales-activity.js';
import type { SalesActivityVerifyReport } from '../../shared/salesactivity/verify-sales-activity.js';
import { type Embedded, startEmbedded } from '../helpers/embedded.js';

/** Job 4 in `plan`, `verify` and `status` on the embedded default. */

let e: Embedded | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

describe('plan, verify and status know job 4 (embedded default)', () => {
  it('tasks: the plan writes nothing and estimates the run; verify is clean after it and finds a deleted and a duplicated activity', async () => {
    e = await startEmbedded();
    const sf = e.local.salesforceSandbox!.state;
    seedSalesActivity(sf, { now: Date.now(), tasks: 120, events: 30 });

    const planned = await runPlanJobCommand(e.local, 'tasks');
    const plan = planned.summary as unknown as SalesActivityPlan;
    const verifyBefore = await runVerifyJobCommand(e.local, 'tasks');
    // The plan wrote nothing: no type created, no watermark (verify's window ends now).
    expect((verifyBefore.summary as unknown as SalesActivityVerifyReport).activityTypeId).toBeNull();
    expect((verifyBefore.summary as unknown as SalesActivityVerifyReport).window.untilFrom).toBe('now');

    const run = await runTasksCommand(e.local);
    expect(plan.records.toSend).toBe(run.read - run.skipped.ownTask);
    expect(plan.activityType).toBe('setUp');
    // The estimate is the run's own shape: the Marketo adds, look-ups and set-up, and the reads.
    expect(Math.abs(plan.calls.marketo - run.calls.marketo)).toBeLessThanOrEqual(2);
    expect(Math.abs(plan.calls.salesforce - run.calls.salesforce)).toBeLessThanOrEqual(1);

    const clean = await runVerifyJobCommand(e.local, 'tasks');
    const ok = clean.summary as unknown as SalesActivityVerifyReport;
    expect(clean.exitCode).toBe(0);
    expect(ok.window.untilFrom).toBe('watermark');
    expect(ok.counts).toMatchObject({
      exactlyOne: run.written,
      missing: 0,
      duplicates: 0,
      wrongLead: 0,
      pendingUnlinked: run.skipped.noMarketoLead,
      noPerson: run.skipped.noPerson,
    });

    // Break it in Marketo: one activity deleted, another one doubled.
    const typeId = run.activityTypeId!;
    const ours = e.world.activities.filter((a) => a.activityTypeId === typeId);
    const [gone, doubled] = ours;
    e.world.activities.splice(e.world.activities.indexOf(gone!), 1);
    e.world.activities.push({ ...doubled!, marketoGUID: `${doubled!.marketoGUID}-copy`, seq: 10_000_000 });
    const broken = await runVerifyJobCommand(e.local, 'tasks');
    const bad = broken.summary as unknown as SalesActivityVerifyReport;
    expect(broken.exitCode).toBe(1);
    expect(bad.counts).toMatchObject({ missing: 1, duplicates: 1, exactlyOne: run.written - 2 });
    expect(bad.missing.map((m) => m.recordId)).toEqual([gone!.primaryAttributeValue]);
    expect(bad.duplicates[0]?.recordId).toBe(doubled!.primaryAttributeValue);
    expect(broken.lines.join('\n')).toContain(String(gone!.primaryAttributeValue));

    const status = await collectStatus(e.local);
    expect(status.lastRuns.find((r) => r.kind === 'tasks')).toMatchObject({
      runId: run.runId,
      status: 'completed',
      counts: { written: run.written },
    });
    expect(status.jobs.tasks.watermark).toBe(run.until);
  });

  it('campaigns: the plan estimates the run; verify is clean after it and finds a wrong status and a wrong last-five field', async () => {
    e = await startEmbedded();
    const planned = await runPlanJobCommand(e.local, 'campaigns');
    const plan = planned.summary as unknown as CampaignPlan;
    expect(await runVerifyJobCommand(e.local, 'campaigns').then((r) => r.exitCode)).toBe(1);

    const run = await runCampaignsCommand(e.local);
    expect(plan.campaignsToCreate).toBe(run.campaignsCreated);
    // Extrapolated from one page: activities and Marketo calls within a quarter of the run's; people
    // scale as an upper bound (a page covers a short span, people recur over the window), so the
    // Salesforce estimate is at least the run's and at most twice it.
    expect(Math.abs(plan.emailActivities - run.read)).toBeLessThanOrEqual(run.read / 4);
    expect(Math.abs(plan.calls.marketo - run.calls.marketo)).toBeLessThanOrEqual(
      Math.max(2, run.calls.marketo / 4),
    );
    expect(plan.calls.salesforce).toBeGreaterThanOrEqual(run.calls.salesforce);
    expect(plan.calls.salesforce).toBeLessThanOrEqual(2 * run.calls.salesforce);

    const clean = await runVerifyJobCommand(e.local, 'campaigns');
    const ok = clean.summary as unknown as CampaignVerifyReport;
    expect(clean.exitCode).toBe(0);
    expect(ok.counts.members).toBeGreaterThan(0);
    expect(ok.counts).toMatchObject({
      exact: ok.counts.members,
      missingMember: 0,
      wrongStatus: 0,
      lastFiveWrong: 0,
      campaignMissing: 0,
      optedOutBeforeFirstSend: run.skipped.optedOutBeforeFirstSend,
    });
    expect(ok.counts.lastFiveChecked).toBe(ok.counts.people);

    // Break it in Salesforce: one member moved back a step, one person's last-five field cleared.
    const sf = e.local.salesforceSandbox!.state;
    const member = [...sf.campaigns.CampaignMember.values()].find((m) => m.Status !== 'Sent')!;
    member.Status = 'Sent';
    const person = [...sf.leads.values(), ...sf.contacts.values()].find(
      (p) =>
        typeof p.Marketo_Last_Campaign_Statuses__c === 'string' && p.Marketo_Last_Campaign_Statuses__c !== '',
    )!;
    person.Marketo_Last_Campaign_Statuses__c = null;
    const broken = await runVerifyJobCommand(e.local, 'campaigns');
    const bad = broken.summary as unknown as CampaignVerifyReport;
    expect(broken.exitCode).toBe(1);
    expect(bad.counts).toMatchObject({ wrongStatus: 1, lastFiveWrong: 1, exact: ok.counts.exact - 1 });
    const memberKey = member.ContactId ? `Contact:${member.ContactId}` : `Lead:${member.LeadId}`;
    expect(bad.wrongStatus[0]).toMatchObject({ personKey: memberKey, found: 'Sent' });
    expect(bad.lastFiveWrong[0]?.personKey.endsWith(String(person.Id))).toBe(true);

    const status = await collectStatus(e.local);
    expect(status.lastRuns.find((r) => r.kind === 'campaigns')).toMatchObject({
      status: 'completed',
      counts: { written: run.membersWritten },
    });
    expect(status.jobs.campaigns.watermark).toBe(run.until);
  });
});
