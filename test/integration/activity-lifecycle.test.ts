import { afterEach, describe, expect, it } from 'vitest';
import { runExplainCommand } from '../../cli/commands/explain.js';
import { runVerifyCommand } from '../../cli/commands/verify.js';
import { organizationOf } from '../../sandboxes/salesforce/organization.js';
import { DynamoDbRunReportStore } from '../../shared/adapters/dynamodb/run-report-store.js';
import type { SettingsInput } from '../../shared/config/settings.js';
import { createScheduleActivitySync } from '../../shared/runtime/activity-handlers.js';
import { activityDeps, vendorClients } from '../../shared/runtime/activity-runtime.js';
import { type Embedded, startEmbedded } from '../helpers/embedded.js';

let e: Embedded | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

/** Tasks in the Salesforce sandbox for one Marketo activity. */
const tasksFor = (e: Embedded, guid: string) =>
  [...e.local.salesforceSandbox!.state.tasks.values()].filter((t) => t.Marketo_Activity_Id__c === guid);

const liveSalesforceLeads = (e: Embedded) =>
  e.world.leads.filter((l) => l.sfdcType === 'Lead' && l.sfdcLeadId && !e!.world.deletedLeadIds.has(l.id));

/** Per-type look-backs (seed 002: marketing emails 30 days, forms a year). */
const typeLookbacks = (days: Record<string, number>) => (input: SettingsInput) => {
  const out = input as unknown as { activities: { types: Record<string, unknown>[] } };
  for (const t of out.activities.types) if (String(t.name) in days) t.lookbackDays = days[String(t.name)];
  return out as unknown as SettingsInput;
};

/** Every type deletes our Tasks of a deleted lead (onLeadDeleted deleteTask). */
const deleteTask = (input: SettingsInput) => {
  const out = input as unknown as { activities: { types: Record<string, unknown>[] } };
  for (const t of out.activities.types) t.onLeadDeleted = 'deleteTask';
  return out as unknown as SettingsInput;
};

const DAY = 86_400_000;

describe('activity lifecycle on the embedded default', () => {
  it('keeps no ledger entry for a back-filled Task on the lead’s own link (externalId mode); explain finds it in Salesforce', async () => {
    e = await startEmbedded({ world: { activities: 300 } });
    const old = e.world.activities.find(
      (a) =>
        a.activityTypeId === 10 &&
        Date.parse(a.activityDate) < Date.now() - DAY &&
        liveSalesforceLeads(e!).some((l) => l.id === a.leadId),
    )!;
    const report = await e.runCycle();
    const [task] = tasksFor(e, old.marketoGUID);
    expect(task).toBeDefined();

    const explained = await runExplainCommand(e.local, old.marketoGUID);

    expect(explained.exitCode).toBe(0);
    expect(explained.summary).toMatchObject({ source: 'salesforce', taskId: task!.Id });
    expect(report.created).toBe(report.written);
  });

  it('writes the activities of a person who reaches Salesforce after a first run on the next run, each inside its type’s look-back; verify counts them pending meanwhile', async () => {
    e = await startEmbedded({
      world: { activities: 600 },
      settings: typeLookbacks({ 'Open Email': 30, 'Fill Out Form': 365 }),
    });
    const person = e.world.leads.find((l) => l.sfdcType === null && !e!.world.deletedLeadIds.has(l.id))!;
    const now = Date.now();
    const add = (ageMs: number, activityTypeId: number) =>
      e!.world.addActivity({
        leadId: person.id,
        activityDate: new Date(now - ageMs).toISOString(),
        activityTypeId,
        primaryAttributeValue: `Asset ${activityTypeId}`,
      });
    const form = add(60 * DAY, 2);
    const oldOpen = add(45 * DAY, 10);
    const recentOpen = add(5 * DAY, 10);

    const first = await e.runCycle();
    expect(first.skipped.noSalesforceRecord).toBeGreaterThan(0);
    expect([form, oldOpen, recentOpen].map((a) => tasksFor(e!, a.marketoGUID).length)).toEqual([0, 0, 0]);

    // The person reaches Salesforce (Marketo's CRM sync links the lead).
    const sf = e.local.salesforceSandbox!.state;
    const created = sf.create(
      'Lead',
      { LastName: 'Later', Company: 'Later Ltd', Email: person.email },
      { client: undefined, autoAssign: undefined, kind: 'test' },
    );
    Object.assign(e.world.lead(person.id)!, { sfdcType: 'Lead', sfdcLeadId: created.id });
    const between = await runVerifyCommand(e.local);
    expect(between.summary).toMatchObject({ counts: { missing: 0 } });
    const pendingBefore = (between.summary as { counts: { pending: number } }).counts.pending;
    expect(pendingBefore).toBeGreaterThanOrEqual(2);

    const second = await e.runCycle();

    expect(second.pending.requeued).toBeGreaterThanOrEqual(2);
    expect(second.failed).toBe(0);
    // The form (inside a year) and the recent open (inside 30 days) are written; the older open is not.
    expect([form, oldOpen, recentOpen].map((a) => tasksFor(e!, a.marketoGUID).map((t) => t.WhoId))).toEqual([
      [created.id],
      [],
      [created.id],
    ]);
    const after = await runVerifyCommand(e.local);
    expect(after.summary).toMatchObject({ counts: { missing: 0, duplicates: 0 } });
  });

  it.each([
    ['collections', (i: SettingsInput) => i],
    [
      'Bulk API 2.0',
      (i: SettingsInput) => ({ ...i, salesforce: { ...i.salesforce, bulkThreshold: 5 } }) as SettingsInput,
    ],
  ])(
    'writes a converted Lead’s new Tasks on its Contact, whether Marketo is stale or updated, and leaves the earlier Tasks alone (%s)',
    async (_via, settings) => {
      e = await startEmbedded({ world: { activities: 600 }, settings });
      await e.runCycle();
      const [stale, updated] = liveSalesforceLeads(e).filter((l) =>
        [...e!.local.salesforceSandbox!.state.tasks.values()].some((t) => t.WhoId === l.sfdcLeadId),
      );
      const sf = e.local.salesforceSandbox!.state;
      const earlier = [...sf.tasks.values()].filter((t) => t.WhoId === stale!.sfdcLeadId).map((t) => t.Id);
      const staleContact = sf.convertLead(stale!.sfdcLeadId!);
      const updatedContact = sf.convertLead(updated!.sfdcLeadId!);
      // Marketo's CRM sync caught up with one conversion only.
      Object.assign(e.world.lead(updated!.id)!, { sfdcType: 'Contact', sfdcContactId: updatedContact });
      const now = Date.now();
      const add = (leadId: number, n: number) =>
        e!.world.addActivity({
          leadId,
          activityDate: new Date(now - n * 1000).toISOString(),
          activityTypeId: 2,
          primaryAttributeValue: `Form ${n}`,
        });
      const fresh = [add(stale!.id, 1), add(stale!.id, 2), add(updated!.id, 3)];
      const writesBefore = sf.writeLog.length;

      const second = await e.runCycle();

      expect(second.failed).toBe(0);
      expect(fresh.map((a) => tasksFor(e!, a.marketoGUID).map((t) => t.WhoId))).toEqual([
        [staleContact],
        [staleContact],
        [updatedContact],
      ]);
      // Nothing we wrote before the conversion was written again (Salesforce moves those itself).
      const rewritten = new Set(sf.writeLog.slice(writesBefore).map((w) => w.id));
      expect(earlier.length).toBeGreaterThan(0);
      expect(earlier.filter((id) => rewritten.has(id))).toEqual([]);
    },
  );

  it.each([
    ['mostRecentlyCreated', 'c2'],
    ['oldest', 'lead'],
  ] as const)(
    'matchByEmail puts an unlinked lead’s Task on the record %s picks, and explain says why',
    async (rule, pick) => {
      e = await startEmbedded({
        world: { activities: 300 },
        settings: (i) =>
          ({
            ...i,
            activities: { ...i.activities, unlinkedLeads: 'matchByEmail', multipleRecordsRule: rule },
          }) as SettingsInput,
      });
      const person = e.world.leads.find((l) => l.sfdcType === null && !e!.world.deletedLeadIds.has(l.id))!;
      const sf = e.local.salesforceSandbox!.state;
      const ctx = { client: undefined, autoAssign: undefined, kind: 'test' };
      const make = (sobject: 'Lead' | 'Contact', created: string) => {
        const r = sf.create(
          sobject,
          { LastName: 'Same', Email: person.email, ...(sobject === 'Lead' ? { Company: 'Same Co' } : {}) },
          ctx,
        );
        sf.table(sobject).get(r.id as string)!.CreatedDate = created;
        return r.id as string;
      };
      const ids = {
        lead: make('Lead', '2025-01-01T00:00:00.000+0000'),
        c1: make('Contact', '2026-06-01T00:00:00.000+0000'),
        c2: make('Contact', '2026-06-01T00:00:00.000+0000'),
        converted: make('Lead', '2026-09-01T00:00:00.000+0000'),
      };
      // The converted Lead (newest) is no candidate; the Contact it became is one, created earlier here.
      const fromConversion = sf.convertLead(ids.converted);
      sf.table('Contact').get(fromConversion)!.CreatedDate = '2025-06-01T00:00:00.000+0000';
      const activity = e.world.addActivity({
        leadId: person.id,
        activityDate: new Date(Date.now() - 60_000).toISOString(),
        activityTypeId: 2,
        primaryAttributeValue: 'Contact Us',
      });

      await e.runCycle();

      expect(tasksFor(e, activity.marketoGUID).map((t) => t.WhoId)).toEqual([ids[pick]]);
      const explained = await runExplainCommand(e.local, activity.marketoGUID);
      expect(explained.lines.join('\n')).toContain(
        `matchByEmail, ${rule}: ${pick === 'lead' ? 'Lead' : 'Contact'} ${ids[pick]}`,
      );
      expect(explained.lines.join('\n')).toContain('of 4 record(s)');
    },
  );

  it('onLeadDeleted deleteTask removes exactly our Tasks of a deleted lead, records it in the ledger, and never writes them again', async () => {
    e = await startEmbedded({ world: { activities: 600 }, settings: deleteTask });
    await e.runCycle();
    const sf = e.local.salesforceSandbox!.state;
    const [gone] = liveSalesforceLeads(e).filter((l) =>
      [...sf.tasks.values()].some((t) => t.WhoId === l.sfdcLeadId),
    );
    // A Task of the lead's that a Salesforce user wrote is not ours: it stays.
    const theirs = sf.create(
      'Task',
      { WhoId: gone!.sfdcLeadId, Subject: 'Call back', Status: 'Completed', Priority: 'Normal' },
      { client: undefined, autoAssign: undefined, kind: 'test' },
    ).id as string;
    const ours = [...sf.tasks.values()].filter(
      (t) => t.WhoId === gone!.sfdcLeadId && t.Marketo_Activity_Id__c,
    );
    const before = sf.tasks.size;
    e.world.deleteLead(gone!.id);

    const second = await e.runCycle();

    expect(second.deletions).toEqual({ leads: 1, tasksDeleted: ours.length, failed: 0 });
    expect(ours.length).toBeGreaterThan(0);
    expect(ours.filter((t) => sf.tasks.has(t.Id))).toEqual([]);
    expect(sf.tasks.has(theirs)).toBe(true);
    expect(sf.tasks.size).toBe(before - ours.length + second.written);
    const explained = await runExplainCommand(e.local, String(ours[0]!.Marketo_Activity_Id__c));
    expect(explained.lines.join('\n')).toContain('skipped: leadDeleted');
    // A third run re-reads the overlap: nothing comes back, nothing is deleted twice.
    const third = await e.runCycle();
    expect(third.deletions.tasksDeleted).toBe(0);
    expect(ours.filter((t) => sf.tasks.has(t.Id))).toEqual([]);
  });

  it('the scheduled step (the schedule function) deletes the Tasks of a deleted lead as the CLI cycle does, and counts them in its run', async () => {
    e = await startEmbedded({ world: { activities: 400 }, settings: deleteTask });
    await e.runCycle();
    const sf = e.local.salesforceSandbox!.state;
    const [gone] = liveSalesforceLeads(e).filter((l) =>
      [...sf.tasks.values()].some((t) => t.WhoId === l.sfdcLeadId && t.Marketo_Activity_Id__c),
    );
    const ours = [...sf.tasks.values()].filter(
      (t) => t.WhoId === gone!.sfdcLeadId && t.Marketo_Activity_Id__c,
    );
    e.world.deleteLead(gone!.id);
    const platform = e.local.platform;

    const scheduled = await createScheduleActivitySync(
      activityDeps(platform, vendorClients(platform, e.local.credentials)),
      { takeOverAfterMs: 0 },
    )();

    expect(scheduled.deletions).toEqual({ leads: 1, tasksDeleted: ours.length, failed: 0 });
    expect(ours.length).toBeGreaterThan(0);
    expect(ours.filter((t) => sf.tasks.has(t.Id))).toEqual([]);
    const report = await new DynamoDbRunReportStore(platform.doc, platform.tables.runs).get(
      'activities',
      scheduled.runId,
    );
    expect(report?.counts).toMatchObject({ 'deleted.leads': 1, 'deleted.tasks': ours.length });
  });

  it('never recreates a Task a Salesforce user deleted when the overlap window is read again', async () => {
    e = await startEmbedded({ world: { activities: 300 } });
    const [lead] = liveSalesforceLeads(e);
    const recent = e.world.addActivity({
      leadId: lead!.id,
      activityDate: new Date(Date.now() - 5 * 60_000).toISOString(),
      activityTypeId: 2,
      primaryAttributeValue: 'Recent Form',
    });
    await e.runCycle();
    const [task] = tasksFor(e, recent.marketoGUID);
    e.local.salesforceSandbox!.state.deleteRecord(task!.Id);

    const second = await e.runCycle();

    expect(second.read).toBeGreaterThan(0);
    expect(tasksFor(e, recent.marketoGUID)).toEqual([]);
  });

  it.each([
    ['the org’s time zone (Organization.TimeZoneSidKey)', undefined, 1],
    ['salesforce.timeZone when set', 'UTC', 0],
  ] as const)('dates a Task by its activity’s calendar day in %s', async (_label, override, dayShift) => {
    e = await startEmbedded({
      world: { activities: 200 },
      settings: (i) =>
        (override ? { ...i, salesforce: { ...i.salesforce, timeZone: override } } : i) as SettingsInput,
    });
    organizationOf(e.local.salesforceSandbox!.state).TimeZoneSidKey = 'Asia/Tokyo';
    // 20:00 UTC on a past day: already the next day in Tokyo (UTC+9).
    const at = new Date(Date.now() - DAY);
    at.setUTCHours(20, 0, 0, 0);
    const [lead] = liveSalesforceLeads(e);
    const evening = e.world.addActivity({
      leadId: lead!.id,
      activityDate: at.toISOString(),
      activityTypeId: 2,
      primaryAttributeValue: 'Evening Form',
    });

    await e.runCycle();

    const [task] = tasksFor(e, evening.marketoGUID);
    expect(task?.ActivityDate).toBe(new Date(at.getTime() + dayShift * DAY).toISOString().slice(0, 10));
  });

  it('gives each Task to the owner of its Lead or Contact with taskOwner recordOwner (a queue-owned Lead’s to the integration user)', async () => {
    e = await startEmbedded({
      world: { activities: 200 },
      settings: (i) => ({ ...i, activities: { ...i.activities, taskOwner: 'recordOwner' } }) as SettingsInput,
    });
    const sf = e.local.salesforceSandbox!.state;
    const [owned, queued] = liveSalesforceLeads(e);
    const rep = '005SB0000000099AAA';
    sf.table('Lead').get(owned!.sfdcLeadId!)!.OwnerId = rep;
    sf.table('Lead').get(queued!.sfdcLeadId!)!.OwnerId = '00GSB0000000001AAA';
    const add = (leadId: number) =>
      e!.world.addActivity({
        leadId,
        activityDate: new Date(Date.now() - 60_000).toISOString(),
        activityTypeId: 2,
        primaryAttributeValue: 'Owned Form',
      });
    const [a, b] = [add(owned!.id), add(queued!.id)];

    await e.runCycle();

    expect(tasksFor(e, a.marketoGUID).map((t) => t.OwnerId)).toEqual([rep]);
    expect(tasksFor(e, b.marketoGUID).map((t) => t.OwnerId ?? null)).toEqual([null]);
  });
});
