import { parseCsv, toCsv } from '../../../shared/adapters/salesforce/csv.js';
import { KEY_PREFIX } from '../salesforce-ids.js';
import { HttpError, isRecordObject, notFound, parseJson, sobjectName } from '../sandbox-http.js';
import { type ApiHandler, type BulkJob, lockFault, type SalesforceState } from '../sandbox-state.js';
import { sfDateTime, type WriteContext } from '../sandbox-store.js';

/**
 * Bulk API 2.0 ingest (Salesforce Bulk API 2.0 Developer Guide; shared/API-NOTES.md "Writing many
 * records"): create a job (`operation` upsert with `externalIdFieldName`, or insert; CSV), upload
 * CSV to `…/batches` while Open (PUT, 201), close with `state: UploadComplete` (or abort), poll
 * until JobComplete/Failed, then read `successfulResults` (`sf__Id, sf__Created, …`),
 * `failedResults` (`sf__Id, sf__Error, …`) and `unprocessedrecords`. Result rows come back in no
 * particular order (shuffled with the seeded PRNG). A wrong state is 409 INVALIDJOBSTATE.
 */

function getJob(state: SalesforceState, rest: string): BulkJob {
  const id = rest.split('/').filter(Boolean)[2] ?? '';
  const job = state.jobs.get(id);
  if (!job) throw new HttpError(404, 'NOT_FOUND', `Job ${id} not found`);
  return job;
}

function jobInfo(state: SalesforceState, job: BulkJob) {
  return {
    id: job.id,
    operation: job.operation,
    object: job.object,
    createdById: state.userId,
    createdDate: job.createdDate,
    systemModstamp: job.systemModstamp,
    state: job.state,
    ...(job.externalIdFieldName ? { externalIdFieldName: job.externalIdFieldName } : {}),
    concurrencyMode: 'Parallel',
    contentType: 'CSV',
    apiVersion: Number(job.apiVersion),
    jobType: 'V2Ingest',
    contentUrl: `services/data/v${job.apiVersion}/jobs/ingest/${job.id}/batches`,
    lineEnding: job.lineEnding,
    columnDelimiter: 'COMMA',
    numberRecordsProcessed: job.numberRecordsProcessed,
    numberRecordsFailed: job.numberRecordsFailed,
    retries: 0,
    totalProcessingTime: 0,
    apiActiveProcessingTime: 0,
    apexProcessingTime: 0,
    ...(job.errorMessage ? { errorMessage: job.errorMessage } : {}),
  };
}

function createJob(state: SalesforceState, body: string, version: string) {
  const { store } = state;
  const spec = parseJson(body);
  if (!isRecordObject(spec)) throw new HttpError(400, 'INVALIDJOB', 'The request body must be a JSON object');
  const object = sobjectName(typeof spec.object === 'string' ? spec.object : undefined);
  const operation = spec.operation;
  if (operation !== 'upsert' && operation !== 'insert') {
    throw new HttpError(
      400,
      'INVALIDJOB',
      `The sandbox supports operation upsert or insert, not ${String(operation)}`,
    );
  }
  const externalIdFieldName =
    typeof spec.externalIdFieldName === 'string' ? spec.externalIdFieldName : undefined;
  if (operation === 'upsert') {
    if (!externalIdFieldName)
      throw new HttpError(400, 'INVALIDJOB', 'externalIdFieldName is required for upsert');
    if (!store.isExternalIdField(object, externalIdFieldName)) {
      throw new HttpError(
        400,
        'INVALIDJOB',
        `InvalidJob : Field name provided, ${externalIdFieldName} is not an External ID or indexed field for ${object}`,
      );
    }
  }
  if (spec.contentType !== undefined && spec.contentType !== 'CSV')
    throw new HttpError(400, 'INVALIDJOB', 'contentType must be CSV');
  const lineEnding = spec.lineEnding === 'CRLF' ? 'CRLF' : 'LF';
  const stamp = sfDateTime(state.now());
  const job: BulkJob = {
    id: store.ids.next(KEY_PREFIX.BulkJob),
    object,
    operation,
    externalIdFieldName,
    state: 'Open',
    numberRecordsProcessed: 0,
    numberRecordsFailed: 0,
    createdDate: stamp,
    systemModstamp: stamp,
    lineEnding,
    apiVersion: version,
    uploads: [],
    header: [],
    successful: [],
    failed: [],
    unprocessed: [],
  };
  state.jobs.set(job.id, job);
  return jobInfo(state, job);
}

function schedule(state: SalesforceState, job: BulkJob, ctx: WriteContext): void {
  const step = (fn: () => void) => {
    const t = setTimeout(() => {
      state.timers.delete(t);
      fn();
    }, state.bulkDelay);
    state.timers.add(t);
  };
  step(() => {
    if (job.state !== 'UploadComplete') return;
    job.state = 'InProgress';
    step(() => processJob(state, job, ctx));
  });
}

function processJob(state: SalesforceState, job: BulkJob, ctx: WriteContext): void {
  if (job.state !== 'InProgress') return;
  const failure = state.faults.takeRule('BULK_JOB_FAILED', 'bulkClose');
  state.store.withIndex(() => processRows(state, job, ctx, failure?.afterRows ?? (failure ? 0 : undefined)));
  if (failure) {
    job.state = 'Failed';
    job.errorMessage = 'InternalServerError : the job could not be completed (sandbox fault BULK_JOB_FAILED)';
  } else job.state = 'JobComplete';
  job.systemModstamp = sfDateTime(state.now());
}

/** Processes the uploaded rows; with `stopAfter`, rows past it are left unprocessed (a job failing midway). */
function processRows(state: SalesforceState, job: BulkJob, ctx: WriteContext, stopAfter?: number): void {
  const { store } = state;
  let seen = 0;
  for (const upload of job.uploads) {
    const [header, ...rows] = parseCsv(upload);
    if (!header) continue;
    if (job.header.length === 0) job.header = header;
    for (const row of rows) {
      if (stopAfter !== undefined && seen++ >= stopAfter) {
        job.unprocessed.push(job.header.map((_, i) => row[i] ?? ''));
        continue;
      }
      const record: Record<string, unknown> = {};
      header.forEach((name, i) => {
        const v = row[i] ?? '';
        if (v === '') return; // empty = leave unchanged
        record[name] = v === '#N/A' ? null : v;
      });
      const original = job.header.map((_, i) => row[i] ?? '');
      const result =
        lockFault(state, 'bulkClose') ??
        (job.operation === 'upsert'
          ? store.upsert(job.object, job.externalIdFieldName as string, record, ctx)
          : store.create(job.object, record, ctx));
      job.numberRecordsProcessed++;
      if (result.success) {
        job.successful.push([
          result.id ?? '',
          String(result.created ?? job.operation === 'insert'),
          ...original,
        ]);
      } else {
        job.numberRecordsFailed++;
        const error = result.errors[0];
        const text = error
          ? `${error.statusCode}:${error.message}:${error.fields.join(',')} --`
          : 'UNKNOWN_EXCEPTION:unknown:--';
        job.failed.push([result.id ?? '', text, ...original]);
      }
    }
  }
}

/** Result rows come back in no particular order; the seeded PRNG shuffles them. */
function shuffle(state: SalesforceState, rows: string[][]): string[][] {
  const copy = [...rows];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(state.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as string[], copy[i] as string[]];
  }
  return copy;
}

export const bulkCreateJob: ApiHandler = ({ state, body, version, reply }) =>
  reply(200, createJob(state, body, version));

export const bulkUpload: ApiHandler = ({ state, rest, method, body, entry, reply }) => {
  const job = getJob(state, rest);
  if (method !== 'PUT') throw notFound();
  if (job.state !== 'Open')
    throw new HttpError(
      409,
      'INVALIDJOBSTATE',
      `Job ${job.id} is not Open; data can be uploaded only to an Open job`,
    );
  const rows = parseCsv(body).length - 1;
  entry.records = Math.max(0, rows);
  job.uploads.push(body);
  reply(201, undefined);
};

export const bulkClose: ApiHandler = ({ state, rest, body, entry, reply }) => {
  const job = getJob(state, rest);
  const patch = parseJson(body);
  const target = isRecordObject(patch) ? patch.state : undefined;
  if (target === 'UploadComplete') {
    if (job.state !== 'Open')
      throw new HttpError(409, 'INVALIDJOBSTATE', `Job ${job.id} is ${job.state}, not Open`);
    job.state = 'UploadComplete';
    job.systemModstamp = sfDateTime(state.now());
    schedule(state, job, { client: entry.client, autoAssign: entry.autoAssign, kind: 'bulk' });
  } else if (target === 'Aborted') {
    if (job.state === 'JobComplete' || job.state === 'Failed')
      throw new HttpError(409, 'INVALIDJOBSTATE', `Job ${job.id} is already ${job.state}`);
    job.state = 'Aborted';
  } else {
    throw new HttpError(400, 'INVALIDJOBSTATE', 'state must be UploadComplete or Aborted');
  }
  reply(200, jobInfo(state, job));
};

export const bulkStatus: ApiHandler = ({ state, rest, reply }) =>
  reply(200, jobInfo(state, getJob(state, rest)));

export const bulkDelete: ApiHandler = ({ state, rest, reply }) => {
  const job = getJob(state, rest);
  state.jobs.delete(job.id);
  reply(204, undefined);
};

export const bulkResults: ApiHandler = ({ state, rest, entry, reply }) => {
  const job = getJob(state, rest);
  const which = rest.split('/').filter(Boolean)[3] ?? '';
  if (job.state !== 'JobComplete' && job.state !== 'Failed' && job.state !== 'Aborted') {
    throw new HttpError(
      409,
      'INVALIDJOBSTATE',
      `Job ${job.id} is ${job.state}: results are available once it is complete`,
    );
  }
  const csv = (rows: string[][]) =>
    toCsv(rows, { lineEnding: job.lineEnding === 'CRLF' ? '\r\n' : '\n', quoteAll: true });
  if (which === 'successfulResults') {
    entry.records = job.successful.length;
    return reply(
      200,
      csv([['sf__Id', 'sf__Created', ...job.header], ...shuffle(state, job.successful)]),
      'text/csv',
    );
  }
  if (which === 'failedResults') {
    entry.records = job.failed.length;
    return reply(
      200,
      csv([['sf__Id', 'sf__Error', ...job.header], ...shuffle(state, job.failed)]),
      'text/csv',
    );
  }
  if (which.toLowerCase() === 'unprocessedrecords') {
    entry.records = job.unprocessed.length;
    return reply(200, csv([job.header, ...job.unprocessed]), 'text/csv');
  }
  throw notFound();
};
