import type { SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runServeCommandLocal } from '../../../cli/commands/optouts.js';
import {
  type RunningServer,
  runServeCommand,
  ServeSourceLimiterMissingError,
} from '../../../cli/commands/serve.js';
import type { OptOutDeps } from '../../../shared/optouts/opt-out-deps.js';
import { reconcileOptOuts } from '../../../shared/optouts/reconcile.js';
import { staticWebhookSecrets } from '../../../shared/optouts/webhook-secrets.js';
import { eventually, type Harness, startHarness, uniqueEmail, WEBHOOK_SECRET } from './harness.js';

describe('real-time unsubscribe webhook → queue → Salesforce (embedded default)', () => {
  let h: Harness;
  let server: RunningServer;
  const crashOnce = new Set<string>();
  const crashed = new Set<string>();
  const crashAfterOnce = new Set<string>();

  beforeAll(async () => {
    h = await startHarness();
    await reconcileOptOuts(h.deps); // take the seeded look-back window out of the way
    server = await runServeCommand(h.deps, { port: 0, secrets: staticWebhookSecrets(WEBHOOK_SECRET) });
    const bodyEmail = (r: SQSRecord) => (JSON.parse(r.body) as { email?: string }).email ?? '';
    await h.startConsumer({
      // A Lambda crash after the 202 and before the Salesforce write: the message comes back.
      crashBeforeHandling: (r) => {
        const email = bodyEmail(r);
        if (crashOnce.has(email) && !crashed.has(email)) {
          crashed.add(email);
          return true;
        }
        return false;
      },
      // A crash after the writes and before the delete: the message is delivered again.
      beforeDelete: async (records) => {
        for (const r of records) {
          const email = bodyEmail(r);
          if (crashAfterOnce.delete(email)) throw new Error('simulated crash before delete');
        }
      },
    });
  });
  afterAll(async () => {
    await server?.close();
    await h?.stop();
  });

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.url}/webhooks/unsubscribe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-webhook-secret': WEBHOOK_SECRET, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('answers /healthz and refuses bad requests over HTTP without writing', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await post({ email: 'x@example.com' }, { 'x-webhook-secret': 'nope' })).status).toBe(401);
    expect((await post('x'.repeat(17 * 1024))).status).toBe(413);
    expect((await post({ email: 'x@example.com' }, { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await post('{"email":')).status).toBe(400);
    expect(await h.deps.store.get('x@example.com')).toBeUndefined();
  });

  it('answers 403 over HTTP to a source outside optOuts.webhookAllowedSources and writes nothing; a listed source is accepted', async () => {
    const sent: unknown[] = [];
    const served = (webhookAllowedSources: string[]): OptOutDeps => ({
      ...h.deps,
      settings: { ...h.deps.settings, optOuts: { ...h.deps.settings.optOuts, webhookAllowedSources } },
      sender: {
        send: async (url, bodies, options) => {
          sent.push(...bodies);
          await h.deps.sender.send(url, bodies, options);
        },
      },
    });
    const email = uniqueEmail('outsider');
    const outside = await runServeCommand(served(['192.0.2.0/24']), {
      port: 0,
      secrets: staticWebhookSecrets(WEBHOOK_SECRET),
    });
    const inside = await runServeCommand(served(['192.0.2.0/24', '127.0.0.1']), {
      port: 0,
      secrets: staticWebhookSecrets(WEBHOOK_SECRET),
    });
    const postTo = (url: string) =>
      fetch(`${url}/webhooks/unsubscribe`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-webhook-secret': WEBHOOK_SECRET },
        body: JSON.stringify({ email }),
      });
    try {
      const refused = await postTo(outside.url);
      expect(refused.status).toBe(403);
      expect(await refused.json()).toMatchObject({ error: 'forbidden_source' });
      expect(await h.deps.store.get(email)).toBeUndefined();
      expect(sent).toEqual([]);

      expect((await postTo(inside.url)).status).toBe(202);
      expect(sent).toHaveLength(1);
    } finally {
      await outside.close();
      await inside.close();
    }
  });

  it('reaches every Salesforce Lead and Contact with the email, and Marketo when the sender is not Marketo', async () => {
    const email = uniqueEmail('Web.Hook');
    const p = h.person({ email, sfLeads: [email], sfContacts: [email.toLowerCase(), email.toUpperCase()] });
    // Email only: a sender other than Marketo (e.g. a preference centre), so Marketo is written too.
    const res = await post({ email: ` ${email.toUpperCase()} `, reason: 'Clicked unsubscribe' });
    expect(res.status).toBe(202);
    const { accepted, eventId } = (await res.json()) as { accepted: boolean; eventId: string };
    expect(accepted).toBe(true);

    await eventually(
      () =>
        h.sfOptOut('Lead', p.sfLeadIds[0]!) &&
        p.sfContactIds.every((id) => h.sfOptOut('Contact', id)) &&
        h.world.lead(p.leads[0]!.id)?.unsubscribed === true,
    );
    const key = email.toLowerCase();
    await eventually(async () => (await h.deps.store.getEvent(key, eventId))?.status === 'applied');
    const written = (await h.deps.store.history(key)).filter((e) => e.kind === 'written');
    expect(written).toHaveLength(4);
    for (const w of written) expect(w.kind === 'written' && w.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('still applies an unsubscribe when the consumer crashed after the 202 and before the Salesforce write', async () => {
    const email = uniqueEmail('crash.before');
    const p = h.person({ email, sfContacts: [email] });
    crashOnce.add(email);
    expect((await post({ email })).status).toBe(202);
    await eventually(() => h.sfOptOut('Contact', p.sfContactIds[0]!));
    expect(crashed.has(email)).toBe(true);
    expect(h.ourSalesforceWrites(p.sfContactIds[0]!)).toBe(1);
  });

  it('applies duplicate deliveries once (redelivery after a crash, replayed webhook)', async () => {
    const email = uniqueEmail('dup.delivery');
    const p = h.person({ email, sfContacts: [email] });
    crashAfterOnce.add(email);
    const body = { email, occurredAt: new Date().toISOString() };
    const first = await post(body);
    const replay = await post(body);
    expect(first.status).toBe(202);
    expect(replay.status).toBe(202);
    expect(((await replay.json()) as { duplicate?: boolean }).duplicate).toBe(true);
    await eventually(() => h.sfOptOut('Contact', p.sfContactIds[0]!));
    // Let the redelivery (after the simulated crash before delete) come and go.
    await eventually(async () => (await h.local.queueDepth('unsubscribe')).visible === 0, 10_000);
    await new Promise((r) => setTimeout(r, 2500));
    expect(crashAfterOnce.has(email)).toBe(false);
    expect(h.ourSalesforceWrites(p.sfContactIds[0]!)).toBe(1);
    expect((await h.local.queueDepth('unsubscribe')).dlq).toBe(0);
  });

  it('throttles per source in serve on the embedded DynamoDB counters: 429 + Retry-After, nothing written', async () => {
    const limited = { ...h.deps.settings.optOuts, webhookPerSourceLimit: { requests: 2, perSeconds: 3600 } };
    // serve never takes the limit without the counters behind it.
    await expect(
      runServeCommand(
        { ...h.deps, settings: { ...h.deps.settings, optOuts: limited } },
        { port: 0, secrets: staticWebhookSecrets(WEBHOOK_SECRET) },
      ),
    ).rejects.toThrow(ServeSourceLimiterMissingError);
    // The `serve` command's own wiring (runServeCommandLocal): the webhookSources table of the local environment.
    const local = {
      ...h.local,
      platform: { ...h.local.platform, settings: { ...h.local.platform.settings, optOuts: limited } },
    };
    const served = await runServeCommandLocal(local, {
      port: 0,
      secrets: staticWebhookSecrets(WEBHOOK_SECRET),
      untilSignal: false,
    });
    const emails = [uniqueEmail('burst'), uniqueEmail('burst'), uniqueEmail('burst')];
    const postTo = (email: string) =>
      fetch(`${served.url}/webhooks/unsubscribe`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-webhook-secret': WEBHOOK_SECRET },
        body: JSON.stringify({ email }),
      });
    try {
      // Not within 10 s of the hour's end, so the three requests fall in one window.
      const leftMs = 3_600_000 - (Date.now() % 3_600_000);
      if (leftMs < 10_000) await new Promise((resolve) => setTimeout(resolve, leftMs + 100));
      const statuses: number[] = [];
      for (const email of emails) statuses.push((await postTo(email)).status);
      expect(statuses).toEqual([202, 202, 429]);
      const again = await postTo(emails[2] as string);
      expect(again.status).toBe(429);
      expect(Number(again.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(again.headers.get('retry-after'))).toBeLessThanOrEqual(3600);
      expect(await again.json()).toMatchObject({ error: 'too_many_requests' });
      expect(await h.deps.store.get(emails[2] as string)).toBeUndefined();
      expect(await h.deps.store.get(emails[0] as string)).toBeDefined();
    } finally {
      await served.close();
    }
  });

  it('resolves a webhook that names only the Marketo lead id', async () => {
    const email = uniqueEmail('only.lead.id');
    const p = h.person({ email, sfLeads: [email] });
    // Marketo's "Call Webhook" step: the lead is unsubscribed in Marketo already.
    h.world.recordLeadChange(p.leads[0]!.id, { unsubscribed: true, at: Date.now() });
    expect((await post({ leadId: p.leads[0]!.id })).status).toBe(202);
    await eventually(() => h.sfOptOut('Lead', p.sfLeadIds[0]!));
    const state = await h.deps.store.get(email.toLowerCase());
    expect(state?.state.webhookAt).toBeDefined();
  });

  it('reports webhook coverage in the next nightly run', async () => {
    const email = uniqueEmail('covered');
    const p = h.person({ email, sfContacts: [email] });
    // Marketo records the unsubscribe and its trigger campaign calls the webhook.
    h.world.recordLeadChange(p.leads[0]!.id, { unsubscribed: true, at: Date.now() });
    expect((await post({ email, leadId: p.leads[0]!.id })).status).toBe(202);
    await eventually(() => h.sfOptOut('Contact', p.sfContactIds[0]!));
    const report = await reconcileOptOuts(h.deps);
    expect(report.webhookCoverage.optOuts).toBeGreaterThanOrEqual(1);
    expect(report.webhookCoverage.deliveredByWebhook).toBe(report.webhookCoverage.optOuts);
    expect(report.writes.salesforce + report.writes.marketo).toBe(0);
    console.log('[webhook] nightly after webhooks', JSON.stringify(report));
  });
});
