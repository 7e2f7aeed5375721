import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, runServeCommand } from '../../../cli/commands/serve.js';
import { reconcileOptOuts } from '../../../shared/optouts/reconcile.js';
import { staticWebhookSecrets } from '../../../shared/optouts/webhook-secrets.js';
import { eventually, type Harness, startHarness, uniqueEmail, WEBHOOK_SECRET } from './harness.js';

/** A custom checkbox an org uses instead of the standard Email Opt Out (seed 001 names it). */
const FIELD = 'Marketo_Sales_Opt_Out__c';
const STANDARD = 'HasOptedOutOfEmail';

describe(`opt-outs carried by a custom Salesforce field (optOuts.salesforceField = ${FIELD}), embedded default`, () => {
  let h: Harness;
  let server: RunningServer;

  beforeAll(async () => {
    h = await startHarness({ optOuts: { salesforceField: FIELD } });
    await reconcileOptOuts(h.deps); // the seeded look-back window out of the way
    server = await runServeCommand(h.deps, { port: 0, secrets: staticWebhookSecrets(WEBHOOK_SECRET) });
    await h.startConsumer();
  });
  afterAll(async () => {
    await server?.close();
    await h?.stop();
  });

  it('webhook: sets the custom field on the Lead and the Contact sharing the email, never the standard box', async () => {
    const e = uniqueEmail('custom.webhook');
    const p = h.person({ email: e, sfLeads: [e], sfContacts: [e.toUpperCase()] });

    const res = await fetch(`${server.url}/webhooks/unsubscribe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-webhook-secret': WEBHOOK_SECRET },
      body: JSON.stringify({ email: e }),
    });

    expect(res.status).toBe(202);
    await eventually(() => h.sfOptOut('Lead', p.sfLeadIds[0]!) && h.sfOptOut('Contact', p.sfContactIds[0]!));
    expect(h.sfValue('Lead', p.sfLeadIds[0]!, FIELD)).toBe(true);
    expect(h.sfValue('Contact', p.sfContactIds[0]!, FIELD)).toBe(true);
    expect(h.sfValue('Lead', p.sfLeadIds[0]!, STANDARD)).toBe(false);
    expect(h.sfValue('Contact', p.sfContactIds[0]!, STANDARD)).toBe(false);
    await eventually(() => h.world.lead(p.leads[0]!.id)?.unsubscribed === true);
  });

  it('nightly, Marketo → Salesforce: a Marketo unsubscribe sets the custom field on every Lead and Contact', async () => {
    const e = uniqueEmail('custom.mkto');
    const p = h.person({ email: e, sfLeads: [e], sfContacts: [e] });
    h.world.recordLeadChange(p.leads[0]!.id, { unsubscribed: true, at: Date.now() });

    const report = await reconcileOptOuts(h.deps);

    expect(report.changesApplied.marketoToSalesforce).toBeGreaterThanOrEqual(1);
    expect(h.sfValue('Lead', p.sfLeadIds[0]!, FIELD)).toBe(true);
    expect(h.sfValue('Contact', p.sfContactIds[0]!, FIELD)).toBe(true);
    expect(h.sfValue('Lead', p.sfLeadIds[0]!, STANDARD)).toBe(false);
    expect(h.sfValue('Contact', p.sfContactIds[0]!, STANDARD)).toBe(false);
  });

  it('nightly, Salesforce → Marketo: the custom field ticked on a Contact reaches Marketo and the Lead; the standard box alone does not', async () => {
    const e = uniqueEmail('custom.sf');
    const p = h.person({ email: e, sfLeads: [e], sfContacts: [e] });
    h.setSalesforceOptOut('Contact', p.sfContactIds[0]!, true);
    // Someone else ticks only the standard box: not the field this org uses for the sync.
    const other = uniqueEmail('custom.standard-only');
    const q = h.person({ email: other, sfContacts: [other] });
    h.local.salesforceSandbox!.state.update(
      'Contact',
      { Id: q.sfContactIds[0]!, [STANDARD]: true },
      { client: 'salesforce-ui', autoAssign: undefined, kind: 'ui' },
    );

    const report = await reconcileOptOuts(h.deps);

    // (The Lead is read first and aligns the person, so the Contact's change is counted as a sighting.)
    expect(report.fixed.marketo).toBeGreaterThanOrEqual(1);
    expect(report.fixed.salesforce).toBeGreaterThanOrEqual(1);
    expect(h.world.lead(p.leads[0]!.id)?.unsubscribed).toBe(true);
    expect(h.sfValue('Lead', p.sfLeadIds[0]!, FIELD)).toBe(true);
    expect(h.world.lead(q.leads[0]!.id)?.unsubscribed).toBe(false);
    expect(h.sfValue('Contact', q.sfContactIds[0]!, FIELD)).not.toBe(true);
  });
});
