/**
 * Burst of concurrent unsubscribe webhooks on the embedded default (issue 11 item 1): N requests
 * posted at once to the local `serve` endpoint, consumed with a batching window (as the Lambda event
 * source would), and for each N: time from the last 202 until every Salesforce Contact and every
 * Marketo lead of those people carries the opt-out, and the vendor calls spent by the consumer.
 * Half the senders are a preference centre (email only: Marketo is written), half Marketo's "Call
 * Webhook" step (email + leadId; the lead is already unsubscribed, so only Salesforce is written).
 * Targets: applied within 10 s (N = 200) / 30 s (N = 1,000) of the last 202; Salesforce calls
 * ≤ 3 × ⌈N/200⌉, Marketo calls ≤ 2 × ⌈N/300⌉ + 2. Figures, not a timed test.
 *
 *   npx tsx bench/webhook-burst.ts [sizes=200,1000] [batchSize=1000] [windowMs=2000] [modes=live,formed] [out=bench/results/<date>-webhook-burst.json]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname } from 'node:path';
import { runServeCommand } from '../cli/commands/serve.js';
import { QUEUES, UNSUBSCRIBE_CONSUMER } from '../shared/adapters/sqs/queue-definitions.js';
import { reconcileOptOuts } from '../shared/optouts/reconcile.js';
import { staticWebhookSecrets } from '../shared/optouts/webhook-secrets.js';
import {
  eventually,
  startHarness,
  uniqueEmail,
  WEBHOOK_SECRET,
} from '../test/integration/optouts/harness.js';

interface BurstFigures {
  requests: number;
  statuses: Record<string, number>;
  /** First request sent → last 202 received. */
  acceptAllMs: number;
  /** Last 202 → every Salesforce record opted out / every Marketo lead unsubscribed. */
  appliedSalesforceMs: number;
  appliedMarketoMs: number;
  appliedBothMs: number;
  calls: { salesforce: number; marketo: number };
  budgets: { salesforce: number; marketo: number };
  targetMs: number;
  met: { time: boolean; salesforceCalls: boolean; marketoCalls: boolean };
}

/**
 * `live`: the consumer polls while the burst is accepted (batches form within the window).
 * `formed`: the consumer starts after the last 202, as when the burst arrives within one batching
 * window — on a loaded machine acceptance alone can outlast the window, which `live` then shows.
 */
type Mode = 'live' | 'formed';

const IN_FLIGHT = 200;

async function burst(
  n: number,
  batchSize: number,
  windowMs: number,
  mode: Mode,
): Promise<BurstFigures & { mode: Mode }> {
  // The deployed visibility timeout: a batching window must not outlast it (a 1 s test timeout would
  // hand messages back while their batch still forms, and count their second handling).
  const h = await startHarness({
    people: 20,
    unsubscribeVisibilitySeconds: QUEUES.unsubscribe.visibilityTimeoutSeconds,
  });
  try {
    await reconcileOptOuts(h.deps);
    const server = await runServeCommand(h.deps, { port: 0, secrets: staticWebhookSecrets(WEBHOOK_SECRET) });
    const people = Array.from({ length: n }, (_, i) => {
      const email = uniqueEmail(`burst${i}`);
      const p = h.person({ email, sfContacts: [email] });
      const lead = p.leads[0]!;
      const fromMarketo = i % 2 === 1;
      if (fromMarketo) h.world.recordLeadChange(lead.id, { unsubscribed: true, at: Date.now() });
      return { email, leadId: lead.id, contactId: p.sfContactIds[0] as string, fromMarketo };
    });
    const sf = await h.deps.salesforce();
    const mk = await h.deps.marketo();
    const before = { s: sf.callCounts().total, m: mk.callCounts().total };
    const consume = () =>
      h.startConsumer({
        batchSize,
        maxBatchingWindowMs: windowMs,
        concurrency: UNSUBSCRIBE_CONSUMER.maxConcurrency,
      });
    if (mode === 'live') await consume();

    const statuses: Record<string, number> = {};
    const t0 = Date.now();
    // All at once, up to `inFlight` open requests (the local server's accept backlog is 511).
    let next = 0;
    const post = async (p: (typeof people)[number]) => {
      const res = await fetch(`${server.url}/webhooks/unsubscribe`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-webhook-secret': WEBHOOK_SECRET },
        body: JSON.stringify(p.fromMarketo ? { email: p.email, leadId: p.leadId } : { email: p.email }),
      });
      await res.arrayBuffer();
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    };
    await Promise.all(
      Array.from({ length: Math.min(IN_FLIGHT, n) }, async () => {
        while (next < people.length) await post(people[next++] as (typeof people)[number]);
      }),
    );
    const lastAccepted = Date.now();
    if (mode === 'formed') await consume();
    let sfDone = 0;
    let mkDone = 0;
    await eventually(() => {
      if (!sfDone && people.every((p) => h.sfOptOut('Contact', p.contactId))) sfDone = Date.now();
      if (!mkDone && people.every((p) => h.world.lead(p.leadId)?.unsubscribed === true)) mkDone = Date.now();
      return Boolean(sfDone && mkDone);
    }, 600_000);
    // Let the consumer finish its bookkeeping before counting calls.
    await new Promise((r) => setTimeout(r, 1_000));
    await server.close();
    const calls = { salesforce: sf.callCounts().total - before.s, marketo: mk.callCounts().total - before.m };
    const budgets = { salesforce: 3 * Math.ceil(n / 200), marketo: 2 * Math.ceil(n / 300) + 2 };
    const targetMs = n <= 200 ? 10_000 : 30_000;
    const appliedBothMs = Math.max(sfDone, mkDone) - lastAccepted;
    return {
      mode,
      requests: n,
      statuses,
      acceptAllMs: lastAccepted - t0,
      appliedSalesforceMs: sfDone - lastAccepted,
      appliedMarketoMs: mkDone - lastAccepted,
      appliedBothMs,
      calls,
      budgets,
      targetMs,
      met: {
        time: appliedBothMs <= targetMs,
        salesforceCalls: calls.salesforce <= budgets.salesforce,
        marketoCalls: calls.marketo <= budgets.marketo,
      },
    };
  } finally {
    await h.stop();
  }
}

async function main(): Promise<void> {
  const sizes = (process.argv[2] ?? '200,1000').split(',').map(Number);
  const batchSize = Number(process.argv[3] ?? UNSUBSCRIBE_CONSUMER.batchSize);
  const windowMs = Number(process.argv[4] ?? UNSUBSCRIBE_CONSUMER.maxBatchingWindowSeconds * 1000);
  const modes = (process.argv[5] ?? 'live,formed').split(',') as Mode[];
  const out = process.argv[6] ?? `bench/results/${new Date().toISOString().slice(0, 10)}-webhook-burst.json`;
  const bursts: (BurstFigures & { mode: Mode })[] = [];
  for (const mode of modes) {
    for (const n of sizes) {
      const figures = await burst(n, batchSize, windowMs, mode);
      process.stdout.write(`${JSON.stringify(figures)}\n`);
      bursts.push(figures);
    }
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify({ bench: 'webhook-burst', at: new Date().toISOString(), machine: { cpus: availableParallelism(), loadAverage: loadavg() }, consumer: { batchSize, windowMs, concurrency: UNSUBSCRIBE_CONSUMER.maxConcurrency }, bursts }, null, 2)}\n`,
  );
  process.stdout.write(`written ${out}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
