import type { WorldActivity } from '../../world.js';
import { type BulkExportState, type ExportJob, jobView } from '../bulk-export-state.js';
import { EnvelopeError } from '../envelope.js';
import { RawResponse, type RouteContext, type Router } from '../router.js';
import type { MarketoState } from '../sandbox-state.js';

/**
 * Bulk Activity Extract: create → enqueue → status → file, and cancel
 * (AdobeDocs/marketo-developer.en help/rest-api/bulk-activity-extract.md and
 * help/rest-api/bulk-extract.md; paths and ExportResponse fields from reference/marketo/swagger-mapi.json,
 * tag "Bulk Export Activities"). The file is built, when the job completes, from the same activity
 * store the REST activities route pages through, so both paths see the same data.
 */

const BASE = '/bulk/v1/activities/export';

/** "By default, the following fields are returned" (bulk-activity-extract.md, "Options": `fields`). */
export const DEFAULT_EXPORT_FIELDS = [
  'marketoGUID',
  'leadId',
  'activityDate',
  'activityTypeId',
  'campaignId',
  'primaryAttributeValueId',
  'primaryAttributeValue',
  'attributes',
] as const;

/** "The range must be 31 days or fewer" (bulk-activity-extract.md, "Filters": createdAt). */
const MAX_RANGE_MS = 31 * 86_400_000;

/** "Datetimes should be in an ISO-8601 format, without milliseconds" (bulk-activity-extract.md, "Filters"). */
function parseDatetime(raw: unknown, name: string): number {
  if (typeof raw !== 'string' || raw === '') throw new EnvelopeError('701', `${name} cannot be blank`);
  const ms = Date.parse(raw);
  if (Number.isNaN(ms) || /\.\d+/.test(raw) || !/^\d{4}-\d{2}-\d{2}T/.test(raw))
    throw new EnvelopeError('1001', `Invalid value '${raw}'. Required of type 'Date'`);
  return ms;
}

interface CreateRequest {
  startAtMs: number;
  endAtMs: number;
  activityTypeIds?: number[];
  fields: string[];
  headers: Record<string, string>;
}

function parseCreate(body: unknown): CreateRequest {
  const b = (body ?? {}) as Record<string, unknown>;
  const filter = (b.filter ?? {}) as Record<string, unknown>;
  const createdAt = filter.createdAt as Record<string, unknown> | undefined;
  // "Exactly one createdAt filter must be included" (bulk-activity-extract.md, "Options": filter).
  if (!createdAt) throw new EnvelopeError('1003', 'createdAt filter is required');
  const startAtMs = parseDatetime(createdAt.startAt, 'startAt');
  const endAtMs = parseDatetime(createdAt.endAt, 'endAt');
  // The docs give no code for a range over 31 days; 1003 "Invalid data" (error-codes.md) is our choice.
  if (endAtMs < startAtMs || endAtMs - startAtMs > MAX_RANGE_MS)
    throw new EnvelopeError('1003', 'createdAt range must be 31 days or fewer, startAt before endAt');
  // "Accepts one of: CSV, TSV, SSV ... Defaults to CSV" — the sandbox implements CSV only (the two
  // documents disagree on what SSV separates with: space or semicolon).
  if (b.format !== undefined && b.format !== 'CSV')
    throw new EnvelopeError(
      '1003',
      `format ${String(b.format)} is not implemented by the sandbox (CSV only)`,
    );
  const ids = filter.activityTypeIds;
  if (ids !== undefined && (!Array.isArray(ids) || ids.some((x) => !Number.isInteger(x))))
    throw new EnvelopeError('1001', "Invalid value for activityTypeIds. Required of type 'Array[Integer]'");
  const allowed = new Set<string>([...DEFAULT_EXPORT_FIELDS, 'actionResult']);
  const fields =
    Array.isArray(b.fields) && b.fields.length > 0 ? b.fields.map(String) : [...DEFAULT_EXPORT_FIELDS];
  const unknown = fields.find((f) => !allowed.has(f));
  if (unknown) throw new EnvelopeError('1006', `Field '${unknown}' not found`);
  const headers = (b.columnHeaderNames ?? {}) as Record<string, string>;
  return {
    startAtMs,
    endAtMs,
    ...(ids ? { activityTypeIds: ids as number[] } : {}),
    fields,
    headers,
  };
}

/** RFC 4180 quoting: a field holding a comma, a quote or a line break is quoted, quotes doubled. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * One activity as an export row. An empty field is the text `null` ("If a requested lead field is
 * empty ... null is placed in the corresponding field"); `attributes` is a JSON object of attribute
 * name → value (the example file in bulk-activity-extract.md, "Retrieving Your Data").
 */
function exportValue(a: WorldActivity, field: string): string {
  if (field === 'attributes') {
    if (!a.attributes?.length) return 'null';
    return JSON.stringify(Object.fromEntries(a.attributes.map((x) => [x.name, x.value])));
  }
  // "actionResult ... (succeeded, skipped, or failed)": the sandbox's activities all succeeded.
  if (field === 'actionResult') return 'succeeded';
  const v = (a as unknown as Record<string, unknown>)[field];
  return v === undefined || v === null ? 'null' : String(v);
}

function buildFile(state: MarketoState, job: ExportJob, now: number): { file: Buffer; records: number } {
  const types = job.activityTypeIds ? new Set(job.activityTypeIds) : undefined;
  const lines = [job.fields.map((f) => csvField(job.headers[f] ?? f)).join(',')];
  let records = 0;
  const acts = state.world.activities;
  // createdAt between startAt ("earliest permitted creation date") and endAt ("latest permitted"), inclusive.
  for (let i = state.world.indexAfter(job.startAtMs, -1); i < acts.length; i++) {
    const a = acts[i]!;
    if (a.dateMs > job.endAtMs) break;
    if (a.visibleAtMs > now || (types && !types.has(a.activityTypeId))) continue;
    lines.push(job.fields.map((f) => csvField(exportValue(a, f))).join(','));
    records += 1;
  }
  return { file: Buffer.from(`${lines.join('\n')}\n`, 'utf8'), records };
}

/** `Range: bytes=a-b` (RFC 7233 byte ranges, bulk-extract.md "Retrieving Your Data"); undefined = whole file. */
function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'invalid' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return 'invalid';
  if (m[1] === '') {
    const suffix = Number(m[2]);
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return 'invalid';
  return { start, end };
}

/** "If a job has not completed, or a bad job id is passed, file endpoints respond with a status of 404 Not Found, and a plaintext error message" (bulk-extract.md). */
const notFound = (message: string) => new RawResponse(404, { 'content-type': 'text/plain' }, message);

export function bulkExportRoutes(router: Router, state: MarketoState, exports: BulkExportState): void {
  const advance = (now: number) => exports.advance(now, (job) => buildFile(state, job, now));
  const jobOf = (ctx: RouteContext): ExportJob => {
    advance(ctx.now);
    const job = exports.jobs.get(ctx.pathParams.exportId ?? '');
    // The docs do not name the code for an unknown export id; 1003 "Invalid data" is our choice.
    if (!job) throw new EnvelopeError('1003', 'Export id not found');
    return job;
  };
  const quotaExceeded = () => new EnvelopeError('1029', 'Export daily quota exceeded');

  router.route('POST', `${BASE}/create.json`, (ctx) => {
    advance(ctx.now);
    const req = parseCreate(ctx.body);
    if (exports.quotaSpent()) throw quotaExceeded();
    const job: ExportJob = {
      exportId: exports.nextId(),
      status: 'Created',
      format: 'CSV',
      createdAt: ctx.now,
      ...req,
    };
    exports.jobs.set(job.exportId, job);
    return { result: [jobView(job)] };
  });

  router.route('POST', `${BASE}/{exportId}/enqueue.json`, (ctx) => {
    const job = jobOf(ctx);
    // "1029 ... Job already queued: The export id has already been queued" (error-codes.md).
    if (job.status !== 'Created') throw new EnvelopeError('1029', 'Job already queued');
    if (exports.quotaSpent()) throw quotaExceeded();
    // "If you try to enqueue a job when the queue is full ... 1029, Too many jobs in queue" (bulk-extract.md, "Queue").
    if (exports.queuedCount() >= exports.limits.maxQueued)
      throw new EnvelopeError('1029', 'Too many jobs in queue');
    job.status = 'Queued';
    job.queuedAt = ctx.now;
    return { result: [jobView(job)] };
  });

  router.route('GET', `${BASE}/{exportId}/status.json`, (ctx) => ({ result: [jobView(jobOf(ctx))] }));

  router.route('POST', `${BASE}/{exportId}/cancel.json`, (ctx) => {
    const job = jobOf(ctx);
    if (job.status === 'Created' || job.status === 'Queued' || job.status === 'Processing') {
      // The cancel example answers "status": "Cancelled" (bulk-activity-extract.md, "Canceling a Job").
      job.status = 'Cancelled';
      advance(ctx.now);
    }
    return { result: [jobView(job)] };
  });

  router.route('GET', `${BASE}/{exportId}/file.json`, (ctx) => {
    advance(ctx.now);
    const job = exports.jobs.get(ctx.pathParams.exportId ?? '');
    if (!job?.file || job.status !== 'Completed')
      return notFound('Export file not found or job not completed');
    const size = job.file.length;
    const range = parseRange(ctx.headers.range, size);
    if (range === 'invalid')
      return new RawResponse(
        416,
        { 'content-range': `bytes */${size}`, 'content-type': 'text/plain' },
        'Range Not Satisfiable',
      );
    if (!range)
      return new RawResponse(
        200,
        { 'content-type': 'text/csv', 'accept-ranges': 'bytes', 'content-length': size },
        job.file,
      );
    const part = job.file.subarray(range.start, range.end + 1);
    // "the endpoint responds with status code 206, and returning the Accept-ranges, Content-Length, and Content-Range headers" (bulk-extract.md).
    return new RawResponse(
      206,
      {
        'content-type': 'text/csv',
        'accept-ranges': 'bytes',
        'content-length': part.length,
        'content-range': `bytes ${range.start}-${range.end}/${size}`,
      },
      part,
    );
  });
}
