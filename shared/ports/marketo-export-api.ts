import type { Activity } from '../domain/activity.js';
import { MarketoApiError } from './marketo-errors.js';

/**
 * Marketo Bulk Activity Extract (AdobeDocs/marketo-developer.en help/rest-api/bulk-activity-extract.md,
 * help/rest-api/bulk-extract.md): what the back-fill needs. The hand-written client implements it
 * (adapters/marketo/endpoints/activity-export.ts); its calls go through the same governor, counts
 * and retry table as every other Marketo call.
 */

/** Job states ("Created, Queued, Processing, Canceled, Completed, Failed"; the cancel example spells "Cancelled"). */
export type ExportStatus = 'Created' | 'Queued' | 'Processing' | 'Completed' | 'Failed' | 'Cancelled';

export interface ExportJobStatus {
  exportId: string;
  status: ExportStatus;
  /** Set once Completed: records, file size in bytes and `sha256:<hex>` of the file. */
  numberOfRecords?: number;
  fileSize?: number;
  fileChecksum?: string;
  errorMsg?: string;
}

/** One ranged read of a completed export file, cut at the last complete record. */
export interface ExportChunk {
  /** The records wholly inside the bytes read, as the REST activities endpoint shows them (no `id`). */
  activities: Activity[];
  /** Byte offset of the first record not yet returned: where the next read starts. */
  nextOffset: number;
  fileSize: number;
  /** The header's column names (a read from a later offset needs them). */
  columns: string[];
  done: boolean;
}

export interface MarketoExportApi {
  /** Create Export Activity Job: `createdAt` window ≤ 31 days, ≤ the type ids given; format CSV. */
  createActivityExport(params: {
    startAt: Date;
    endAt: Date;
    activityTypeIds: number[];
  }): Promise<ExportJobStatus>;
  enqueueActivityExport(exportId: string): Promise<ExportJobStatus>;
  activityExportStatus(exportId: string): Promise<ExportJobStatus>;
  cancelActivityExport(exportId: string): Promise<ExportJobStatus>;
  /**
   * Reads up to `maxBytes` of the file from `offset` (HTTP Range) and parses the complete records
   * in it; `columns` is required when `offset` > 0 (the header is only at the start).
   */
  readActivityExport(
    exportId: string,
    params: { offset: number; maxBytes: number; columns?: string[] },
  ): Promise<ExportChunk>;
}

/**
 * 1029 "Export daily quota exceeded": the export allowance (500 MB/day by default, shared by every
 * bulk extract) is spent until 00:00 Central Time (bulk-extract.md, "File Size"). Read by REST instead.
 */
export class ExportAllowanceSpentError extends MarketoApiError {
  override name = 'ExportAllowanceSpentError';
}

/**
 * 1029 "Too many jobs in queue": ten jobs are queued or processing on the instance (bulk-extract.md,
 * "Queue"). Try again later; it is not a failure.
 */
export class ExportQueueFullError extends MarketoApiError {
  override name = 'ExportQueueFullError';
}
