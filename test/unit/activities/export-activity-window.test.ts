import { beforeEach, describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../../shared/activities/activity-deps.js';
import { exportActivityWindow, exportStateId } from '../../../shared/activities/export-activity-window.js';
import type { ExportMessage } from '../../../shared/activities/messages.js';
import { DEFAULT_SETTINGS_INPUT, parseSettings } from '../../../shared/config/settings.js';
import { createLogger } from '../../../shared/observability/logger.js';
import type { MarketoApi } from '../../../shared/ports/marketo-api.js';
import {
  ExportAllowanceSpentError,
  type ExportJobStatus,
  ExportQueueFullError,
  type MarketoExportApi,
} from '../../../shared/ports/marketo-export-api.js';
import type { MessageSender, SendOptions } from '../../../shared/ports/message-sender.js';
import { InMemoryCursorStore } from '../../helpers/in-memory/cursor-store.js';
import { InMemoryLeadCacheStore } from '../../helpers/in-memory/lead-cache-store.js';
import { InMemoryRunReportStore } from '../../helpers/in-memory/run-report-store.js';

const RUN = 'run-1';
const STREAM = '6,7';
const MSG: ExportMessage = {
  kind: 'exportWindow',
  runId: RUN,
  streamKey: STREAM,
  types: [
    { id: 6, name: 'Send Email' },
    { id: 7, name: 'Email Delivered' },
  ],
  windowIndex: 0,
  from: '2026-07-01T00:00:00.000Z',
  until: '2026-08-01T00:00:00.000Z',
  later: [{ from: '2026-08-01T00:00:00.000Z', until: '2026-09-01T00:00:00.000Z' }],
};

/** A scripted bulk export: each method answers from its queue (an Error is thrown). */
function scriptedExport(script: Partial<Record<keyof MarketoExportApi, (ExportJobStatus | Error)[]>>) {
  const calls: string[] = [];
  const next = async (name: keyof MarketoExportApi) => {
    calls.push(name);
    const answer = script[name]?.shift();
    if (!answer) throw new Error(`unexpected ${name}`);
    if (answer instanceof Error) throw answer;
    return answer;
  };
  const api: MarketoExportApi = {
    createActivityExport: () => next('createActivityExport'),
    enqueueActivityExport: () => next('enqueueActivityExport'),
    activityExportStatus: () => next('activityExportStatus'),
    cancelActivityExport: () => next('cancelActivityExport'),
    readActivityExport: async () => {
      calls.push('readActivityExport');
      return {
        activities: [
          { marketoGUID: 'g-1', leadId: 1, activityDate: '2026-07-02T00:00:00Z', activityTypeId: 6 },
          // Outside the window, and a type the stream does not read: not handed off.
          { marketoGUID: 'g-2', leadId: 1, activityDate: '2026-08-01T00:00:00Z', activityTypeId: 6 },
          { marketoGUID: 'g-3', leadId: 1, activityDate: '2026-07-03T00:00:00Z', activityTypeId: 2 },
        ],
        nextOffset: 300,
        fileSize: 300,
        columns: ['marketoGUID'],
        done: true,
      };
    },
  };
  return { api, calls };
}

const quotaError = () =>
  new ExportAllowanceSpentError('spent', {
    code: '1029',
    endpoint: 'POST /bulk/v1/activities/export/create.json',
  });

let deps: ActivityDeps;
let sent: { url: string; body: unknown; options?: SendOptions }[];
/** Lead ids asked of Marketo's Get Leads, per call. */
let lookups: number[][];

async function setUp(api: MarketoExportApi): Promise<void> {
  sent = [];
  lookups = [];
  const sender: MessageSender = {
    async send(url, bodies, options) {
      for (const body of bodies) sent.push({ url, body, ...(options ? { options } : {}) });
    },
  };
  const cursors = new InMemoryCursorStore();
  const runs = new InMemoryRunReportStore();
  await runs.start('activities', RUN);
  await cursors.claimStream({
    streamKey: STREAM,
    runId: RUN,
    runUntil: MSG.later[0]!.until,
    windowCount: 2,
    expectedVersion: undefined,
  });
  deps = {
    settings: parseSettings(DEFAULT_SETTINGS_INPUT),
    logger: createLogger('test', { logLevel: 'CRITICAL' }),
    cursors,
    runs,
    sender,
    queueUrls: { fetch: 'fetch-q', write: 'write-q' },
    leadCache: new InMemoryLeadCacheStore(3600),
    marketo: {
      bulkExport: api,
      async getLeads({ filterValues }: { filterValues: number[] }) {
        lookups.push(filterValues);
        return filterValues.map((id) => ({
          id,
          sfdcType: 'Lead',
          sfdcLeadId: `00Q${id}`,
          sfdcContactId: null,
        }));
      },
    } as unknown as MarketoApi,
  } as unknown as ActivityDeps;
}

const kinds = () => sent.map((s) => `${s.url}:${(s.body as { kind: string }).kind}`);

describe('exportActivityWindow', () => {
  beforeEach(() => {
    sent = [];
  });

  it('resolves a range’s people into the lead cache once, so the write step finds them there', async () => {
    const { api } = scriptedExport({
      createActivityExport: [{ exportId: 'x1', status: 'Created' }],
      enqueueActivityExport: [{ exportId: 'x1', status: 'Queued' }],
      activityExportStatus: [{ exportId: 'x1', status: 'Completed', fileSize: 300, numberOfRecords: 3 }],
    });
    await setUp(api);

    for (let i = 0; i < 3; i++) await exportActivityWindow(deps, MSG);

    expect(lookups).toEqual([[1]]);
    expect((await deps.leadCache.getMany([1])).get(1)).toMatchObject({
      sfdcType: 'Lead',
      sfdcLeadId: '00Q1',
    });
  });

  it('creates and enqueues a job, polls it delayed, then hands the window’s activities to the write queue and starts the next window', async () => {
    const { api, calls } = scriptedExport({
      createActivityExport: [{ exportId: 'x1', status: 'Created' }],
      enqueueActivityExport: [{ exportId: 'x1', status: 'Queued' }],
      activityExportStatus: [
        { exportId: 'x1', status: 'Processing' },
        { exportId: 'x1', status: 'Completed', fileSize: 300, numberOfRecords: 3 },
      ],
    });
    await setUp(api);

    for (let i = 0; i < 3; i++) await exportActivityWindow(deps, MSG);

    expect(calls).toEqual([
      'createActivityExport',
      'enqueueActivityExport',
      'activityExportStatus',
      'activityExportStatus',
      'readActivityExport',
    ]);
    expect(sent.slice(0, 2).map((s) => s.options?.delaySeconds)).toEqual([60, 60]);
    const write = sent.find((s) => s.url === 'write-q')?.body as { activities: { marketoGUID: string }[] };
    expect(write.activities.map((a) => a.marketoGUID)).toEqual(['g-1']);
    const next = sent.at(-1)?.body as ExportMessage;
    expect(next).toMatchObject({ kind: 'exportWindow', windowIndex: 1, from: MSG.later[0]!.from, later: [] });
    expect((await deps.cursors.getValue(exportStateId(RUN, STREAM, 0)))?.value).toMatchObject({
      exportId: 'x1',
      done: true,
      read: 1,
    });
    expect((await deps.runs.get('activities', RUN))?.counts).toMatchObject({
      exportJobs: 1,
      exportRanges: 1,
      read: 1,
    });
  });

  it('a redelivered step after the job was created continues that job instead of creating another', async () => {
    const { api, calls } = scriptedExport({
      createActivityExport: [{ exportId: 'x1', status: 'Created' }],
      enqueueActivityExport: [new Error('crash'), { exportId: 'x1', status: 'Queued' }],
    });
    await setUp(api);

    await expect(exportActivityWindow(deps, MSG)).rejects.toThrow('crash');
    await exportActivityWindow(deps, MSG);

    expect(calls).toEqual(['createActivityExport', 'enqueueActivityExport', 'enqueueActivityExport']);
  });

  it('when the allowance is spent reads this window and every later one by REST paging, and says why', async () => {
    const { api } = scriptedExport({ createActivityExport: [quotaError()] });
    await setUp(api);

    await exportActivityWindow(deps, MSG);

    expect(kinds()).toEqual(['fetch-q:fetchPage', 'fetch-q:fetchPage']);
    expect(sent.map((s) => (s.body as { windowIndex: number; from: string }).from)).toEqual([
      MSG.from,
      MSG.later[0]!.from,
    ]);
    expect(await deps.cursors.getChain(`chain#${RUN}#${STREAM}#1`)).toMatchObject({
      resumeFrom: MSG.later[0]!.from,
      page: 0,
    });
    expect((await deps.runs.get('activities', RUN))?.counts).toMatchObject({
      'exportFallback.allowanceSpent': 1,
    });
  });

  it('a full queue is tried again later, delayed, without falling back', async () => {
    const { api } = scriptedExport({
      createActivityExport: [{ exportId: 'x1', status: 'Created' }],
      enqueueActivityExport: [new ExportQueueFullError('full', { code: '1029', endpoint: 'e' })],
    });
    await setUp(api);

    await exportActivityWindow(deps, MSG);

    expect(kinds()).toEqual(['fetch-q:exportWindow']);
    expect(sent[0]?.options?.delaySeconds).toBe(60);
  });

  it('a failed job sends only its window to REST and starts the next window by export', async () => {
    const { api } = scriptedExport({
      createActivityExport: [{ exportId: 'x1', status: 'Created' }],
      enqueueActivityExport: [{ exportId: 'x1', status: 'Queued' }],
      activityExportStatus: [{ exportId: 'x1', status: 'Failed', errorMsg: 'internal' }],
    });
    await setUp(api);

    await exportActivityWindow(deps, MSG);
    sent = [];
    await exportActivityWindow(deps, MSG);

    expect(kinds()).toEqual(['fetch-q:fetchPage', 'fetch-q:exportWindow']);
    expect((await deps.runs.get('activities', RUN))?.counts).toMatchObject({ 'exportFallback.jobEnded': 1 });
  });
});
