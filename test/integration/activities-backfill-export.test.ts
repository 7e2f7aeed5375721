import { afterEach, describe, expect, it } from 'vitest';
import { DynamoDbRunReportStore } from '../../shared/adapters/dynamodb/run-report-store.js';
import type { SettingsInput } from '../../shared/config/settings.js';
import {
  type Embedded,
  type EmbeddedOptions,
  startEmbedded,
  taskCountsByActivity,
} from '../helpers/embedded.js';

/**
 * The back-fill by Marketo Bulk Activity Extract on the embedded default: export jobs of ≤ 31-day
 * windows, their rows through the same write path as REST pages, exactly once across a switch-over
 * to REST paging when the export allowance is spent, and across a crash mid-job.
 */

const envs: Embedded[] = [];
afterEach(async () => {
  await Promise.all(envs.splice(0).map((e) => e.stop()));
});

const WORLD = { activities: 2_500, days: 90 };
const CREATE = 'POST /bulk/v1/activities/export/create.json';
const REST_PAGES = 'GET /rest/v1/activities.json';

function withExport(exportAbove: number) {
  return (input: SettingsInput): SettingsInput => ({
    ...input,
    activities: { ...input.activities, backfill: { exportAbove, pollSeconds: 1, chunkBytes: 16_384 } },
  });
}

async function start(options: EmbeddedOptions): Promise<Embedded> {
  const e = await startEmbedded({ world: WORLD, ...options });
  envs.push(e);
  return e;
}

const runs = (emb: Embedded) =>
  new DynamoDbRunReportStore(emb.local.platform.doc, emb.local.platform.tables.runs);

async function runCounts(emb: Embedded, runId: string): Promise<Record<string, number>> {
  return (await runs(emb).get('activities', runId))?.counts ?? {};
}

/** The Tasks a REST-only back-fill of the same world writes (the reference). */
async function restReference(): Promise<Map<string, number>> {
  const ref = await start({ settings: withExport(0) });
  await ref.runCycle();
  return taskCountsByActivity(ref);
}

const sandboxStats = (e: Embedded) => e.local.marketoSandbox!.stats;
const count = (e: Embedded, endpoint: string) => sandboxStats(e).count(endpoint);

describe('back-fill by bulk activity export (embedded default)', () => {
  it('reads a back-fill above the threshold by export jobs, writing each Task once, and the next run by REST', async () => {
    const reference = await restReference();
    const e = await start({ settings: withExport(10), marketo: { bulkExport: { processingMs: 1_500 } } });

    const first = await e.runCycle();
    const counts = await runCounts(e, first.runId);

    expect(first.status).toBe('completed');
    expect(taskCountsByActivity(e)).toEqual(reference);
    expect([...reference.values()].every((n) => n === 1)).toBe(true);
    // 90 days → three windows of ≤ 31 days per stream; REST pages only for the estimate (one per stream).
    expect(count(e, CREATE)).toBe(3 * first.streams.length);
    expect(counts.exportWindows).toBe(3 * first.streams.length);
    expect(count(e, REST_PAGES)).toBe(first.streams.length);
    expect(counts['exportFallback.allowanceSpent'] ?? 0).toBe(0);

    const pagesBefore = count(e, REST_PAGES);
    const second = await e.runCycle();
    expect(second.status).toBe('completed');
    expect(count(e, CREATE)).toBe(3 * first.streams.length);
    expect(count(e, REST_PAGES)).toBeGreaterThan(pagesBefore);
    expect(second.created).toBe(0);
  }, 300_000);

  it('falls back to REST paging for the windows left when the export allowance is spent, exactly once across the switch', async () => {
    const reference = await restReference();
    // One window's file spends the whole allowance: the next create is refused with 1029.
    const e = await start({
      settings: withExport(10),
      marketo: { bulkExport: { processingMs: 500, dailyBytes: 1 } },
    });

    const run = await e.runCycle();
    const counts = await runCounts(e, run.runId);

    expect(run.status).toBe('completed');
    expect(taskCountsByActivity(e)).toEqual(reference);
    expect(sandboxStats(e).count(CREATE, '1029')).toBeGreaterThan(0);
    expect(counts['exportFallback.allowanceSpent']).toBeGreaterThan(0);
    expect(counts.exportRanges).toBeGreaterThan(0);
    expect(count(e, REST_PAGES)).toBeGreaterThan(run.streams.length);
  }, 300_000);

  it('after a crash mid-job continues the same export job (no second create) and writes no duplicate Task', async () => {
    const reference = await restReference();
    const e = await start({
      settings: withExport(10),
      marketo: { bulkExport: { processingMs: 500 } },
      // Long enough that a slow step is not handed to a second consumer while it creates its job
      // (creating twice is the crash-between-create-and-save gap, not what this test injects).
      visibilitySeconds: 5,
    });
    let crashes = 0;

    const run = await e.runCycle({
      beforeDelete: {
        fetch: async (records) => {
          // Crash after the first range of a file was handed off, before the message is deleted.
          if (crashes < 2 && records.some((r) => r.body.includes('"exportWindow"'))) {
            const [current] = await runs(e).recent('activities', 1);
            const ranges = current?.counts.exportRanges ?? 0;
            if (ranges > crashes) {
              crashes += 1;
              throw new Error('simulated crash after an export range, before SQS delete');
            }
          }
        },
      },
    });

    expect(crashes).toBe(2);
    expect(run.status).toBe('completed');
    expect(count(e, CREATE)).toBe(3 * run.streams.length);
    expect(taskCountsByActivity(e)).toEqual(reference);
  }, 300_000);
});
