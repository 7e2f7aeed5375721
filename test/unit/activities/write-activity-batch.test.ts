import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type SalesforceSandbox,
  startSalesforceSandbox,
} from '../../../sandboxes/salesforce/salesforce-sandbox.js';
import type { ActivityDeps } from '../../../shared/activities/activity-deps.js';
import { flushStagedTasks } from '../../../shared/activities/bulk-flush.js';
import type { WriteActivity, WriteMessage } from '../../../shared/activities/messages.js';
import { SalesforceClient } from '../../../shared/adapters/salesforce/salesforce-client.js';
import { DEFAULT_SETTINGS_INPUT, parseSettings } from '../../../shared/config/settings.js';
import { createLogger } from '../../../shared/observability/logger.js';
import type { MarketoApi } from '../../../shared/ports/marketo-api.js';
import type { MessageSender, SendOptions } from '../../../shared/ports/message-sender.js';
import { createWriteActivityTasks } from '../../../shared/runtime/activity-handlers.js';
import { InMemoryCursorStore } from '../../helpers/in-memory/cursor-store.js';
import { InMemoryLeadCacheStore } from '../../helpers/in-memory/lead-cache-store.js';
import { InMemoryLeadTaskIndex } from '../../helpers/in-memory/lead-task-index.js';
import { InMemoryLedgerStore } from '../../helpers/in-memory/ledger-store.js';
import { InMemoryPendingActivityStore } from '../../helpers/in-memory/pending-activity-store.js';
import { InMemoryRunReportStore } from '../../helpers/in-memory/run-report-store.js';
import { InMemoryStagedTaskStore } from '../../helpers/in-memory/staged-task-store.js';

const RUN = '2026-02-01T00:00:00.000Z#batch';
const LEADS = Array.from({ length: 40 }, (_, i) => ({
  Id: `00Q${String(i).padStart(12, '0')}AAA`,
  LastName: `Lead ${i}`,
  Company: 'Acme',
}));
/** Marketo lead ids 1..40 have a Salesforce Lead; 41..45 exist only in Marketo. */
const LINKED = 40;

let sf: SalesforceSandbox;
let deps: ActivityDeps;
let sent: { url: string; body: unknown; options?: SendOptions }[];

beforeEach(async () => {
  sf = await startSalesforceSandbox({ seed: { leads: LEADS }, bulkProcessingDelayMs: 2 });
  sent = [];
  const sender: MessageSender = {
    async send(url, bodies, options) {
      for (const body of bodies) sent.push({ url, body, ...(options ? { options } : {}) });
    },
  };
  // Linked leads are in the cache; the unlinked ones are looked up (a negative answer is never
  // cached) and Marketo still has no Salesforce link for them. Nothing else is called.
  const marketo = new Proxy({} as MarketoApi, {
    get: (_t, name) =>
      name === 'getLeads'
        ? async ({ filterValues }: { filterValues: number[] }) =>
            filterValues.map((id) => ({ id, sfdcType: null, sfdcLeadId: null, sfdcContactId: null }))
        : () => {
            throw new Error(`unexpected Marketo call ${String(name)}`);
          },
  });
  deps = {
    settings: parseSettings(DEFAULT_SETTINGS_INPUT),
    logger: createLogger('test', { logLevel: 'CRITICAL' }),
    cursors: new InMemoryCursorStore(),
    runs: new InMemoryRunReportStore(),
    ledger: new InMemoryLedgerStore(),
    leadCache: new InMemoryLeadCacheStore(3600),
    staging: new InMemoryStagedTaskStore(),
    pending: new InMemoryPendingActivityStore(),
    leadTasks: new InMemoryLeadTaskIndex(),
    sender,
    queueUrls: { flush: 'http://flush-queue' },
    marketo,
    salesforce: new SalesforceClient({
      loginUrl: sf.loginUrl,
      clientId: sf.clientId,
      clientSecret: sf.clientSecret,
      retry: { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 2 },
      bulk: { pollIntervalMs: 5 },
    }),
  };
  await deps.leadCache.putMany(
    Array.from({ length: LINKED + 5 }, (_, i) =>
      i < LINKED
        ? { leadId: i + 1, exists: true, sfdcType: 'Lead', sfdcLeadId: LEADS[i]!.Id, sfdcContactId: null }
        : { leadId: i + 1, exists: true, sfdcType: null, sfdcLeadId: null, sfdcContactId: null },
    ),
  );
  await deps.runs.start('activities', RUN);
});

afterEach(async () => {
  await sf.stop();
});

function activity(guid: string, leadId: number): WriteActivity {
  return {
    marketoGUID: guid,
    leadId,
    activityDate: '2026-01-15T10:00:00Z',
    activityTypeId: 10,
    activityTypeName: 'Open Email',
    primaryAttributeValue: 'Newsletter',
  };
}

/** `count` messages of `size` activities, each activity on a linked lead unless `unlinkedEvery` says otherwise. */
function messages(count: number, size: number, unlinkedEvery = 0): WriteMessage[] {
  return Array.from({ length: count }, (_, m) => ({
    kind: 'writeTasks',
    runId: RUN,
    activities: Array.from({ length: size }, (_, i) => {
      const n = m * size + i;
      const unlinked = unlinkedEvery > 0 && n % unlinkedEvery === 0;
      return activity(`m${m}-a${i}`, unlinked ? LINKED + 1 + (n % 5) : (n % LINKED) + 1);
    }),
  }));
}

function event(bodies: (WriteMessage | string)[], ids = bodies.map((_, i) => `msg-${i}`)): SQSEvent {
  return {
    Records: bodies.map(
      (body, i) =>
        ({
          messageId: ids[i]!,
          receiptHandle: `rh-${i}`,
          body: typeof body === 'string' ? body : JSON.stringify(body),
          attributes: { ApproximateReceiveCount: '1' },
          messageAttributes: {},
          md5OfBody: '',
          eventSource: 'aws:sqs',
          eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:sync-write',
          awsRegion: 'us-east-1',
        }) as unknown as SQSRecord,
    ),
  };
}

const handler = () => createWriteActivityTasks(deps);
const run = (e: SQSEvent) => handler()(e, {} as Context);
const failedIds = (r: { batchItemFailures: { itemIdentifier: string }[] }) =>
  r.batchItemFailures.map((f) => f.itemIdentifier).sort();
const counts = async () => (await deps.runs.get('activities', RUN))?.counts ?? {};
const tasksPer = (guid: string) => sf.tasksByActivityId(guid).length;

describe('write step: one pool per SQS batch', () => {
  it('writes the Tasks of 10 messages in collections of exactly 200, and the remainder with the flush: ceil(N / 200) calls in all', async () => {
    const batch = messages(10, 300, 20); // 3,000 activities, 150 on leads without a Salesforce record
    const tasks = 3000 - 150;

    const res = await run(event(batch));

    expect(res.batchItemFailures).toEqual([]);
    expect(sf.stats.recordsPerCall('upsert')).toEqual(Array(Math.floor(tasks / 200)).fill(200));
    const staged = await deps.staging.list();
    expect(staged.reduce((n, s) => n + s.rows, 0)).toBe(tasks % 200);

    await flushStagedTasks(deps);

    expect(sf.stats.countByKind().upsert).toBe(Math.ceil(tasks / 200));
    expect(sf.state.tasks.size).toBe(tasks);
    expect(await counts()).toMatchObject({
      written: tasks,
      staged: tasks % 200,
      'skipped.noSalesforceRecord': 150,
    });
  });

  it('fails only the message that is not valid; the rest of the batch is written', async () => {
    const batch: (WriteMessage | string)[] = messages(4, 50);
    batch[2] = '{"kind":"writeTasks","runId":';

    const res = await run(event(batch));

    expect(failedIds(res)).toEqual(['msg-2']);
    await flushStagedTasks(deps);
    expect(sf.state.tasks.size).toBe(150);
    expect(tasksPer('m2-a0')).toBe(0);
  });

  it('fails only the messages whose records hit UNABLE_TO_LOCK_ROW inside a shared chunk; their redelivery writes the rest once', async () => {
    const batch = messages(8, 50); // chunk 1 holds messages 0–3
    sf.faults.inject('UNABLE_TO_LOCK_ROW', { count: 3, on: ['upsert'] }); // the first 3 records: message 0

    const first = await run(event(batch));

    expect(failedIds(first)).toEqual(['msg-0']);
    expect(sf.stats.recordsPerCall('upsert')).toEqual([200, 200]);
    expect(sf.state.tasks.size).toBe(397);

    const again = await run(event([batch[0]!], ['msg-0']));

    expect(again.batchItemFailures).toEqual([]);
    await flushStagedTasks(deps);
    expect(sf.state.tasks.size).toBe(400);
    expect(batch.flatMap((m) => m.activities).every((a) => tasksPer(a.marketoGUID) === 1)).toBe(true);
    expect(await counts()).toMatchObject({ written: 400, retried: 3, 'skipped.alreadyWritten': 47 });
  });

  it('stops at an exhausted API budget: messages of chunks already written succeed, the rest fail with the limit error', async () => {
    const batch = messages(8, 50);
    const deferred: string[] = [];
    const upsert = deps.salesforce.upsert.bind(deps.salesforce);
    let calls = 0;
    deps.salesforce.upsert = async (...args) => {
      if (++calls === 2) sf.faults.inject('REQUEST_LIMIT_EXCEEDED', { on: ['upsert'] });
      return upsert(...args);
    };
    const deferrer = {
      async defer(record: SQSRecord) {
        deferred.push(record.messageId);
      },
    };

    const res = await createWriteActivityTasks(deps, deferrer)(event(batch), {} as Context);

    expect(failedIds(res)).toEqual(['msg-4', 'msg-5', 'msg-6', 'msg-7']);
    // Parked until the budget frees up, not retried into the dead-letter queue.
    expect(deferred.sort()).toEqual(['msg-4', 'msg-5', 'msg-6', 'msg-7']);
    expect(sf.state.tasks.size).toBe(200);
  });

  it('writes an activity carried by two messages of one batch once, and counts the copy as already written', async () => {
    const [a, b] = messages(2, 3);
    b!.activities[0] = a!.activities[0]!;

    const res = await run(event([a!, b!]));
    await flushStagedTasks(deps);

    expect(res.batchItemFailures).toEqual([]);
    expect(tasksPer('m0-a0')).toBe(1);
    expect(await counts()).toMatchObject({ written: 5, 'skipped.alreadyWritten': 1 });
  });

  it('stages every Task of a run that has read bulkThreshold activities, and signals the flush once, delayed by the quiet period', async () => {
    deps.settings = parseSettings({ ...DEFAULT_SETTINGS_INPUT, salesforce: { bulkThreshold: 500 } });
    await deps.runs.add('activities', RUN, { read: 500 });
    const batch = messages(3, 300);

    const res = await run(event(batch));

    expect(res.batchItemFailures).toEqual([]);
    expect(sf.stats.countByKind().upsert ?? 0).toBe(0);
    expect((await deps.staging.list()).map((s) => s.rows)).toEqual([300, 300, 300]);
    expect(sent).toEqual([
      {
        url: 'http://flush-queue',
        body: { kind: 'flushTasks', runId: RUN },
        options: { delaySeconds: deps.settings.salesforce.bulkFlushQuietSeconds },
      },
    ]);

    const out = await flushStagedTasks(deps);

    expect(out).toMatchObject({ via: 'bulk', written: 900 });
    expect(sf.bulkJobs()).toHaveLength(1);
  });

  it('restages a redelivered message under the same key instead of adding a copy', async () => {
    await deps.runs.add('activities', RUN, { read: 2000 });
    const batch = messages(1, 100);

    await run(event(batch, ['first']));
    await run(event(batch, ['redelivered']));

    expect(await deps.staging.list()).toHaveLength(1);
  });

  it('keeps one message per unit in ledger mode (its leases are per attempt): partial chunks, no staging', async () => {
    deps.settings = parseSettings({ ...DEFAULT_SETTINGS_INPUT, salesforce: { upsertMode: 'ledger' } });
    await sf.stop();
    sf = await startSalesforceSandbox({ seed: { leads: LEADS }, taskActivityIdMode: 'plain-field' });
    deps.salesforce = new SalesforceClient({
      loginUrl: sf.loginUrl,
      clientId: sf.clientId,
      clientSecret: sf.clientSecret,
    });

    const res = await run(event(messages(3, 120)));

    expect(res.batchItemFailures).toEqual([]);
    expect(sf.stats.recordsPerCall('create')).toEqual([120, 120, 120]);
    expect(await deps.staging.list()).toEqual([]);
    expect(sf.state.tasks.size).toBe(360);
  });
});

describe('write step: ledger-mode claims', () => {
  it('releases the claims it took when another claim of the unit fails, so the retry need not wait for the lease', async () => {
    deps.settings = parseSettings({ ...DEFAULT_SETTINGS_INPUT, salesforce: { upsertMode: 'ledger' } });
    const [msg] = messages(1, 30);
    const claim = deps.ledger.claim.bind(deps.ledger);
    deps.ledger.claim = async (entry, owner, leaseMs, now) => {
      if (entry.marketoGUID === 'm0-a7') throw new Error('simulated DynamoDB failure');
      return claim(entry, owner, leaseMs, now);
    };

    const res = await run(event([msg!]));

    expect(failedIds(res)).toEqual(['msg-0']);
    expect(sf.state.tasks.size).toBe(0);
    // Another attempt claims every other activity at once (no live lease left behind).
    deps.ledger.claim = claim;
    const again = await Promise.all(
      msg!.activities
        .filter((a) => a.marketoGUID !== 'm0-a7')
        .map((a) =>
          deps.ledger.claim({ marketoGUID: a.marketoGUID, whoId: 'x', leadId: a.leadId }, 'next', 60_000),
        ),
    );
    expect(again.every((c) => c.claimed)).toBe(true);
  });
});

describe('write step: the ledger keeps what a later read needs (externalId mode)', () => {
  /** Activity dates are 2026-01-15T10:00Z; the next cycle reads from `ledgerFrom`. */
  const withLedgerFrom = (msgs: WriteMessage[], ledgerFrom: string): WriteMessage[] =>
    msgs.map((m) => ({ ...m, ledgerFrom }));
  const ledgerStatus = async (guids: string[]) =>
    [...(await deps.ledger.getMany(guids)).values()].map((e) => e.status);

  it('writes no done entry for an activity before the next read; Salesforce’s created flag counts it, a redelivery creates nothing', async () => {
    const batch = withLedgerFrom(messages(2, 200), '2026-02-01T00:00:00Z');
    const guids = batch.flatMap((m) => m.activities.map((a) => a.marketoGUID));

    const first = await run(event(batch));

    expect(first.batchItemFailures).toEqual([]);
    expect(sf.state.tasks.size).toBe(400);
    expect(await ledgerStatus(guids)).toEqual([]);
    expect(await counts()).toMatchObject({ written: 400, created: 400 });

    const again = await run(event(batch, ['again-0', 'again-1']));

    expect(again.batchItemFailures).toEqual([]);
    expect(sf.state.tasks.size).toBe(400);
    expect(guids.every((g) => tasksPer(g) === 1)).toBe(true);
    expect(await counts()).toMatchObject({ written: 400, created: 400, 'skipped.alreadyWritten': 400 });
  });

  it('records the activities a later cycle re-reads (on or after ledgerFrom), and every one in ledger mode', async () => {
    const batch = withLedgerFrom(messages(1, 200), '2026-01-15T10:00:00Z');
    const guids = batch[0]!.activities.map((a) => a.marketoGUID);

    await run(event(batch));

    expect(await ledgerStatus(guids)).toEqual(Array(200).fill('done'));
    const again = await run(event(batch, ['again']));
    expect(again.batchItemFailures).toEqual([]);
    // Skipped through the ledger: no second upsert.
    expect(sf.stats.countByKind().upsert).toBe(1);
  });

  it('keeps the entry of a Task that went elsewhere than the lead’s own link (its reason is what explain prints)', async () => {
    const contact = sf.state.create(
      'Contact',
      { LastName: 'Converted' },
      { client: undefined, autoAssign: undefined, kind: 'test' },
    );
    await deps.leadCache.putMany([
      {
        leadId: 1,
        exists: true,
        sfdcType: 'Lead',
        sfdcLeadId: LEADS[0]!.Id,
        sfdcContactId: null,
        convertedContactId: String(contact.id),
      },
    ]);
    const batch = withLedgerFrom(messages(1, 3), '2026-02-01T00:00:00Z');
    batch[0]!.activities = batch[0]!.activities.map((a) => ({
      ...a,
      leadId: a === batch[0]!.activities[0] ? 1 : 2,
    }));

    await run(event(batch));
    await flushStagedTasks(deps);

    expect(sf.state.tasks.size).toBe(3);
    const entries = await deps.ledger.getMany(batch[0]!.activities.map((a) => a.marketoGUID));
    expect([...entries.keys()]).toEqual([batch[0]!.activities[0]!.marketoGUID]);
    expect(entries.get(batch[0]!.activities[0]!.marketoGUID)?.how).toContain('converted');
  });
});
