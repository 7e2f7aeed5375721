import { describe, expect, it } from 'vitest';
import type { FlushOutcome } from '../../../shared/activities/bulk-flush.js';
import { emptyOutcome, type WriteOutcome } from '../../../shared/activities/write-activity-tasks.js';
import { METRICS, metricNames, WEBHOOK_STATUSES } from '../../../shared/observability/metrics.js';
import type { OptOutRunReport } from '../../../shared/optouts/reconcile.js';
import {
  type CountedClients,
  emitApplied,
  emitFetch,
  emitFlush,
  emitReconcile,
  emitWebhookStatus,
  emitWrite,
  withCallsMeasured,
} from '../../../shared/runtime/metric-emitters.js';
import { InMemoryMetricsSink } from '../../helpers/in-memory/metrics-sink.js';

const write = (o: Partial<WriteOutcome>): WriteOutcome => ({ ...emptyOutcome(), ...o });

const flush = (o: Partial<FlushOutcome>): FlushOutcome => ({
  status: 'flushed',
  rows: 0,
  written: 0,
  failed: 0,
  restaged: 0,
  remaining: 0,
  ...o,
});

function report(o: Partial<OptOutRunReport>): OptOutRunReport {
  return {
    kind: 'optouts',
    status: 'completed',
    invocations: 1,
    busyMs: 60_000,
    chunks: { done: 0, retried: 0, split: 0, poison: 0 },
    poison: [],
    runId: 'r',
    startedAt: '2026-03-01T00:00:00.000Z',
    finishedAt: '2026-03-01T00:01:00.000Z',
    durationMs: 60_000,
    window: { marketoSince: '', salesforceSince: '', until: '' },
    changesRead: { marketo: 0, salesforce: 0 },
    people: 0,
    verdicts: {},
    echoesIgnored: 0,
    resubscribes: { applied: 0, rejected: 0 },
    disagreements: { salesforce: 0, marketo: 0, total: 0 },
    fixed: { salesforce: 0, marketo: 0 },
    changesApplied: { marketoToSalesforce: 0, salesforceToMarketo: 0 },
    writes: { salesforce: 0, marketo: 0, failed: 0, retryableFailed: 0 },
    failedByError: {},
    skipped: {},
    apiCalls: { marketo: 0, salesforce: 0 },
    webhookCoverage: { optOuts: 0, deliveredByWebhook: 0, percent: null },
    pendingPeople: 0,
    ...o,
  };
}

/** Counters that a test moves forward, shaped like MarketoClient / SalesforceClient callCounts(). */
function clients() {
  const marketo = { total: 0, errors: {} as Record<string, number> };
  const salesforce = { total: 0 };
  const counted: CountedClients = {
    marketo: { callCounts: () => ({ total: marketo.total, errors: { ...marketo.errors } }) },
    salesforce: { callCounts: () => ({ ...salesforce }) },
  };
  return { marketo, salesforce, counted };
}

describe('metric emitters', () => {
  it('counts the activities an advanced fetch read, and nothing for a stale or recovered one', () => {
    const sink = new InMemoryMetricsSink();
    emitFetch(sink, [
      { status: 'advanced', read: 37, done: false },
      { status: 'stale' },
      { status: 'recovered' },
    ]);
    expect(sink.total('ActivitiesRead')).toBe(37);
  });

  it('sums a write batch: written, staged, failed and each skip reason on its own metric', () => {
    const sink = new InMemoryMetricsSink();
    emitWrite(sink, [
      write({ written: 3, staged: 2, failed: 1, skipped: { leadNotFound: 2, typeDisabled: 1 } }),
      write({ written: 4, skipped: { leadNotFound: 5, alreadyWritten: 1 } }),
    ]);
    expect(sink.total('ActivitiesWritten')).toBe(7);
    expect(sink.total('ActivitiesStaged')).toBe(2);
    expect(sink.total('ActivitiesFailed')).toBe(1);
    expect(sink.total('ActivitiesSkipped_leadNotFound')).toBe(7);
    expect(sink.total('ActivitiesSkipped_typeDisabled')).toBe(1);
    expect(sink.total('ActivitiesSkipped_alreadyWritten')).toBe(1);
    // A reason no message skipped for adds no value.
    expect(sink.names().has('ActivitiesSkipped_noSalesforceRecord')).toBe(false);
  });

  it('counts a settled Bulk job once, not a collections flush, a pending job or a flush that waited', () => {
    const sink = new InMemoryMetricsSink();
    emitFlush(sink, flush({ via: 'bulk', jobId: '750x', written: 900, failed: 3 }));
    emitFlush(sink, flush({ via: 'collections', written: 10 }));
    emitFlush(sink, flush({ status: 'pending', via: 'bulk', jobId: '750y' }));
    emitFlush(sink, 'notQuiet');
    expect(sink.total('BulkJobs')).toBe(1);
    expect(sink.total('ActivitiesWritten')).toBe(910);
    expect(sink.total('ActivitiesFailed')).toBe(3);
  });

  it('measures the vendor calls and the Marketo 606/607/615 a step made, even when it fails', async () => {
    const sink = new InMemoryMetricsSink();
    const c = clients();
    c.marketo.total = 100;
    c.marketo.errors['606'] = 4;
    c.salesforce.total = 50;
    await expect(
      withCallsMeasured(c.counted, sink, async () => {
        c.marketo.total += 7;
        c.marketo.errors['606'] = 6;
        c.marketo.errors['615'] = 1;
        c.marketo.errors['601'] = 1;
        c.salesforce.total += 3;
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(sink.total('MarketoCalls')).toBe(7);
    expect(sink.total('SalesforceCalls')).toBe(3);
    expect(sink.total('MarketoErrors_606')).toBe(2);
    expect(sink.total('MarketoErrors_615')).toBe(1);
    expect(sink.names().has('MarketoErrors_607')).toBe(false);
  });

  it('counts an applied webhook unsubscribe per side with its latency since it was accepted', () => {
    const sink = new InMemoryMetricsSink();
    const now = new Date('2026-03-01T10:00:05.250Z');
    emitApplied(
      sink,
      { receivedAt: '2026-03-01T10:00:00.000Z' },
      { status: 'applied', written: 3, skipped: 0, bySide: { salesforce: 2, marketo: 1 } },
      now,
    );
    emitApplied(sink, { receivedAt: '2026-03-01T09:00:00.000Z' }, { status: 'duplicate' }, now);
    expect(sink.total('OptOutsApplied_salesforce')).toBe(2);
    expect(sink.total('OptOutsApplied_marketo')).toBe(1);
    expect(sink.added.filter((a) => a.name === 'WebhookToAppliedLatency')).toEqual([
      { name: 'WebhookToAppliedLatency', unit: 'Milliseconds', value: 5250 },
    ]);
  });

  it('counts the nightly reconcile per side and its vendor calls', () => {
    const sink = new InMemoryMetricsSink();
    emitReconcile(
      sink,
      report({ fixed: { salesforce: 12, marketo: 5 }, apiCalls: { marketo: 9, salesforce: 4 } }),
    );
    expect(sink.total('OptOutsApplied_salesforce')).toBe(12);
    expect(sink.total('OptOutsApplied_marketo')).toBe(5);
    expect(sink.total('MarketoCalls')).toBe(9);
    expect(sink.total('SalesforceCalls')).toBe(4);
  });

  it('counts webhook requests per known status, anything else as other', () => {
    const sink = new InMemoryMetricsSink();
    for (const code of [202, 202, 401, 418]) emitWebhookStatus(sink, code);
    expect(sink.total('WebhookRequests_202')).toBe(2);
    expect(sink.total('WebhookRequests_401')).toBe(1);
    expect(sink.total('WebhookRequests_other')).toBe(1);
  });
});

describe('METRICS catalogue', () => {
  it('names exactly the metrics the emitters emit (plus JobCompleted, emitted by recordJobCompleted)', async () => {
    // Drive every emitter through every branch that adds a metric.
    const sink = new InMemoryMetricsSink();
    emitFetch(sink, [{ status: 'advanced', read: 1, done: true }]);
    emitWrite(sink, [
      write({
        written: 1,
        staged: 1,
        failed: 1,
        skipped: Object.fromEntries(Object.keys(METRICS.activitiesSkipped).map((r) => [r, 1])),
      }),
    ]);
    emitFlush(sink, flush({ via: 'bulk', jobId: 'j', written: 1, failed: 1 }));
    const c = clients();
    await withCallsMeasured(c.counted, sink, async () => {
      c.marketo.total = 1;
      for (const code of ['606', '607', '615']) c.marketo.errors[code] = 1;
    });
    emitApplied(
      sink,
      { receivedAt: '2026-03-01T10:00:00.000Z' },
      { status: 'applied', written: 2, skipped: 0, bySide: { salesforce: 1, marketo: 1 } },
      new Date('2026-03-01T10:00:01.000Z'),
    );
    emitReconcile(sink, report({}));
    for (const code of [...WEBHOOK_STATUSES, '299']) emitWebhookStatus(sink, Number(code));

    const catalogue = new Set(metricNames());
    expect(new Set([...sink.names(), METRICS.jobCompleted.name])).toEqual(catalogue);
    // Names are unique: two entries never share a metric.
    expect(catalogue.size).toBe(metricNames().length);
  });
});
