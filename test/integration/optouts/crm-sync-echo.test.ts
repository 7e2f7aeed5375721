import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OptOutDeps } from '../../../shared/optouts/opt-out-deps.js';
import { reconcileOptOuts } from '../../../shared/optouts/reconcile.js';
import type { SalesforceApi } from '../../../shared/ports/salesforce-api.js';
import { type Harness, startHarness, uniqueEmail } from './harness.js';

/**
 * Marketo's native Salesforce sync copies our Salesforce opt-out writes into the Marketo leads
 * linked to those records, as changes made by its sync user at our write time. The next night reads
 * them as Marketo changes: they must be recognised as our own writes coming back (echo), never
 * re-applied, and never flip a decision.
 */

/** Deps whose Salesforce writes are followed at once by Marketo's sync of the written records. */
function withCrmSync(h: Harness, synced: number[]): OptOutDeps {
  const sf = h.salesforceApi;
  const mirrored: SalesforceApi = {
    upsert: (o, f, r) => sf.upsert(o, f, r),
    create: (o, r) => sf.create(o, r),
    destroy: (o, ids) => sf.destroy(o, ids),
    query: (q) => sf.query(q),
    limitInfo: () => sf.limitInfo(),
    callCounts: () => sf.callCounts(),
    update: async (sobject, records) => {
      const results = await sf.update(sobject, records);
      // The sync runs between our Salesforce write and our Marketo write (it polls every few
      // minutes; here it wins the race, the hardest case: our Marketo write then changes nothing).
      for (const r of records)
        if (sobject === 'Lead' || sobject === 'Contact') synced.push(...h.crmSync(sobject, String(r.Id)));
      return results;
    },
  };
  return { ...h.deps, salesforce: () => mirrored };
}

describe("Marketo's own CRM sync echoing our Salesforce writes (embedded default)", () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
    await reconcileOptOuts(h.deps); // the seeded look-back window out of the way
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('a Salesforce opt-out written by us and synced back into Marketo is an echo next night: no write, no flip', async () => {
    // Prepare: the person opts out on a Salesforce Lead; their Contact is linked to their Marketo lead.
    const e = uniqueEmail('crm.echo');
    const p = h.person({ email: e, sfLeads: [e], sfContacts: [e] });
    const lead = p.leads[0]!;
    expect(h.world.lead(lead.id)?.sfdcContactId).toBe(p.sfContactIds[0]);
    h.setSalesforceOptOut('Lead', p.sfLeadIds[0]!, true);
    const synced: number[] = [];
    const deps = withCrmSync(h, synced);
    const first = await reconcileOptOuts(deps);
    expect(h.sfOptOut('Contact', p.sfContactIds[0]!)).toBe(true);
    // Marketo's sync set the lead's Unsubscribed from our Contact write (a change by the sync user).
    expect(synced).toContain(lead.id);
    expect(first.writes.failed).toBe(0);
    const sfWritesBefore = h.ourSalesforceWrites(p.sfContactIds[0]!) + h.ourSalesforceWrites(p.sfLeadIds[0]!);
    const historyBefore = await h.deps.store.history(e);

    // Act: the next two nights (the sync keeps running).
    const second = await reconcileOptOuts(deps);
    const third = await reconcileOptOuts(deps);

    // Assess: the synced change was read, recognised as ours, and nothing was written or flipped.
    const history = await h.deps.store.history(e);
    const newEntries = history.slice(historyBefore.length);
    expect(newEntries).toContainEqual(
      expect.objectContaining({
        kind: 'observed',
        source: 'marketo-nightly',
        target: `marketo:${lead.id}`,
        verdict: 'echo',
      }),
    );
    expect(newEntries.filter((x) => x.kind !== 'observed')).toEqual([]);
    expect(second.echoesIgnored).toBeGreaterThanOrEqual(1);
    for (const r of [second, third]) {
      expect(r.writes.salesforce + r.writes.marketo).toBe(0);
      expect(r.disagreements.total).toBe(0);
      expect(r.webhookCoverage.optOuts).toBe(0); // our echo is not counted as a Marketo opt-out
    }
    expect(h.ourSalesforceWrites(p.sfContactIds[0]!) + h.ourSalesforceWrites(p.sfLeadIds[0]!)).toBe(
      sfWritesBefore,
    );
    expect((await h.deps.store.get(e))?.state.optedOut).toBe(true);
    expect(h.world.lead(lead.id)?.unsubscribed).toBe(true);
  });
});

describe("Marketo's CRM sync with resubscribes allowed from Salesforce (embedded default)", () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ optOuts: { resubscribeSources: ['salesforce'] } });
    await reconcileOptOuts(h.deps);
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("a Salesforce resubscribe that Marketo's sync copies into Marketo is applied once and never reverted", async () => {
    // Prepare: opted out from Marketo, carried to Salesforce by a night (the sync running throughout).
    const e = uniqueEmail('crm.resub');
    const p = h.person({ email: e, sfLeads: [e], sfContacts: [e] });
    const lead = p.leads[0]!;
    const synced: number[] = [];
    const deps = withCrmSync(h, synced);
    h.world.recordLeadChange(lead.id, { unsubscribed: true, at: Date.now() });
    await reconcileOptOuts(deps);
    expect(h.sfOptOut('Contact', p.sfContactIds[0]!)).toBe(true);
    expect(h.sfOptOut('Lead', p.sfLeadIds[0]!)).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    // A sales rep unticks the Contact (an allowed resubscribe); Marketo's sync copies it onto the
    // linked lead before the night, as a Marketo change by its sync user ('marketo' is not allowed).
    h.setSalesforceOptOut('Contact', p.sfContactIds[0]!, false);
    expect(h.crmSync('Contact', p.sfContactIds[0]!)).toEqual([lead.id]);

    // Act
    const second = await reconcileOptOuts(deps);
    const third = await reconcileOptOuts(deps);

    // Assess: resubscribed once, everywhere, and left so.
    expect(second.resubscribes.applied).toBeGreaterThanOrEqual(1);
    expect(h.sfOptOut('Contact', p.sfContactIds[0]!)).toBe(false);
    expect(h.sfOptOut('Lead', p.sfLeadIds[0]!)).toBe(false);
    expect(h.world.lead(lead.id)?.unsubscribed).toBe(false);
    expect((await h.deps.store.get(e))?.state.optedOut).toBe(false);
    expect(third.writes.salesforce + third.writes.marketo).toBe(0);
    expect(third.disagreements.total).toBe(0);
  });
});
