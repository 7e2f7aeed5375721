import { describe, expect, it } from 'vitest';
import type { SalesActivityRecord } from '../../../shared/domain/sales-activity.js';
import { CustomActivityTypeConflictError } from '../../../shared/salesactivity/errors.js';
import {
  type SalesActivityDeps,
  syncSalesActivity,
} from '../../../shared/salesactivity/sync-sales-activity.js';
import { InMemoryMarketo, InMemorySource, InMemoryStore } from './in-memory.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const LEAD = '00QSB0000000001AAA';
const CONVERTED = '00QSB0000000002AAA';
const CONTACT = '003SB0000000001AAA';
const CONVERTED_CONTACT = '003SB0000000002AAA';
const EMAIL_ONLY = '00QSB0000000003AAA';
const NOBODY = '00QSB0000000004AAA';

function record(
  id: string,
  whoId: string | null,
  over: Partial<SalesActivityRecord> = {},
): SalesActivityRecord {
  return {
    id,
    sobject: 'Task',
    kind: 'call',
    whoId,
    subject: `Call ${id}`,
    status: 'Completed',
    ownerId: '005SB0000000001AAA',
    occurredAt: '2026-11-30T10:00:00.000Z',
    dueDate: '2026-11-30',
    description: null,
    systemModstamp: '2026-11-30T10:00:00.000Z',
    marketoActivityId: null,
    ...over,
  };
}

function world() {
  const source = new InMemorySource();
  const marketo = new InMemoryMarketo();
  const store = new InMemoryStore();
  source.persons.set(LEAD, { id: LEAD, sobject: 'Lead', email: 'a@example.com', convertedContactId: null });
  source.persons.set(CONVERTED, {
    id: CONVERTED,
    sobject: 'Lead',
    email: 'b@example.com',
    convertedContactId: CONVERTED_CONTACT,
  });
  source.persons.set(CONTACT, {
    id: CONTACT,
    sobject: 'Contact',
    email: 'c@example.com',
    convertedContactId: null,
  });
  source.persons.set(EMAIL_ONLY, {
    id: EMAIL_ONLY,
    sobject: 'Lead',
    email: ' D@Example.com ',
    convertedContactId: null,
  });
  source.persons.set(NOBODY, {
    id: NOBODY,
    sobject: 'Lead',
    email: 'e@example.com',
    convertedContactId: null,
  });
  marketo.leads = [
    { id: 1, email: 'a@example.com', sfdcLeadId: LEAD, sfdcContactId: null },
    { id: 2, email: 'b@example.com', sfdcLeadId: CONVERTED, sfdcContactId: CONVERTED_CONTACT },
    { id: 3, email: 'c@example.com', sfdcLeadId: null, sfdcContactId: CONTACT },
    { id: 4, email: 'd@example.com', sfdcLeadId: null, sfdcContactId: null },
  ];
  return { source, marketo, store };
}

function deps(w: ReturnType<typeof world>, over: Partial<SalesActivityDeps> = {}): SalesActivityDeps {
  return {
    source: w.source,
    marketo: w.marketo,
    store: w.store,
    settings: {
      kinds: { call: true, email: true, task: true, meeting: true },
      lookbackDays: 90,
      overlapMinutes: 60,
      activityType: { apiName: 'mktosfsync_salesActivity', name: 'Salesforce Sales Activity' },
    },
    runId: 'run-1',
    clock: () => NOW,
    sleep: async () => {},
    ...over,
  };
}

describe('syncSalesActivity', () => {
  it('writes each eligible record once on the right lead and counts what it skips', async () => {
    // Prepare
    const w = world();
    w.source.records = [
      record('00TSB0000000001AAA', LEAD),
      record('00TSB0000000002AAA', CONVERTED),
      record('00USB0000000001AAA', CONTACT, { sobject: 'Event', kind: 'meeting' }),
      record('00TSB0000000003AAA', EMAIL_ONLY, { kind: 'email' }),
      record('00TSB0000000004AAA', NOBODY),
      record('00TSB0000000005AAA', null),
      record('00TSB0000000006AAA', LEAD, { marketoActivityId: 'guid-of-a-marketo-activity' }),
    ];
    // Act
    const report = await syncSalesActivity(deps(w));
    // Assess
    expect(w.marketo.activities.map((a) => [a.primaryAttributeValue, a.leadId])).toEqual([
      ['00TSB0000000001AAA', 1],
      ['00TSB0000000002AAA', 2],
      ['00USB0000000001AAA', 3],
      ['00TSB0000000003AAA', 4],
    ]);
    expect(report).toMatchObject({
      read: 7,
      added: 4,
      skipped: { ownTask: 1, noMarketoLead: 1, noPerson: 1, alreadySent: 0, editedAfterSend: 0 },
      typeActions: ['created', 'attributesCreated', 'approved'],
    });
    const first = w.marketo.activities[0];
    expect(first?.attributes).toContainEqual({ apiName: 'kind', value: 'call' });
    expect(first?.attributes).toContainEqual({
      apiName: 'recordLink',
      value: 'https://example.my.salesforce.com/00TSB0000000001AAA',
    });
    expect(w.store.watermark).toBe(new Date(NOW).toISOString());
  });

  it('never sends a record twice: an overlap re-read is alreadySent, a later edit editedAfterSend', async () => {
    const w = world();
    w.source.records = [record('00TSB0000000001AAA', LEAD), record('00TSB0000000002AAA', CONVERTED)];
    await syncSalesActivity(deps(w));
    w.source.records = [
      record('00TSB0000000001AAA', LEAD),
      record('00TSB0000000002AAA', CONVERTED, {
        subject: 'edited',
        systemModstamp: '2026-12-01T11:30:00.000Z',
      }),
    ];
    // Second run from the watermark less the overlap; push the clock on so the edit is inside it.
    const report = await syncSalesActivity(deps(w, { clock: () => NOW + 3_600_000 }));
    expect(w.marketo.activities).toHaveLength(2);
    expect(report.skipped).toMatchObject({ editedAfterSend: 1 });
    expect(report.added).toBe(0);
  });

  it('a crash between the send and the ledger write creates no duplicate: the next run reads back', async () => {
    const w = world();
    w.source.records = [record('00TSB0000000001AAA', LEAD), record('00TSB0000000002AAA', CONTACT)];
    w.store.failOnPut = 2; // 1: `sending` entries, 2: the outcome → lost
    await expect(syncSalesActivity(deps(w))).rejects.toThrow('simulated crash');
    expect(w.marketo.activities).toHaveLength(2);
    expect(w.store.watermark).toBeUndefined();

    const report = await syncSalesActivity(deps(w));
    expect(w.marketo.activities).toHaveLength(2);
    expect(report.recoveredByReadBack).toBe(2);
    expect(report.added).toBe(0);
    expect(w.store.ledger.get('00TSB0000000001AAA')).toMatchObject({ state: 'added', marketoGUID: 'guid-1' });
  });

  it('an unknown outcome that Marketo never added is sent again', async () => {
    const w = world();
    w.source.records = [record('00TSB0000000001AAA', LEAD)];
    w.store.ledger.set('00TSB0000000001AAA', {
      recordId: '00TSB0000000001AAA',
      state: 'sending',
      leadId: 1,
      sentAt: new Date(NOW - 60_000).toISOString(),
      activityDate: '2026-11-30T10:00:00.000Z',
      systemModstamp: '2026-11-30T10:00:00.000Z',
    });
    const report = await syncSalesActivity(deps(w));
    expect(report).toMatchObject({ added: 1, recoveredByReadBack: 0 });
    expect(w.marketo.activities).toHaveLength(1);
  });

  it('creates and approves the type once when two runs start together', async () => {
    const w = world();
    w.source.records = [record('00TSB0000000001AAA', LEAD)];
    // Let the other run in at every describe/create.
    w.marketo.yieldEvery = () => new Promise((r) => setImmediate(r));
    const [a, b] = await Promise.all([
      syncSalesActivity(deps(w, { runId: 'run-a' })),
      syncSalesActivity(deps(w, { runId: 'run-b' })),
    ]);
    expect(w.marketo.calls.create).toBe(1);
    expect(w.marketo.calls.approve).toBe(1);
    expect(a.activityTypeId).toBe(b.activityTypeId);
  });

  it('refuses a type that exists with attributes it did not define', async () => {
    const w = world();
    w.source.records = [record('00TSB0000000001AAA', LEAD)];
    w.marketo.types.set('mktosfsync_salesActivity', {
      id: 100_001,
      apiName: 'mktosfsync_salesActivity',
      status: 'approved',
      primaryAttributeApiName: 'salesforceRecordId',
      attributeApiNames: ['somethingElse'],
      definition: {} as never,
    });
    await expect(syncSalesActivity(deps(w))).rejects.toBeInstanceOf(CustomActivityTypeConflictError);
    expect(w.marketo.activities).toHaveLength(0);
  });

  it('sends at most 300 activities per call and leaves disabled kinds unread', async () => {
    const w = world();
    w.source.records = Array.from({ length: 650 }, (_, i) =>
      record(`00TSB${String(i).padStart(10, '0')}AAA`, LEAD),
    );
    w.source.records.push(record('00USB0000000001AAA', LEAD, { kind: 'meeting', sobject: 'Event' }));
    const d = deps(w);
    d.settings.kinds.meeting = false;
    const report = await syncSalesActivity(d);
    expect(w.marketo.calls.add).toBe(3);
    expect(report).toMatchObject({ read: 650, added: 650 });
  });
});
