import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fault } from '../../../sandboxes/marketo/fault-controller.js';
import { continueOptOuts, reconcileOptOuts } from '../../../shared/optouts/reconcile.js';
import { type Harness, startHarness, uniqueEmail } from './harness.js';

describe('nightly unsubscribe reconciliation (embedded default: dynalite + sandboxes + real clients)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
    // First run: takes the look-back window's seeded changes, so each test starts from a clean slate.
    const seeded = await reconcileOptOuts(h.deps);
    console.log('[nightly] seeded-world first run', JSON.stringify(seeded));
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('converges unsubscribes on either side in one run, across every Lead and Contact with the email', async () => {
    // Prepare: A unsubscribes in Marketo and has one Lead and two Contacts in Salesforce under case variants.
    const a = uniqueEmail('Alice.Multi');
    const pa = h.person({
      email: a,
      marketoEmails: [a.toUpperCase()],
      sfLeads: [a],
      sfContacts: [a.toLowerCase(), a.toUpperCase()],
    });
    // B unsubscribes in Salesforce (one Contact) and has two Marketo leads, one padded, one mixed case.
    const b = uniqueEmail('bob.padded');
    const pb = h.person({ email: b, marketoEmails: [`  ${b}  `, b.toUpperCase()], sfContacts: [b] });
    h.world.recordLeadChange(pa.leads[0]!.id, {
      unsubscribed: true,
      reason: 'Link in email',
      at: Date.now(),
    });
    h.setSalesforceOptOut('Contact', pb.sfContactIds[0]!, true);

    // Act
    const report = await reconcileOptOuts(h.deps);

    // Assess: every record of both people is opted out.
    for (const id of pa.sfLeadIds) expect(h.sfOptOut('Lead', id)).toBe(true);
    for (const id of pa.sfContactIds) expect(h.sfOptOut('Contact', id)).toBe(true);
    for (const lead of pb.leads) expect(h.world.lead(lead.id)?.unsubscribed).toBe(true);
    expect(report.changesApplied.marketoToSalesforce).toBeGreaterThanOrEqual(1);
    expect(report.changesApplied.salesforceToMarketo).toBeGreaterThanOrEqual(1);
    expect(report.fixed.salesforce).toBeGreaterThanOrEqual(3);
    expect(report.fixed.marketo).toBeGreaterThanOrEqual(2);
    expect(report.writes.failed).toBe(0);
    expect(report.apiCalls.marketo).toBeGreaterThan(0);
    expect(report.apiCalls.salesforce).toBeGreaterThan(0);
    const stored = await h.deps.runs.get('optouts', report.runId);
    expect(stored?.status).toBe('completed');
    expect(stored?.details?.report).toMatchObject({ runId: report.runId });
    const history = await h.deps.store.history(a.toLowerCase());
    expect(history.filter((e) => e.kind === 'written')).toHaveLength(3);
    console.log('[nightly] run 1 report', JSON.stringify({ ...report, verdicts: report.verdicts }));
  });

  it('does not stall on 100 non-ASCII emails (one IN list would be QUERY_TOO_LONG), tonight or later', async () => {
    const people = Array.from({ length: 100 }, (_, i) => {
      const email = `александра.петровна.${i}.${Date.now().toString(36)}@почта.example.ru`;
      const p = h.person({ email, sfContacts: [email] });
      h.world.recordLeadChange(p.leads[0]!.id, { unsubscribed: true, at: Date.now() });
      return p;
    });
    const report = await reconcileOptOuts(h.deps);
    expect(report.writes.failed).toBe(0);
    for (const p of people) expect(h.sfOptOut('Contact', p.sfContactIds[0]!)).toBe(true);
    // The cursor moved on: the next night neither fails nor sees these changes again as new.
    const next = await reconcileOptOuts(h.deps);
    expect(next.changesApplied.marketoToSalesforce).toBe(0);
  }, 120_000);

  it('does not take its own writes for new changes on the next run (no ping-pong)', async () => {
    // Prepare: an opt-out carried over by one run…
    const c = uniqueEmail('carol.echo');
    const pc = h.person({ email: c, sfLeads: [c], sfContacts: [c] });
    h.setSalesforceOptOut('Lead', pc.sfLeadIds[0]!, true);
    const first = await reconcileOptOuts(h.deps);
    expect(h.world.lead(pc.leads[0]!.id)?.unsubscribed).toBe(true);
    expect(first.fixed.marketo).toBeGreaterThanOrEqual(1);
    // …and Marketo's own CRM sync mirroring the Salesforce opt-out onto the linked lead afterwards.
    const writesBefore = h.ourSalesforceWrites(pc.sfContactIds[0]!);

    // Act
    const second = await reconcileOptOuts(h.deps);

    // Assess: our writes came back as changes, were recognised, and nothing was written again.
    expect(second.changesRead.marketo + second.changesRead.salesforce).toBeGreaterThan(0);
    expect(second.echoesIgnored).toBeGreaterThan(0);
    expect(second.writes.salesforce + second.writes.marketo).toBe(0);
    expect(second.disagreements.total).toBe(0);
    expect(h.ourSalesforceWrites(pc.sfContactIds[0]!)).toBe(writesBefore);
    console.log('[nightly] echo run report', JSON.stringify(second));
  });

  it('never resubscribes an opted-out person (default settings): the resubscribe is recorded and reverted', async () => {
    // Prepare: D opted out everywhere.
    const d = uniqueEmail('dave.resub');
    const pd = h.person({ email: d, sfContacts: [d] });
    h.world.recordLeadChange(pd.leads[0]!.id, { unsubscribed: true, at: Date.now() });
    await reconcileOptOuts(h.deps);
    expect(h.sfOptOut('Contact', pd.sfContactIds[0]!)).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    // A sales rep unticks the box later.
    h.setSalesforceOptOut('Contact', pd.sfContactIds[0]!, false);

    // Act
    const report = await reconcileOptOuts(h.deps);

    // Assess
    expect(report.resubscribes.rejected).toBeGreaterThanOrEqual(1);
    expect(h.sfOptOut('Contact', pd.sfContactIds[0]!)).toBe(true);
    expect(h.world.lead(pd.leads[0]!.id)?.unsubscribed).toBe(true);
    const state = await h.deps.store.get(d);
    expect(state?.state.optedOut).toBe(true);
    expect(state?.state.rejectedResubscribes).toBe(1);
    const verdicts = (await h.deps.store.history(d)).flatMap((e) =>
      e.kind === 'observed' ? [e.verdict] : [],
    );
    expect(verdicts).toContain('resubscribeRejected');
  });

  it('pages a night across invocations: each stops at its budget, the next resumes the same night', async () => {
    const people = Array.from({ length: 3 }, (_, i) => {
      const email = uniqueEmail(`paged.${i}`);
      const p = h.person({ email, sfContacts: [email] });
      h.world.recordLeadChange(p.leads[0]!.id, { unsubscribed: true, at: Date.now() });
      return p;
    });
    expect(await continueOptOuts(h.deps)).toBeUndefined(); // no open night: a continuation does nothing

    const first = await reconcileOptOuts(h.deps, { maxChunks: 1 });
    expect(first.status).toBe('continued');
    const reports = [first];
    for (let i = 0; i < 10 && reports.at(-1)?.status === 'continued'; i++)
      reports.push((await continueOptOuts(h.deps, { maxChunks: 1 }))!);
    const last = reports.at(-1)!;

    expect(last.status).toBe('completed');
    expect(last.runId).toBe(first.runId);
    expect(last.invocations).toBe(reports.length);
    expect(last.chunks.done).toBeGreaterThanOrEqual(3); // Marketo page, Lead page, Contact page
    for (const p of people) expect(h.sfOptOut('Contact', p.sfContactIds[0]!)).toBe(true);
    expect((await h.deps.runs.get('optouts', first.runId))?.status).toBe('completed');
  });

  it('sets a poison person aside: the night completes, reports it and retries them next night', async () => {
    const good = uniqueEmail('poison.good');
    const bad = uniqueEmail('poison.bad');
    const pg = h.person({ email: good, sfContacts: [good] });
    const pb = h.person({ email: bad, sfContacts: [bad] });
    for (const p of [pg, pb])
      h.world.recordLeadChange(p.leads[0]!.id, { unsubscribed: true, at: Date.now() });
    const store = h.deps.store;
    let refusals = 0;
    const poisoned = {
      ...h.deps,
      store: Object.assign(Object.create(store) as typeof store, {
        update: (email: string, fn: Parameters<typeof store.update>[1]) => {
          if (email === bad.toLowerCase()) {
            refusals++;
            throw new Error('simulated poison record');
          }
          return store.update(email, fn);
        },
      }),
    };

    const report = await reconcileOptOuts(poisoned);

    expect(report.status).toBe('completed');
    expect(h.sfOptOut('Contact', pg.sfContactIds[0]!)).toBe(true);
    expect(h.sfOptOut('Contact', pb.sfContactIds[0]!)).toBe(false);
    expect(report.chunks.poison).toBe(1);
    expect(report.poison).toEqual([expect.objectContaining({ kind: 'person', error: 'Error' })]);
    expect(JSON.stringify(report.poison)).not.toContain('poison.bad');
    expect(refusals).toBeGreaterThanOrEqual(2);
    expect(report.pendingPeople).toBe(1);
    // The next night (store healthy again) takes the person up from the leftovers.
    const next = await reconcileOptOuts(h.deps);
    expect(next.chunks.poison).toBe(0);
    expect(h.sfOptOut('Contact', pb.sfContactIds[0]!)).toBe(true);
  });

  it('regenerates a lead-changes paging token Marketo stops accepting, instead of failing the night', async () => {
    // Prepare: G unsubscribes in Marketo; the paging token of the lead-changes read is refused once.
    const g = uniqueEmail('gail.token');
    const pg = h.person({ email: g, sfContacts: [g] });
    h.world.recordLeadChange(pg.leads[0]!.id, { unsubscribed: true, at: Date.now() });
    h.local.marketoSandbox!.faults.failNext(1, fault.pagingTokenRejected(), 'leadchanges.json');

    // Act
    const report = await reconcileOptOuts(h.deps);

    // Assess: the run read on from a fresh token and carried the opt-out over.
    expect(h.local.marketoSandbox!.faults.fired.map((f) => f.fault.kind)).toContain('pagingTokenRejected');
    expect(h.sfOptOut('Contact', pg.sfContactIds[0]!)).toBe(true);
    expect(report.changesApplied.marketoToSalesforce).toBeGreaterThanOrEqual(1);
  });

  it('keeps a Salesforce opt-out found on a record nobody changed recently (any side saying opted out wins)', async () => {
    // Prepare: E's Contact is opted out but the nightly only hears about E from Marketo (a new lead change).
    const e = uniqueEmail('erin.drift');
    const pe = h.person({ email: e, sfContacts: [e, e] });
    h.setSalesforceOptOut('Contact', pe.sfContactIds[1]!, true);
    await reconcileOptOuts(h.deps);
    // Now Marketo says "unsubscribed: false" again on a lead change that was never true: not a resubscribe.
    h.world.recordLeadChange(pe.leads[0]!.id, { unsubscribed: false, at: Date.now() });
    await reconcileOptOuts(h.deps);
    expect(h.sfOptOut('Contact', pe.sfContactIds[0]!)).toBe(true);
    expect(h.sfOptOut('Contact', pe.sfContactIds[1]!)).toBe(true);
    expect(h.world.lead(pe.leads[0]!.id)?.unsubscribed).toBe(true);
  });
});

describe('nightly reconciliation with resubscribes allowed from Salesforce', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      optOuts: {
        salesforceField: 'HasOptedOutOfEmail',
        resubscribeSources: ['salesforce'],
        lookbackDays: 1,
      },
    });
    await reconcileOptOuts(h.deps);
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('applies a newer resubscribe from an allowed source to the other side', async () => {
    const f = uniqueEmail('fay.allowed');
    const pf = h.person({ email: f, sfContacts: [f] });
    h.world.recordLeadChange(pf.leads[0]!.id, { unsubscribed: true, at: Date.now() });
    await reconcileOptOuts(h.deps);
    expect(h.sfOptOut('Contact', pf.sfContactIds[0]!)).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    h.setSalesforceOptOut('Contact', pf.sfContactIds[0]!, false);

    const report = await reconcileOptOuts(h.deps);

    expect(report.resubscribes.applied).toBe(1);
    expect(h.world.lead(pf.leads[0]!.id)?.unsubscribed).toBe(false);
    expect((await h.deps.store.get(f))?.state.optedOut).toBe(false);
  });
});
