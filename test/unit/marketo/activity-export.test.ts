import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Activity } from '../../../shared/domain/activity.js';
import { ExportAllowanceSpentError, ExportQueueFullError } from '../../../shared/ports/marketo-export-api.js';
import { type Harness, startHarness } from './helpers.js';

const TYPES = [1, 2, 6, 7, 10, 11];
const DAY = 86_400_000;

let h: Harness | undefined;
afterEach(async () => {
  await h?.sandbox.stop();
  h = undefined;
});

/** Every activity of the types in [from, until) by REST paging, as the fetch step reads them. */
async function restActivities(harness: Harness, from: Date, until: Date): Promise<Activity[]> {
  const out: Activity[] = [];
  let token = await harness.client.getPagingToken(from);
  for (;;) {
    const page = await harness.client.getActivities({ nextPageToken: token, activityTypeIds: TYPES });
    out.push(...page.items.filter((a) => Date.parse(a.activityDate) < until.getTime()));
    token = page.nextPageToken;
    if (!page.moreResult || page.items.some((a) => Date.parse(a.activityDate) >= until.getTime())) return out;
  }
}

describe('Bulk Activity Extract (client against the sandbox)', () => {
  it('runs a job Created → Queued → Processing → Completed and reads the file in ranges, records as REST shows them', async () => {
    // Prepare
    h = await startHarness({ sandbox: { bulkExport: { processingMs: 60_000 } } });
    const api = h.client.bulkExport;
    const until = new Date(h.now.value - 2 * DAY);
    const from = new Date(until.getTime() - 20 * DAY);

    // Act
    const created = await api.createActivityExport({ startAt: from, endAt: until, activityTypeIds: TYPES });
    const queued = await api.enqueueActivityExport(created.exportId);
    const processing = await api.activityExportStatus(created.exportId);
    h.now.value += 60_000;
    const completed = await api.activityExportStatus(created.exportId);
    const rows: Activity[] = [];
    let offset = 0;
    let columns: string[] | undefined;
    let reads = 0;
    for (;;) {
      const chunk = await api.readActivityExport(created.exportId, {
        offset,
        maxBytes: 32_768,
        ...(columns ? { columns } : {}),
      });
      rows.push(...chunk.activities);
      ({ columns } = chunk);
      offset = chunk.nextOffset;
      reads += 1;
      if (chunk.done) break;
    }

    // Assess
    expect([created.status, queued.status, processing.status, completed.status]).toEqual([
      'Created',
      'Queued',
      'Processing',
      'Completed',
    ]);
    expect(reads).toBeGreaterThan(3);
    expect(offset).toBe(completed.fileSize);
    expect(rows).toHaveLength(completed.numberOfRecords ?? -1);
    const rest = await restActivities(h, from, until);
    const withoutId = rest.map(({ id: _id, ...a }) => a);
    expect(rows.filter((a) => Date.parse(a.activityDate) < until.getTime())).toEqual(withoutId);
    expect(rows.some((a) => a.attributes?.length)).toBe(true);
    expect(
      h.sandbox.stats.count(`GET /bulk/v1/activities/export/${created.exportId}/file.json`, 'http206'),
    ).toBe(reads);
    expect(h.client.callCounts().byEndpoint['GET /bulk/v1/activities/export/{exportId}/file.json']).toBe(
      reads,
    );
  });

  it('answers 206 with Content-Range for a byte range, the whole file with its checksum otherwise, 404 text before completion', async () => {
    h = await startHarness({ sandbox: { bulkExport: { processingMs: 1_000 } } });
    const api = h.client.bulkExport;
    const job = await api.createActivityExport({
      startAt: new Date(h.now.value - 10 * DAY),
      endAt: new Date(h.now.value - DAY),
      activityTypeIds: TYPES,
    });
    await api.enqueueActivityExport(job.exportId);
    const token = (await fetch(
      `${h.sandbox.baseUrl}/identity/oauth/token?grant_type=client_credentials&client_id=${h.sandbox.credentials.clientId}&client_secret=${h.sandbox.credentials.clientSecret}`,
    ).then((r) => r.json())) as { access_token: string };
    const url = `${h.sandbox.baseUrl}/bulk/v1/activities/export/${job.exportId}/file.json`;
    const auth = { authorization: `Bearer ${token.access_token}` };

    const early = await fetch(url, { headers: auth });
    h.now.value += 1_000;
    const status = await api.activityExportStatus(job.exportId);
    const whole = await fetch(url, { headers: auth });
    const wholeBytes = Buffer.from(await whole.arrayBuffer());
    const part = await fetch(url, { headers: { ...auth, range: 'bytes=10-19' } });

    expect(early.status).toBe(404);
    expect(early.headers.get('content-type')).toBe('text/plain');
    expect(whole.status).toBe(200);
    expect(wholeBytes.length).toBe(status.fileSize);
    expect(status.fileChecksum).toBe(`sha256:${createHash('sha256').update(wholeBytes).digest('hex')}`);
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 10-19/${status.fileSize}`);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(wholeBytes.subarray(10, 20));
  });

  it('refuses a window over 31 days, and a full queue and a spent allowance with the documented 1029 messages', async () => {
    h = await startHarness({ sandbox: { bulkExport: { processingMs: 3_600_000, maxQueued: 2 } } });
    const api = h.client.bulkExport;
    const window = (d: number) => ({
      startAt: new Date(h!.now.value - (d + 5) * DAY),
      endAt: new Date(h!.now.value - d * DAY),
      activityTypeIds: TYPES,
    });
    await expect(
      api.createActivityExport({ ...window(0), startAt: new Date(h.now.value - 32 * DAY) }),
    ).rejects.toThrow(/31 days/);

    const a = await api.createActivityExport(window(1));
    const b = await api.createActivityExport(window(10));
    const c = await api.createActivityExport(window(20));
    await api.enqueueActivityExport(a.exportId);
    await api.enqueueActivityExport(b.exportId);
    // A repeated enqueue is answered 1029 "Job already queued": the client reads the status instead.
    expect((await api.enqueueActivityExport(b.exportId)).status).toBe('Processing');
    await expect(api.enqueueActivityExport(c.exportId)).rejects.toBeInstanceOf(ExportQueueFullError);

    h.sandbox.bulkExport.usedBytes = h.sandbox.bulkExport.limits.dailyBytes;
    const refused = await api.createActivityExport(window(25)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ExportAllowanceSpentError);
    expect((refused as ExportAllowanceSpentError).code).toBe('1029');
    expect(h.sandbox.stats.count('POST /bulk/v1/activities/export/create.json', '1029')).toBe(1);
  });
});
