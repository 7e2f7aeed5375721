import { createHash } from 'node:crypto';

/**
 * State of the Bulk Activity Extract sandbox (routes/bulk-export.ts): export jobs, the shared job
 * queue and the daily export allowance. Limits and states from AdobeDocs/marketo-developer.en
 * help/rest-api/bulk-extract.md ("Limits", "Queue", "File Size") and
 * help/rest-api/bulk-activity-extract.md.
 */

/** "The status field may respond with one of the following values" (bulk-activity-extract.md, "Polling Job Status"). */
export type ExportStatus = 'Created' | 'Queued' | 'Processing' | 'Completed' | 'Failed' | 'Cancelled';

export interface BulkExportLimits {
  /** "Max Concurrent Export Jobs: 2" (bulk-extract.md, "Limits"). */
  maxProcessing: number;
  /** "Max Queued Export Jobs (inclusive of currently exporting jobs): 10" (bulk-extract.md, "Limits"). */
  maxQueued: number;
  /** "Default Daily Export Allocation: 500MB" (bulk-extract.md, "Limits"). */
  dailyBytes: number;
  /** How long a job stays Processing before it completes (sandbox knob; Marketo: minutes to hours). */
  processingMs: number;
}

export const DEFAULT_BULK_EXPORT_LIMITS: BulkExportLimits = {
  maxProcessing: 2,
  maxQueued: 10,
  dailyBytes: 500 * 1024 * 1024,
  processingMs: 0,
};

export interface ExportJob {
  exportId: string;
  status: ExportStatus;
  format: 'CSV';
  createdAt: number;
  queuedAt?: number;
  startedAt?: number;
  finishedAt?: number;
  /** The request's filter and columns, applied when the job completes. */
  startAtMs: number;
  endAtMs: number;
  activityTypeIds?: number[];
  fields: string[];
  headers: Record<string, string>;
  file?: Buffer;
  numberOfRecords?: number;
}

export class BulkExportState {
  readonly jobs = new Map<string, ExportJob>();
  readonly limits: BulkExportLimits;
  /** Bytes of files completed "today" (shared by leads, activities, …; reset by resetDailyExport()). */
  usedBytes = 0;
  private seq = 0;

  constructor(limits: Partial<BulkExportLimits> = {}) {
    this.limits = { ...DEFAULT_BULK_EXPORT_LIMITS, ...limits };
  }

  nextId(): string {
    this.seq += 1;
    const hex = createHash('sha256').update(`export-${this.seq}`).digest('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }

  /** The allowance is spent: "you cannot Create or Enqueue another job until the daily quota resets" (bulk-extract.md, "File Size"). */
  quotaSpent(): boolean {
    return this.usedBytes >= this.limits.dailyBytes;
  }

  /** Jobs in the queue, "inclusive of currently exporting jobs" (bulk-extract.md, "Limits"). */
  queuedCount(): number {
    return [...this.jobs.values()].filter((j) => j.status === 'Queued' || j.status === 'Processing').length;
  }

  /**
   * Moves jobs along at `now`: a Processing job whose time is up completes (its file is built by
   * `build`), then queued jobs start in order while fewer than maxProcessing run.
   */
  advance(now: number, build: (job: ExportJob) => { file: Buffer; records: number }): void {
    for (const job of this.jobs.values()) {
      if (job.status === 'Processing' && now - (job.startedAt ?? now) >= this.limits.processingMs) {
        const { file, records } = build(job);
        job.file = file;
        job.numberOfRecords = records;
        job.status = 'Completed';
        job.finishedAt = now;
        this.usedBytes += file.length;
      }
    }
    let running = [...this.jobs.values()].filter((j) => j.status === 'Processing').length;
    const queued = [...this.jobs.values()]
      .filter((j) => j.status === 'Queued')
      .sort((a, b) => (a.queuedAt ?? 0) - (b.queuedAt ?? 0));
    for (const job of queued) {
      if (running >= this.limits.maxProcessing) break;
      job.status = 'Processing';
      job.startedAt = now;
      running += 1;
    }
    // A job of processingMs 0 completes on the same look.
    if (this.limits.processingMs === 0 && queued.some((j) => j.status === 'Processing'))
      this.advance(now, build);
  }
}

/** The job as the status endpoints show it (ExportResponse in reference/marketo/swagger-mapi.json). */
export function jobView(job: ExportJob): Record<string, unknown> {
  const iso = (ms: number | undefined) =>
    ms === undefined ? undefined : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const view: Record<string, unknown> = {
    exportId: job.exportId,
    status: job.status,
    createdAt: iso(job.createdAt),
    queuedAt: iso(job.queuedAt),
    startedAt: iso(job.startedAt),
    finishedAt: iso(job.finishedAt),
    format: job.format,
  };
  if (job.status === 'Completed' && job.file) {
    view.numberOfRecords = job.numberOfRecords;
    view.fileSize = job.file.length;
    // "fileChecksum ... SHA-256 hash of exported file", shown as `sha256:<hex>` (bulk-extract.md, "File Integrity Verification").
    view.fileChecksum = `sha256:${createHash('sha256').update(job.file).digest('hex')}`;
  }
  return Object.fromEntries(Object.entries(view).filter(([, v]) => v !== undefined));
}
