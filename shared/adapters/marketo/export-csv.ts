import * as z from 'zod';
import { type Activity, activitySchema } from '../../domain/activity.js';

/**
 * The Bulk Activity Extract CSV (AdobeDocs/marketo-developer.en help/rest-api/bulk-activity-extract.md,
 * "Retrieving Your Data"): a header row, then one activity per record; fields holding commas,
 * quotes or line breaks are quoted with quotes doubled (RFC 4180); an empty field is the text `null`;
 * `attributes` is JSON.
 *
 * Hand-written, small RFC 4180 reader rather than csv-parse (present in node_modules only as a
 * transitive dependency): a file is read in byte ranges and resumed at a record boundary, so the
 * reader must say the exact byte where each record ends, which csv-parse's `info.bytes` does not.
 * It scans bytes: `"`, `,`, CR and LF are ASCII and never occur inside a UTF-8 multi-byte character,
 * so a field is decoded only when it is complete (a character split between ranges is never cut).
 */

const QUOTE = 0x22;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;

export interface CsvRecords {
  /** Complete records, fields decoded. */
  records: string[][];
  /** Bytes consumed: the end of the last complete record (its line break included). */
  consumed: number;
}

/**
 * The complete records of `bytes`. The last record counts only if a line break ends it, or if
 * `final` (the end of the file) — a record cut by the end of a range is left for the next read.
 */
export function readCsvRecords(bytes: Buffer, final: boolean): CsvRecords {
  const records: string[][] = [];
  let consumed = 0;
  let fields: string[] = [];
  let field: Buffer[] = [];
  let start = 0;
  let quoted = false;
  let i = 0;
  const endField = (end: number) => {
    field.push(bytes.subarray(start, end));
    fields.push(Buffer.concat(field).toString('utf8'));
    field = [];
  };
  while (i < bytes.length) {
    const b = bytes[i];
    if (quoted) {
      if (b === QUOTE) {
        if (bytes[i + 1] === QUOTE) {
          // A doubled quote: keep one.
          field.push(bytes.subarray(start, i + 1));
          i += 2;
          start = i;
          continue;
        }
        field.push(bytes.subarray(start, i));
        quoted = false;
        i += 1;
        start = i;
        continue;
      }
      i += 1;
      continue;
    }
    if (b === QUOTE && i === start && field.length === 0) {
      quoted = true;
      i += 1;
      start = i;
    } else if (b === COMMA) {
      endField(i);
      i += 1;
      start = i;
    } else if (b === LF || b === CR) {
      endField(i);
      i += b === CR && bytes[i + 1] === LF ? 2 : 1;
      if (b === CR && i >= bytes.length && !final) break;
      records.push(fields);
      fields = [];
      start = i;
      consumed = i;
    } else i += 1;
  }
  if (final && !quoted && (start < bytes.length || fields.length > 0)) {
    endField(bytes.length);
    records.push(fields);
    consumed = bytes.length;
  }
  return { records, consumed };
}

const nullable = (v: string | undefined): string | undefined =>
  v === undefined || v === 'null' || v === '' ? undefined : v;

const attributesJson = z.union([
  // The Swagger's example file shows `[{"name":…,"value":…}]` (getExportActivitiesFileUsingGET) …
  z.array(z.object({ name: z.string(), value: z.unknown() })),
  // … the guide's example shows `{"name": value, …}` (bulk-activity-extract.md): both are read.
  z.record(z.string(), z.unknown()),
]);

export class ExportCsvError extends Error {
  override readonly name = 'ExportCsvError';
}

/**
 * One record as the Activity the REST activities endpoint returns for the same activity: numbers
 * as numbers, `null` fields absent, `attributes` as `[{ name, value }]` (REST has no `id` here).
 */
export function activityFromRecord(columns: readonly string[], record: readonly string[]): Activity {
  const get = (name: string) => nullable(record[columns.indexOf(name)]);
  const num = (name: string) => {
    const v = get(name);
    return v === undefined ? undefined : Number(v);
  };
  let attributes: Activity['attributes'];
  const rawAttributes = get('attributes');
  if (rawAttributes !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(rawAttributes);
    } catch (cause) {
      throw new ExportCsvError(
        'An export record has an attributes column that is not JSON; re-create the export job.',
        {
          cause,
        },
      );
    }
    const parsed = attributesJson.parse(json);
    attributes = Array.isArray(parsed)
      ? parsed
      : Object.entries(parsed).map(([name, value]) => ({ name, value }));
  }
  const primaryId = get('primaryAttributeValueId');
  const candidate = {
    marketoGUID: get('marketoGUID'),
    leadId: num('leadId'),
    activityDate: get('activityDate'),
    activityTypeId: num('activityTypeId'),
    ...(get('campaignId') !== undefined ? { campaignId: num('campaignId') } : {}),
    ...(primaryId !== undefined
      ? { primaryAttributeValueId: /^\d+$/.test(primaryId) ? Number(primaryId) : primaryId }
      : {}),
    ...(get('primaryAttributeValue') !== undefined
      ? { primaryAttributeValue: get('primaryAttributeValue') }
      : {}),
    ...(attributes?.length ? { attributes } : {}),
  };
  const parsed = activitySchema.safeParse(candidate);
  if (!parsed.success)
    throw new ExportCsvError(
      `An export record is not an activity (${parsed.error.issues[0]?.message ?? 'invalid'}).`,
      {
        cause: parsed.error,
      },
    );
  return parsed.data;
}
