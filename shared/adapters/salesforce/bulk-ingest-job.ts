import * as z from 'zod';
import type { SalesforceRecordError } from '../../domain/salesforce-records.js';
import { soqlIdentifier } from '../../domain/soql.js';
import type { SalesforceSaveResult } from '../../ports/salesforce-api.js';
import {
  SalesforceApiError,
  SalesforceApiLimitError,
  SalesforceBulkJobError,
} from '../../ports/salesforce-errors.js';
import type { SalesforceEndpoints } from './collections.js';
import { parseCsvRecords, toCsv } from './csv.js';

/** Bulk API 2.0 ingest: an upsert job, resumable by id, its results mapped back to input order. */

/** Bulk API 2.0 takes ≤ 150 MB base64 per upload, about 100 MB of raw CSV. */
const MAX_BULK_UPLOAD_BYTES = 100_000_000;

export interface BulkUpsertOptions {
  /** Called once the job exists and before data is uploaded: persist the id to resume after a crash. */
  onJobCreated?: (jobId: string) => Promise<void>;
  /** A job started earlier for these same records: wait for it and read its results instead. */
  resumeJobId?: string;
}

export interface BulkPolling {
  /** First poll after the upload; each wait doubles up to `maxPollIntervalMs`. */
  pollIntervalMs: number;
  maxPollIntervalMs: number;
  /** After this long the caller gets SalesforceBulkJobError (BULK_JOB_TIMEOUT) to resume later. */
  pollTimeoutMs: number;
  clock: () => number;
  sleep: (ms: number) => Promise<void>;
}

const jobInfoSchema = z.object({
  id: z.string(),
  state: z.enum(['Open', 'UploadComplete', 'InProgress', 'JobComplete', 'Failed', 'Aborted']),
  object: z.string().optional(),
  operation: z.string().optional(),
  externalIdFieldName: z.string().optional(),
  numberRecordsProcessed: z.number().optional(),
  numberRecordsFailed: z.number().optional(),
  errorMessage: z.string().optional(),
});
type JobInfo = z.infer<typeof jobInfoSchema>;

function csvCell(value: unknown, field: string): string {
  if (value === null) return '#N/A';
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString();
  throw new SalesforceApiError(
    `Field ${field} holds a ${typeof value}; Bulk API CSV takes strings, numbers, booleans, dates`,
    { errorCode: 'INVALID_RECORD' },
  );
}

/** `REQUIRED_FIELD_MISSING:Required fields are missing: [Status]:Status --` → a record error. */
export function parseBulkError(text: string): SalesforceRecordError {
  const trimmed = text.replace(/\s*--\s*$/, '');
  const first = trimmed.indexOf(':');
  const statusCode = first > 0 ? trimmed.slice(0, first) : 'UNKNOWN_EXCEPTION';
  let message = first > 0 ? trimmed.slice(first + 1) : trimmed;
  let fields: string[] = [];
  const last = message.lastIndexOf(':');
  if (last >= 0 && /^[A-Za-z0-9_,]*$/.test(message.slice(last + 1))) {
    fields = message
      .slice(last + 1)
      .split(',')
      .filter(Boolean);
    message = message.slice(0, last);
  }
  return { statusCode, message, fields };
}

/** The CSV upload: one column per field seen (external id always included), rows in input order. */
function toUpload(records: Record<string, unknown>[], externalIdField: string) {
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const record of records) {
    for (const key of Object.keys(record)) {
      if (key === 'attributes' || seen.has(key)) continue;
      soqlIdentifier(key);
      seen.add(key);
      columns.push(key);
    }
  }
  if (!seen.has(externalIdField)) columns.push(externalIdField);
  const rows = records.map((r) => columns.map((c) => csvCell(r[c], c)));
  const csv = toCsv([columns, ...rows]);
  if (Buffer.byteLength(csv) > MAX_BULK_UPLOAD_BYTES) {
    throw new SalesforceApiError('Bulk upload over 100 MB of CSV: split the records into several jobs', {
      errorCode: 'UPLOAD_TOO_LARGE',
    });
  }
  return { columns, rows, csv };
}

export class BulkIngestJobs {
  constructor(
    private readonly api: SalesforceEndpoints,
    private readonly polling: BulkPolling,
  ) {}

  /**
   * Upsert through Bulk API 2.0 and map every result row back to its input record by the
   * external id value (result rows come back in any order). Records without a result row
   * (unprocessed, or missing) come back as failures, never as silent successes. A job that ends
   * Failed or Aborted as a whole is not thrown: its processed rows keep their results and every
   * other row fails with BULK_JOB_FAILED (the job's message), so the caller retries exactly those.
   * Result files are only read when they can hold rows (no failedResults call when the job
   * counted no failure; unprocessedrecords only for a job that did not complete).
   */
  async upsert(
    sobject: string,
    externalIdField: string,
    records: Record<string, unknown>[],
    options: BulkUpsertOptions = {},
  ): Promise<SalesforceSaveResult[]> {
    soqlIdentifier(sobject);
    soqlIdentifier(externalIdField);
    if (records.length === 0) return [];
    const { columns, rows, csv } = toUpload(records, externalIdField);

    let jobId: string | undefined;
    if (options.resumeJobId) {
      const info = await this.jobInfo(options.resumeJobId);
      if (info.state === 'Open') {
        // Upload not known to be complete: abandon it and start over (upsert is idempotent).
        await this.setState(info.id, 'Aborted', 'bulkAbort');
      } else {
        // Uploaded: wait for it (or read what it did, if it already ended, even Failed).
        jobId = info.id;
      }
    }
    const fresh = jobId === undefined;
    jobId ??= await this.startJob(sobject, externalIdField, csv, options);
    const info = await this.waitForJob(jobId, fresh);
    const ended = info.state !== 'JobComplete';
    const id = jobId;

    const fetchCsv = async (which: string) => {
      try {
        return parseCsvRecords(
          await this.api.call<string>(
            'bulkResults',
            { method: 'GET', path: this.api.dataPath(`/jobs/ingest/${id}/${which}/`), text: true },
            true,
          ),
        );
      } catch (error) {
        // A job that failed as a whole may have no result files: its rows fail below instead.
        if (ended && error instanceof SalesforceApiError && !(error instanceof SalesforceApiLimitError))
          return [];
        throw error;
      }
    };
    const processed = info.numberRecordsProcessed;
    const failedCount = info.numberRecordsFailed;
    const successful =
      processed !== undefined && failedCount !== undefined && processed - failedCount <= 0
        ? []
        : await fetchCsv('successfulResults');
    const failed = failedCount === 0 ? [] : await fetchCsv('failedResults');
    const unprocessed = ended ? await fetchCsv('unprocessedrecords') : [];

    const keyColumn = columns.indexOf(externalIdField);
    const pending = new Map<string, number[]>();
    rows.forEach((row, i) => {
      const key = row[keyColumn] ?? '';
      const list = pending.get(key);
      if (list) list.push(i);
      else pending.set(key, [i]);
    });
    const results: (SalesforceSaveResult | undefined)[] = new Array(records.length).fill(undefined);
    const assign = (row: Record<string, string>, result: SalesforceSaveResult) => {
      const index = pending.get(row[externalIdField] ?? '')?.shift();
      if (index !== undefined) results[index] = result;
    };
    for (const row of successful)
      assign(row, { id: row.sf__Id || null, success: true, created: row.sf__Created === 'true', errors: [] });
    for (const row of failed)
      assign(row, { id: row.sf__Id || null, success: false, errors: [parseBulkError(row.sf__Error ?? '')] });
    for (const row of unprocessed) {
      assign(row, {
        id: null,
        success: false,
        errors: [
          { statusCode: 'UNPROCESSED', message: `Bulk job ${id} did not process this record`, fields: [] },
        ],
      });
    }
    const missing: SalesforceRecordError = ended
      ? {
          statusCode: 'BULK_JOB_FAILED',
          message: `Bulk job ${id} ended ${info.state}: ${info.errorMessage ?? 'no message'}`,
          fields: [],
        }
      : {
          statusCode: 'NO_RESULT',
          message: `Bulk job ${id} returned no result row for this record`,
          fields: [],
        };
    return results.map((r) => r ?? { id: null, success: false, errors: [missing] });
  }

  private async jobInfo(jobId: string): Promise<JobInfo> {
    const raw = await this.api.call<unknown>(
      'bulkPoll',
      { method: 'GET', path: this.api.dataPath(`/jobs/ingest/${jobId}`) },
      true,
    );
    const parsed = jobInfoSchema.safeParse(raw);
    if (!parsed.success)
      throw new SalesforceApiError('Bulk job info has an unexpected shape', {
        errorCode: 'UNEXPECTED_RESPONSE',
        cause: parsed.error,
      });
    return parsed.data;
  }

  private setState(jobId: string, state: 'UploadComplete' | 'Aborted', kind: string): Promise<unknown> {
    return this.api.call<unknown>(
      kind,
      {
        method: 'PATCH',
        path: this.api.dataPath(`/jobs/ingest/${jobId}`),
        body: JSON.stringify({ state }),
        contentType: 'application/json',
      },
      true,
    );
  }

  private async startJob(
    sobject: string,
    externalIdField: string,
    csv: string,
    options: BulkUpsertOptions,
  ): Promise<string> {
    const raw = await this.api.call<unknown>(
      'bulkCreateJob',
      {
        method: 'POST',
        path: this.api.dataPath('/jobs/ingest'),
        body: JSON.stringify({
          object: sobject,
          operation: 'upsert',
          externalIdFieldName: externalIdField,
          contentType: 'CSV',
          lineEnding: 'LF',
        }),
        contentType: 'application/json',
      },
      false,
    );
    const job = jobInfoSchema.parse(raw);
    await options.onJobCreated?.(job.id);
    await this.api.call<unknown>(
      'bulkUpload',
      {
        method: 'PUT',
        path: this.api.dataPath(`/jobs/ingest/${job.id}/batches`),
        body: csv,
        contentType: 'text/csv',
        text: true,
      },
      true,
    );
    try {
      await this.setState(job.id, 'UploadComplete', 'bulkClose');
    } catch (error) {
      // A retried close after a lost response finds the job already closed: that is success.
      if (!(error instanceof SalesforceApiError && error.errorCode === 'INVALIDJOBSTATE')) throw error;
      if ((await this.jobInfo(job.id)).state === 'Open') throw error;
    }
    return job.id;
  }

  /**
   * Polls until the job ends (JobComplete, Failed or Aborted) with a doubling interval. A fresh
   * job is first polled after one interval (it is never done at once); a resumed one at once.
   */
  private async waitForJob(jobId: string, fresh: boolean): Promise<JobInfo> {
    const { clock, sleep, pollTimeoutMs, maxPollIntervalMs } = this.polling;
    const deadline = clock() + pollTimeoutMs;
    let interval = this.polling.pollIntervalMs;
    if (fresh && clock() + interval <= deadline) await sleep(interval);
    for (;;) {
      const info = await this.jobInfo(jobId);
      if (info.state === 'JobComplete' || info.state === 'Failed' || info.state === 'Aborted') return info;
      interval = Math.min(maxPollIntervalMs, interval * 2);
      if (clock() + interval > deadline) {
        throw new SalesforceBulkJobError(
          `Bulk job ${jobId} still ${info.state} after ${pollTimeoutMs} ms: call bulkUpsert again with resumeJobId to keep waiting`,
          { errorCode: 'BULK_JOB_TIMEOUT', jobId, state: info.state, retryable: true },
        );
      }
      await sleep(interval);
    }
  }
}
