/**
 * Webhook latency on the embedded default: for N unsubscribes (default 250) posted to the local
 * `serve` endpoint, the time to the 202 and the time from the 202 to the Salesforce write landing
 * in the sandbox (its write log), with the local consumer polling the unsubscribe queue.
 *
 *   npx tsx bench/webhook-latency.ts [requests=250] [concurrency=4]
 */
import { runServeCommand } from '../cli/commands/serve.js';
import { reconcileOptOuts } from '../shared/optouts/reconcile.js';
import { staticWebhookSecrets } from '../shared/optouts/webhook-secrets.js';
import {
  eventually,
  OUR_CLIENT,
  startHarness,
  uniqueEmail,
  WEBHOOK_SECRET,
} from '../test/integration/optouts/harness.js';

const quantile = (sorted: number[], q: number) =>
  sorted.length
    ? (sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number)
    : Number.NaN;

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 250);
  const concurrency = Number(process.argv[3] ?? 4);
  const h = await startHarness({ people: 100 });
  try {
    await reconcileOptOuts(h.deps);
    const server = await runServeCommand(h.deps, { port: 0, secrets: staticWebhookSecrets(WEBHOOK_SECRET) });
    await h.startConsumer({ concurrency: 4 });
    const sf = h.local.salesforceSandbox;
    if (!sf) throw new Error('needs the Salesforce sandbox');
    const people = Array.from({ length: n }, (_, i) => {
      const email = uniqueEmail(`bench${i}`);
      const p = h.person({ email, sfContacts: [email] });
      // Marketo-originated, as with the "Call Webhook" flow step: the lead is already unsubscribed.
      h.world.recordLeadChange(p.leads[0]!.id, { unsubscribed: true, at: Date.now() });
      return { email, leadId: p.leads[0]!.id, contactId: p.sfContactIds[0] as string };
    });
    const accepted = new Map<string, number>();
    const toAccept: number[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < people.length) {
          const p = people[next++] as (typeof people)[number];
          const t0 = Date.now();
          const res = await fetch(`${server.url}/webhooks/unsubscribe`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-webhook-secret': WEBHOOK_SECRET },
            body: JSON.stringify({ email: p.email, leadId: p.leadId, reason: 'bench' }),
          });
          await res.arrayBuffer();
          if (res.status !== 202) throw new Error(`unexpected status ${res.status}`);
          const t1 = Date.now();
          accepted.set(p.contactId, t1);
          toAccept.push(t1 - t0);
        }
      }),
    );
    const writtenAt = () => {
      const m = new Map<string, number>();
      for (const w of sf.state.writeLog) {
        if (w.client === OUR_CLIENT && w.operation === 'update' && !m.has(w.id))
          m.set(w.id, Date.parse(w.at));
      }
      return m;
    };
    await eventually(() => people.every((p) => writtenAt().has(p.contactId)), 120_000);
    const written = writtenAt();
    const toWrite = people.map(
      (p) => (written.get(p.contactId) as number) - (accepted.get(p.contactId) as number),
    );
    const a = [...toAccept].sort((x, y) => x - y);
    const w = [...toWrite].sort((x, y) => x - y);
    const result = {
      requests: n,
      concurrency,
      acceptMs: { median: quantile(a, 0.5), p99: quantile(a, 0.99), max: a.at(-1) },
      acceptedToSalesforceWriteMs: { median: quantile(w, 0.5), p99: quantile(w, 0.99), max: w.at(-1) },
      duplicatesWritten: sf.state.writeLog.filter((x) => x.client === OUR_CLIENT).length - n,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    await server.close();
  } finally {
    await h.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
