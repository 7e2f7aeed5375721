import * as z from 'zod';
import {
  MarketoApiError,
  MarketoRequestError,
  MarketoResponseValidationError,
} from '../../../ports/marketo-errors.js';
import {
  ExportAllowanceSpentError,
  type ExportChunk,
  type ExportJobStatus,
  ExportQueueFullError,
  type MarketoExportApi,
} from '../../../ports/marketo-export-api.js';
import { MARKETO_MAX_ACTIVITY_TYPE_IDS } from '../../../ports/vendor-limits.js';
import { activityFromRecord, ExportCsvError, readCsvRecords } from '../export-csv.js';
import type { FileAnswer, MarketoCall } from '../marketo-call.js';
import { type Operation, opKey } from '../marketo-transport.js';
import { parseOne } from './results.js';

/**
 * Bulk Activity Extract endpoints (AdobeDocs/marketo-developer.en help/rest-api/bulk-activity-extract.md;
 * paths from reference/marketo/swagger-mapi.json, tag "Bulk Export Activities"). "Bulk API endpoints
 * are not prefixed with '/rest'" (bulk-extract.md).
 */
export const EXPORT_OPS = {
  create: {
    method: 'POST',
    path: '/bulk/v1/activities/export/create.json',
    timeout: 'writes',
    idempotent: false,
  },
  enqueue: {
    method: 'POST',
    path: '/bulk/v1/activities/export/{exportId}/enqueue.json',
    timeout: 'writes',
    // A repeated enqueue answers 1029 "Job already queued" (error-codes.md), which we read as done.
    idempotent: true,
  },
  status: {
    method: 'GET',
    path: '/bulk/v1/activities/export/{exportId}/status.json',
    timeout: 'activities',
    idempotent: true,
  },
  cancel: {
    method: 'POST',
    path: '/bulk/v1/activities/export/{exportId}/cancel.json',
    timeout: 'writes',
    idempotent: true,
  },
  file: {
    method: 'GET',
    path: '/bulk/v1/activities/export/{exportId}/file.json',
    timeout: 'bulkFile',
    idempotent: true,
    file: true,
  },
} as const satisfies Record<string, Operation>;

/** "The range must be 31 days or fewer" (bulk-activity-extract.md, "Filters"). */
export const EXPORT_MAX_RANGE_MS = 31 * 86_400_000;

/** ExportResponse (swagger-mapi.json); both spellings of the cancelled state are documented. */
const exportResponseSchema = z
  .object({
    exportId: z.string().min(1),
    status: z.enum(['Created', 'Queued', 'Processing', 'Completed', 'Failed', 'Cancelled', 'Canceled']),
    numberOfRecords: z.number().int().nullish(),
    fileSize: z.number().int().nullish(),
    fileChecksum: z.string().nullish(),
    errorMsg: z.string().nullish(),
  })
  .transform(
    (r): ExportJobStatus => ({
      exportId: r.exportId,
      status: r.status === 'Canceled' ? 'Cancelled' : r.status,
      ...(r.numberOfRecords != null ? { numberOfRecords: r.numberOfRecords } : {}),
      ...(r.fileSize != null ? { fileSize: r.fileSize } : {}),
      ...(r.fileChecksum != null ? { fileChecksum: r.fileChecksum } : {}),
      ...(r.errorMsg != null ? { errorMsg: r.errorMsg } : {}),
    }),
  );

/** "Datetimes should be in an ISO-8601 format, without milliseconds" (bulk-activity-extract.md, "Filters"). */
export const exportDatetime = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * 1029 carries three meanings told apart only by the message (error-codes.md: "Too many jobs in
 * queue", "Export daily quota exceeded", "Job already queued").
 */
function typed1029(err: unknown): unknown {
  if (!(err instanceof MarketoApiError) || err.code !== '1029') return err;
  const options = { code: err.code, requestId: err.requestId, endpoint: err.endpoint, cause: err };
  if (/quota/i.test(err.message))
    return new ExportAllowanceSpentError(
      'The Marketo bulk export allowance for today is spent (1029); read by REST paging until it resets at 00:00 Central Time.',
      options,
    );
  if (/too many jobs/i.test(err.message))
    return new ExportQueueFullError(
      'The Marketo bulk export queue is full (1029, ten jobs queued or processing); enqueue again later.',
      options,
    );
  return err;
}

async function job(
  call: MarketoCall,
  op: Operation,
  exportId: string,
  body?: unknown,
): Promise<ExportJobStatus> {
  if (!exportId) throw new MarketoRequestError('An exportId is required.', { endpoint: opKey(op) });
  const env = await call(op, { exportId }, body).catch((err: unknown) => {
    throw typed1029(err);
  });
  return parseOne(exportResponseSchema, env, opKey(op), 'The export job endpoint');
}

/** The Bulk Activity Extract API over the client's call layer. */
export class ActivityExportEndpoints implements MarketoExportApi {
  constructor(
    private readonly call: MarketoCall,
    private readonly callForFile: (
      op: Operation,
      query: Record<string, string>,
      headers: Record<string, string>,
    ) => Promise<FileAnswer>,
  ) {}

  async createActivityExport(params: {
    startAt: Date;
    endAt: Date;
    activityTypeIds: number[];
  }): Promise<ExportJobStatus> {
    const endpoint = opKey(EXPORT_OPS.create);
    const span = params.endAt.getTime() - params.startAt.getTime();
    if (!(span >= 0 && span <= EXPORT_MAX_RANGE_MS))
      throw new MarketoRequestError(
        `An activity export's createdAt window must be 0 to 31 days (got ${span} ms); split it.`,
        {
          endpoint,
        },
      );
    const ids = [...new Set(params.activityTypeIds)];
    if (ids.length === 0 || ids.length > MARKETO_MAX_ACTIVITY_TYPE_IDS)
      throw new MarketoRequestError(
        `An activity export takes 1 to ${MARKETO_MAX_ACTIVITY_TYPE_IDS} type ids here (got ${ids.length}).`,
        {
          endpoint,
        },
      );
    const body = {
      format: 'CSV',
      filter: {
        createdAt: { startAt: exportDatetime(params.startAt), endAt: exportDatetime(params.endAt) },
        activityTypeIds: ids,
      },
    };
    const env = await this.call(EXPORT_OPS.create, {}, body).catch((err: unknown) => {
      throw typed1029(err);
    });
    return parseOne(exportResponseSchema, env, endpoint, 'Create Export Activity Job');
  }

  async enqueueActivityExport(exportId: string): Promise<ExportJobStatus> {
    try {
      return await job(this.call, EXPORT_OPS.enqueue, exportId);
    } catch (err) {
      // Already queued (a retried enqueue whose first answer was lost): read where it is.
      if (err instanceof MarketoApiError && err.code === '1029' && /already queued/i.test(err.message))
        return this.activityExportStatus(exportId);
      throw err;
    }
  }

  activityExportStatus(exportId: string): Promise<ExportJobStatus> {
    return job(this.call, EXPORT_OPS.status, exportId);
  }

  cancelActivityExport(exportId: string): Promise<ExportJobStatus> {
    return job(this.call, EXPORT_OPS.cancel, exportId);
  }

  async readActivityExport(
    exportId: string,
    params: { offset: number; maxBytes: number; columns?: string[] },
  ): Promise<ExportChunk> {
    const endpoint = opKey(EXPORT_OPS.file);
    if (params.offset > 0 && !params.columns)
      throw new MarketoRequestError('Reading an export file past its start needs the header columns.', {
        endpoint,
      });
    // Range "of the type bytes (per RFC 7233)"; a partial answer is 206 with Content-Range (bulk-extract.md).
    const range = `bytes=${params.offset}-${params.offset + params.maxBytes - 1}`;
    const answer = await this.callForFile(EXPORT_OPS.file, { exportId }, { range });
    if (answer.status !== 200 && answer.status !== 206)
      throw new MarketoApiError(
        `${endpoint} answered HTTP ${answer.status} (${answer.bytes.toString('utf8').slice(0, 100)}); the job is not completed or the id is wrong.`,
        { code: `http${answer.status}`, endpoint },
      );
    const total = /\/(\d+)$/.exec(answer.contentRange ?? '')?.[1];
    const fileSize = answer.status === 206 && total ? Number(total) : params.offset + answer.bytes.length;
    const final = params.offset + answer.bytes.length >= fileSize;
    const { records, consumed } = readCsvRecords(answer.bytes, final);
    if (consumed === 0 && !final)
      throw new MarketoResponseValidationError(
        `${endpoint}: no complete record in ${params.maxBytes} bytes; read larger ranges (activities.backfill.chunkBytes).`,
        { endpoint },
      );
    let columns = params.columns;
    let rows = records;
    if (params.offset === 0) {
      columns = records[0];
      rows = records.slice(1);
    }
    if (!columns) throw new ExportCsvError('The export file has no header row.');
    const header = columns;
    return {
      activities: rows.map((r) => activityFromRecord(header, r)),
      nextOffset: params.offset + consumed,
      fileSize,
      columns: header,
      done: final && params.offset + consumed >= fileSize,
    };
  }
}
