/**
 * A large night of the opt-out reconcile on the embedded default (issue 11 item 2): N people, each
 * one Marketo lead and one Salesforce Contact created in the window (so every Contact is a changed
 * row), half of them unsubscribed in Marketo (a lead change each), half opted out in Salesforce.
 * The night runs as the Lambda would — invocations of at most `budgetMs` each, resumed from the
 * checkpoint — back to back in this process. Prints and writes: invocations, chunks, vendor calls,
 * wall time, and whether every record ends up opted out. Figures, not a timed test.
 *
 *   npx tsx bench/optout-night.ts [people=100000] [budgetMs=720000] [out=bench/results/<date>-optout-night.json]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname } from 'node:path';
import { reconcileOptOuts } from '../shared/optouts/reconcile.js';
import { startHarness } from '../test/integration/optouts/harness.js';

async function main() {
  const [peopleArg, budgetArg, outArg] = process.argv.slice(2);
  const n = Number(peopleArg ?? 100_000);
  const budgetMs = Number(budgetArg ?? 12 * 60_000);
  const out = outArg ?? `bench/results/${new Date().toISOString().slice(0, 10)}-optout-night.json`;
  const h = await startHarness({ people: 20 });
  try {
    await reconcileOptOuts(h.deps); // the seeded look-back window out of the way
    const tag = Date.now().toString(36);
    const setupStart = Date.now();
    const people = Array.from({ length: n }, (_, i) => {
      const email = `night${i}.${tag}@example.com`;
      const p = h.person({ email, sfContacts: [email] });
      const lead = p.leads[0];
      const contactId = p.sfContactIds[0];
      if (!lead || !contactId) throw new Error('the harness made no lead/contact');
      if (i % 2 === 0) h.world.recordLeadChange(lead.id, { unsubscribed: true, at: Date.now() });
      else h.setSalesforceOptOut('Contact', contactId, true);
      return { leadId: lead.id, contactId };
    });
    const setupMs = Date.now() - setupStart;

    // DynamoDB calls of the night, by operation (the cost and, deployed, the latency that bounds it).
    const dynamodbCalls: Record<string, number> = {};
    h.local.platform.doc.middlewareStack.add(
      (next, context) => async (args) => {
        const op = String(context.commandName ?? 'unknown').replace(/Command$/, '');
        dynamodbCalls[op] = (dynamodbCalls[op] ?? 0) + 1;
        return next(args);
      },
      { step: 'initialize', name: 'benchCountDynamoDbCalls' },
    );
    const t0 = Date.now();
    const invocationMs: number[] = [];
    let report = await timed(() => reconcileOptOuts(h.deps, { budgetMs }), invocationMs);
    while (report.status === 'continued')
      report = await timed(() => reconcileOptOuts(h.deps, { budgetMs }), invocationMs);
    const wallMs = Date.now() - t0;
    const notApplied = people.filter(
      (p) => !h.sfOptOut('Contact', p.contactId) || h.world.lead(p.leadId)?.unsubscribed !== true,
    ).length;
    const figures = {
      people: n,
      changedRecords: report.changesRead.marketo + report.changesRead.salesforce,
      budgetMs,
      invocations: report.invocations,
      invocationMs,
      chunks: report.chunks,
      apiCalls: report.apiCalls,
      dynamodbCalls,
      dynamodbCallsPerRecord: Number(
        (
          Object.values(dynamodbCalls).reduce((a, b) => a + b, 0) /
          Math.max(1, report.changesRead.marketo + report.changesRead.salesforce)
        ).toFixed(2),
      ),
      writes: report.writes,
      wallMs,
      busyMs: report.busyMs,
      setupMs,
      notApplied,
      withinOneInvocation: report.invocations === 1,
      machine: { cpus: availableParallelism(), loadavg: loadavg() },
    };
    console.log(JSON.stringify(figures, null, 2));
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(
      out,
      `${JSON.stringify({ bench: 'optout-night', at: new Date().toISOString(), figures, report }, null, 2)}\n`,
    );
  } finally {
    await h.stop();
  }
}

async function timed<T>(fn: () => Promise<T>, into: number[]): Promise<T> {
  const t = Date.now();
  try {
    return await fn();
  } finally {
    into.push(Date.now() - t);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
