import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SalesforceSandbox } from '../../../sandboxes/salesforce/salesforce-sandbox.js';
import { acceptUnsubscribe } from '../../../shared/optouts/accept-unsubscribe.js';
import { applyPeople } from '../../../shared/optouts/night-apply.js';
import { readSalesforceChunk, type SalesforcePosition } from '../../../shared/optouts/night-read.js';
import { addTally, emptyTally, type FieldHistoryTally } from '../../../shared/optouts/night-tally.js';
import { SALESFORCE_PERSON_OBJECTS } from '../../../shared/optouts/person-records.js';
import { reconcileOptOuts } from '../../../shared/optouts/reconcile.js';
import {
  readResubscribeHistory,
  sightedResubscribes,
} from '../../../shared/optouts/salesforce-field-history.js';
import { type Harness, startHarness, uniqueEmail } from './harness.js';

/**
 * Issue 11 item 3: a Salesforce resubscribe is dated by evidence that the opt-out field itself
 * changed — its LeadHistory / ContactHistory row where the org tracks the field, otherwise the lower
 * bound (just after our last sighting) — never by SystemModstamp, which any edit moves.
 *
 * The Salesforce side of a night is driven here as reconcile.ts drives it (readSalesforceChunk page
 * by page, each page's people through applyPeople), passing the policy's resubscribe sources.
 */

const UI = { client: 'salesforce-ui', autoAssign: undefined, kind: 'ui' };
const tick = () => new Promise((r) => setTimeout(r, 15));
/**
 * The start of a window no earlier change falls into: SOQL datetime literals are whole seconds, so
 * wait for the next second (a record changed just before would otherwise be read too).
 */
async function freshSince(): Promise<Date> {
  const next = Math.ceil((Date.now() + 1) / 1000) * 1000;
  await new Promise((r) => setTimeout(r, next - Date.now() + 5));
  return new Date(next);
}

interface SalesforceSide {
  fieldHistory: FieldHistoryTally;
  positions: SalesforcePosition[];
  verdicts: Record<string, number>;
  /** Salesforce queries the reading made (alignment's look-ups not counted). */
  queries: number;
}

/** The Salesforce side of a night over records modified since `since`. */
async function salesforceSide(
  h: Harness,
  since: Date,
  options: { rows?: number; resubscribeSources?: readonly ('webhook' | 'marketo' | 'salesforce')[] } = {},
): Promise<SalesforceSide> {
  const sandbox = h.local.salesforceSandbox as SalesforceSandbox;
  const queryCount = () => sandbox.stats.countByKind().query ?? 0;
  let queries = 0;
  const runId = `it-${randomUUID()}`;
  let position: SalesforcePosition = { sobject: 'Lead', done: false };
  const positions: SalesforcePosition[] = [];
  let tally = emptyTally();
  const fieldHistory: FieldHistoryTally = { queries: 0, dated: 0, undated: 0, unsupported: 0 };
  while (!position.done) {
    const before = queryCount();
    const chunk = await readSalesforceChunk(h.salesforceApi, {
      position,
      objects: SALESFORCE_PERSON_OBJECTS,
      field: h.deps.settings.optOuts.salesforceField,
      since,
      until: new Date(),
      runId,
      resubscribeSources: options.resubscribeSources ?? h.deps.settings.optOuts.resubscribeSources,
      ...(options.rows ? { rows: options.rows } : {}),
    });
    queries += queryCount() - before;
    for (const k of ['queries', 'dated', 'undated', 'unsupported'] as const)
      fieldHistory[k] += chunk.fieldHistory[k];
    const outcome = await applyPeople(h.deps, [...chunk.changes.keys()], chunk.changes, `nightly:${runId}`);
    tally = addTally(tally, outcome.tally);
    position = chunk.next;
    positions.push(position);
  }
  return {
    fieldHistory,
    positions,
    verdicts: tally.verdicts as Record<string, number>,
    queries,
  };
}

/** A person with one Contact and its Marketo lead, opted out on both sides by a night. */
async function optedOutPerson(h: Harness, label: string) {
  const since = await freshSince();
  const email = uniqueEmail(label);
  const p = h.person({ email, sfContacts: [email] });
  const contactId = p.sfContactIds[0] as string;
  h.setSalesforceOptOut('Contact', contactId, true);
  await salesforceSide(h, since);
  expect(h.world.lead(p.leads[0]!.id)?.unsubscribed).toBe(true);
  await tick();
  return { email: email.toLowerCase(), contactId, leadId: p.leads[0]!.id };
}

/** A webhook unsubscribe accepted (stored) whose alignment has not run yet (queued, or parked). */
async function webhookOptOut(h: Harness, email: string) {
  const now = new Date();
  await acceptUnsubscribe(h.webhook, { eventId: randomUUID(), email, at: now, receivedAt: now });
  await tick();
}

async function historyIdsOf(h: Harness, email: string): Promise<string[]> {
  return (await h.deps.store.history(email)).flatMap((e) =>
    e.kind === 'observed' && e.evidence.historyId ? [e.evidence.historyId] : [],
  );
}

describe('resubscribes from Salesforce dated by field history (HasOptedOutOfEmail)', () => {
  let h: Harness;
  let sandbox: SalesforceSandbox;
  beforeAll(async () => {
    h = await startHarness({ people: 20, optOuts: { resubscribeSources: ['salesforce'] } });
    sandbox = h.local.salesforceSandbox as SalesforceSandbox;
  });
  afterAll(async () => {
    await h?.stop();
  });
  const trackContacts = (fields: string[] | undefined) =>
    sandbox.state.history.setTracking('Contact', fields);

  it('a resubscribe older than a newer opt-out, its record edited since, is dated by its history row: the opt-out wins', async () => {
    trackContacts(['HasOptedOutOfEmail']);
    const { email, contactId, leadId } = await optedOutPerson(h, 'older.resub');
    const since = await freshSince();
    h.setSalesforceOptOut('Contact', contactId, false); // T1: a user resubscribes in Salesforce
    await tick();
    await webhookOptOut(h, email); // T2: a newer opt-out
    sandbox.state.update('Contact', { Id: contactId, FirstName: 'Edited' }, UI); // T3: SystemModstamp moves

    const side = await salesforceSide(h, since);

    expect(side.fieldHistory).toMatchObject({ queries: 1, dated: 1, undated: 0 });
    expect(side.verdicts.resubscribeRejected).toBe(1);
    expect(h.sfOptOut('Contact', contactId)).toBe(true);
    expect(h.world.lead(leadId)?.unsubscribed).toBe(true);
    const [historyId] = await historyIdsOf(h, email);
    expect(historyId).toMatch(/^017/);
  });

  it('the same resubscribe with the field not tracked falls back to the lower bound: the opt-out still wins', async () => {
    trackContacts(['Email']);
    const { email, contactId } = await optedOutPerson(h, 'older.untracked');
    const since = await freshSince();
    h.setSalesforceOptOut('Contact', contactId, false);
    await tick();
    await webhookOptOut(h, email);
    sandbox.state.update('Contact', { Id: contactId, FirstName: 'Edited' }, UI);

    const side = await salesforceSide(h, since);

    expect(side.fieldHistory).toMatchObject({ queries: 1, dated: 0, undated: 1 });
    expect(side.verdicts.resubscribeRejected).toBe(1);
    expect(h.sfOptOut('Contact', contactId)).toBe(true);
    expect(await historyIdsOf(h, email)).toEqual([]);
  });

  it('a resubscribe newer than the latest opt-out wins with history; the lower bound alone (field untracked) would refuse it', async () => {
    trackContacts(['HasOptedOutOfEmail']);
    const a = await optedOutPerson(h, 'newer.tracked');
    await webhookOptOut(h, a.email); // the latest opt-out, after our last sighting of the record
    const since = await freshSince();
    h.setSalesforceOptOut('Contact', a.contactId, false); // then the resubscribe

    const side = await salesforceSide(h, since);

    expect(side.verdicts.resubscribe).toBe(1);
    expect(h.world.lead(a.leadId)?.unsubscribed).toBe(false);
    expect(h.sfOptOut('Contact', a.contactId)).toBe(false);
    expect((await h.deps.store.get(a.email))?.state.optedOut).toBe(false);

    trackContacts(['Email']);
    const b = await optedOutPerson(h, 'newer.untracked');
    await webhookOptOut(h, b.email);
    const since2 = await freshSince();
    h.setSalesforceOptOut('Contact', b.contactId, false);

    const sideB = await salesforceSide(h, since2);

    expect(sideB.verdicts.resubscribeRejected).toBe(1);
    expect(h.sfOptOut('Contact', b.contactId)).toBe(true);
    expect(h.world.lead(b.leadId)?.unsubscribed).toBe(true);
  });

  it('an org without ContactHistory (INVALID_TYPE): the night completes on the lower bound and asks once per run', async () => {
    trackContacts(['HasOptedOutOfEmail']);
    const a = await optedOutPerson(h, 'unsupported.a');
    const b = await optedOutPerson(h, 'unsupported.b');
    await webhookOptOut(h, a.email);
    await webhookOptOut(h, b.email);
    trackContacts(undefined);
    const since = await freshSince();
    h.setSalesforceOptOut('Contact', a.contactId, false);
    h.setSalesforceOptOut('Contact', b.contactId, false);

    // One row per page: two Contact pages (and one more to see the end), one Lead page.
    const side = await salesforceSide(h, since, { rows: 1 });

    expect(side.positions.at(-1)).toMatchObject({ done: true, historyUnsupported: ['Contact'] });
    expect(side.fieldHistory).toMatchObject({ queries: 1, unsupported: 1, dated: 0, undated: 2 });
    // Lead page 1 + Contact pages 1, 2 and the empty third + the one refused history query.
    expect(side.queries).toBe(5);
    expect(side.verdicts.resubscribeRejected).toBe(2);
    expect(h.sfOptOut('Contact', a.contactId)).toBe(true);
    expect(h.sfOptOut('Contact', b.contactId)).toBe(true);
    trackContacts(['HasOptedOutOfEmail']);
  });

  it('reads the history of scattered records by Id (for records sighted while aligning), latest change to subscribed only', async () => {
    trackContacts(['HasOptedOutOfEmail']);
    const since = await freshSince();
    const people = [0, 1, 2].map((i) =>
      h.person({ email: uniqueEmail(`scattered.${i}`), sfContacts: [uniqueEmail(`c.${i}`)] }),
    );
    const [a, b, c] = people.map((p) => p.sfContactIds[0] as string) as [string, string, string];
    for (const id of [a, b, c]) h.setSalesforceOptOut('Contact', id, true);
    await tick();
    h.setSalesforceOptOut('Contact', a, false);
    h.setSalesforceOptOut('Contact', b, false);
    await tick();
    h.setSalesforceOptOut('Contact', b, true);
    await tick();
    h.setSalesforceOptOut('Contact', b, false); // b's latest change counts

    const got = await readResubscribeHistory(h.salesforceApi, {
      sobject: 'Contact',
      field: 'HasOptedOutOfEmail',
      ids: [a, b, c],
      since,
      select: 'ids',
    });

    if (got === 'unsupported') throw new Error('ContactHistory is tracked here');
    expect([...got.keys()].sort()).toEqual([a, b].sort()); // c only ever changed to opted out
    const bRows = sandbox.state.history.table('ContactHistory')?.filter((r) => r.ContactId === b) ?? [];
    expect(got.get(b)?.historyId).toBe(bRows.at(-1)?.Id);
    expect(got.get(b)?.at).toBe(new Date(String(bRows.at(-1)?.CreatedDate)).toISOString());
  });

  it('dates sighted records by object (Lead and Contact), skipping an object whose history the org refuses', async () => {
    trackContacts(['HasOptedOutOfEmail']);
    const since = await freshSince();
    const e = uniqueEmail('sighted');
    const p = h.person({ email: e, sfLeads: [e], sfContacts: [e] });
    const lead = p.sfLeadIds[0] as string;
    const contact = p.sfContactIds[0] as string;
    for (const [o, id] of [
      ['Lead', lead],
      ['Contact', contact],
    ] as const) {
      h.setSalesforceOptOut(o, id, true);
      h.setSalesforceOptOut(o, id, false);
    }
    const candidates = [
      { target: `salesforce:Lead:${lead}` as const, since: since.toISOString() },
      { target: `salesforce:Contact:${contact}` as const, since: since.toISOString() },
    ];

    const both = await sightedResubscribes(h.salesforceApi, { field: 'HasOptedOutOfEmail', candidates });
    trackContacts(undefined);
    const leadOnly = await sightedResubscribes(h.salesforceApi, { field: 'HasOptedOutOfEmail', candidates });
    trackContacts(['HasOptedOutOfEmail']);

    expect([...both.keys()].sort()).toEqual(candidates.map((c) => c.target).sort());
    expect([...leadOnly.keys()]).toEqual([`salesforce:Lead:${lead}`]);
    expect(both.get(`salesforce:Lead:${lead}`)?.historyId).toMatch(/^017/);
  });

  it('no extra Salesforce call when resubscribes from Salesforce are not allowed', async () => {
    trackContacts(['HasOptedOutOfEmail']);
    const a = await optedOutPerson(h, 'calls.a');
    const since = await freshSince();
    h.setSalesforceOptOut('Contact', a.contactId, false);
    // Not aligned in between: both reads below see the same "subscribed" Contact.
    const sandboxQueries = () => sandbox.stats.countByKind().query ?? 0;
    const read = async (resubscribeSources: readonly ('webhook' | 'marketo' | 'salesforce')[]) => {
      const before = sandboxQueries();
      const chunk = await readSalesforceChunk(h.salesforceApi, {
        position: { sobject: 'Contact', done: false },
        objects: SALESFORCE_PERSON_OBJECTS,
        field: 'HasOptedOutOfEmail',
        since,
        until: new Date(),
        runId: 'it-calls',
        resubscribeSources,
      });
      return { queries: sandboxQueries() - before, chunk };
    };

    const notAllowed = await read(['webhook', 'marketo']);
    const allowed = await read(['salesforce']);

    expect(notAllowed.queries).toBe(1);
    expect(notAllowed.chunk.fieldHistory.queries).toBe(0);
    expect(notAllowed.chunk.changes.get(a.email)?.[0]).not.toHaveProperty('priorValue');
    expect(allowed.queries).toBe(2);
    expect(allowed.chunk.changes.get(a.email)?.[0]).toMatchObject({ value: false, priorValue: true });
  });
});

describe('a whole night (reconcileOptOuts) with field history: Marketo read first, Salesforce sighted while aligning', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ people: 20, optOuts: { resubscribeSources: ['salesforce'] } });
    await reconcileOptOuts(h.deps);
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('a newer Salesforce resubscribe wins by its history row; an older one, edited since, loses', async () => {
    // Prepare: two people opted out in Marketo and aligned to Salesforce by a night.
    const pause = () => new Promise((r) => setTimeout(r, 20));
    const person = (label: string) => {
      const e = uniqueEmail(label);
      const p = h.person({ email: e, sfContacts: [e] });
      h.world.recordLeadChange(p.leads[0]!.id, { unsubscribed: true, at: Date.now() });
      return { e, p };
    };
    const newer = person('night.newer');
    const older = person('night.older');
    await reconcileOptOuts(h.deps);
    await pause();
    // Older: resubscribed in Salesforce, then a webhook opt-out, then an unrelated edit of the record
    // (SystemModstamp moves past the opt-out). Newer: the webhook opt-out, then the resubscribe.
    h.setSalesforceOptOut('Contact', older.p.sfContactIds[0]!, false);
    await pause();
    for (const x of [newer, older]) {
      const now = new Date();
      await acceptUnsubscribe(h.webhook, { eventId: randomUUID(), email: x.e, at: now, receivedAt: now });
    }
    await pause();
    h.setSalesforceOptOut('Contact', newer.p.sfContactIds[0]!, false);
    h.local.salesforceSandbox!.state.update(
      'Contact',
      { Id: older.p.sfContactIds[0]!, FirstName: 'Edited' },
      { client: 'salesforce-ui', autoAssign: undefined, kind: 'ui' },
    );

    // Act
    const report = await reconcileOptOuts(h.deps);

    // Assess: each dated by its own history row, whichever step of the night saw it.
    expect(h.world.lead(newer.p.leads[0]!.id)?.unsubscribed).toBe(false);
    expect(h.sfOptOut('Contact', older.p.sfContactIds[0]!)).toBe(true);
    expect(h.world.lead(older.p.leads[0]!.id)?.unsubscribed).toBe(true);
    expect(report.resubscribes.applied).toBeGreaterThanOrEqual(1);
  });

  it("does not read a record's history again for the alignment of the Salesforce page that dated it", async () => {
    // Prepare: a person only in Salesforce (no Marketo lead: no Marketo page meets them), opted out
    // and seen so by a night, then resubscribed.
    const e = uniqueEmail('night.once');
    const p = h.person({ email: e, marketoEmails: [], sfContacts: [e] });
    h.setSalesforceOptOut('Contact', p.sfContactIds[0]!, true);
    await reconcileOptOuts(h.deps);
    await new Promise((r) => setTimeout(r, 20));
    h.setSalesforceOptOut('Contact', p.sfContactIds[0]!, false);
    const sf = await h.deps.salesforce();
    const historyQueries: string[] = [];
    const counting = Object.assign(Object.create(sf) as typeof sf, {
      query: <T extends Record<string, unknown>>(q: Parameters<typeof sf.query>[0]) => {
        if (/History\b/.test(String(q))) historyQueries.push(String(q));
        return sf.query<T>(q);
      },
    });

    // Act
    const report = await reconcileOptOuts({ ...h.deps, salesforce: async () => counting });

    // Assess: one history query, the Contact page's range; its alignment did not ask again by Id.
    expect(historyQueries).toHaveLength(1);
    expect(historyQueries[0]).toMatch(/ContactId >= /);
    expect(report.resubscribes.applied).toBe(1);
    expect((await h.deps.store.get(e.toLowerCase()))?.state.optedOut).toBe(false);
  });
});

describe('resubscribes dated by field history on a custom opt-out field (Marketo_Sales_Opt_Out__c)', () => {
  const FIELD = 'Marketo_Sales_Opt_Out__c';
  let h: Harness;
  let sandbox: SalesforceSandbox;
  beforeAll(async () => {
    h = await startHarness({
      people: 20,
      optOuts: { salesforceField: FIELD, resubscribeSources: ['salesforce'] },
    });
    sandbox = h.local.salesforceSandbox as SalesforceSandbox;
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("dates by the custom field's own history rows, not the standard box's", async () => {
    // An older resubscribe on the custom field; later the standard box is ticked and cleared (its own
    // history rows, newer than the opt-out): they must not date the custom field's change.
    const { email, contactId } = await optedOutPerson(h, 'custom.older');
    const since = await freshSince();
    h.setSalesforceOptOut('Contact', contactId, false);
    await tick();
    await webhookOptOut(h, email);
    sandbox.state.update('Contact', { Id: contactId, HasOptedOutOfEmail: true }, UI);
    sandbox.state.update('Contact', { Id: contactId, HasOptedOutOfEmail: false }, UI);

    const side = await salesforceSide(h, since);

    expect(side.fieldHistory).toMatchObject({ queries: 1, dated: 1 });
    expect(side.verdicts.resubscribeRejected).toBe(1);
    expect(h.sfValue('Contact', contactId, FIELD)).toBe(true);
  });

  it('a newer resubscribe on the custom field wins by its history row', async () => {
    const { email, contactId, leadId } = await optedOutPerson(h, 'custom.newer');
    await webhookOptOut(h, email);
    const since = await freshSince();
    h.setSalesforceOptOut('Contact', contactId, false);

    const side = await salesforceSide(h, since);

    expect(side.verdicts.resubscribe).toBe(1);
    expect(h.world.lead(leadId)?.unsubscribed).toBe(false);
    expect(h.sfValue('Contact', contactId, FIELD)).toBe(false);
  });
});
