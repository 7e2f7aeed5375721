import type { Logger } from '@aws-lambda-powertools/logger';
import { normaliseEmail } from '../domain/email.js';
import type { Observation } from '../domain/opt-out-policy.js';
import { marketoTarget, type OptOutOrigin, type SalesforcePersonObject } from '../domain/opt-out-state.js';
import { SoqlFragment, soql, soqlIdentifier } from '../domain/soql.js';
import type { LeadChange, MarketoApi } from '../ports/marketo-api.js';
import { readFirstMarketoPage } from '../ports/marketo-paging.js';
import type { SalesforceApi } from '../ports/salesforce-api.js';
import { CHUNK_ATTEMPTS } from './night-apply.js';
import {
  bump,
  emptyFieldHistoryTally,
  type FieldHistoryTally,
  MAX_POISON_LISTED,
  type NightTally,
  type PoisonChunk,
} from './night-tally.js';
import { MARKETO_LEAD_FIELDS, salesforceRowToRecord } from './person-records.js';
import { type ResubscribeChange, readResubscribeHistory } from './salesforce-field-history.js';

/**
 * One chunk of a night's reading: one page of Marketo lead changes, or one keyset page of
 * Salesforce Leads/Contacts modified in the window. Each returns the observations per person and
 * the position to resume from, which the night checkpoints before the next chunk.
 */

/** Rows per Salesforce chunk (one query page: Salesforce returns up to 2,000 rows per page). */
export const SALESFORCE_ROWS_PER_CHUNK = 2000;

export interface ReadChunk {
  /** Observations per normalised email. */
  changes: Map<string, Observation[]>;
  read: number;
  skipped: Record<string, number>;
}

const truthy = (v: string | null | undefined) => v === 'true' || v === '1';

function addChange(changes: Map<string, Observation[]>, email: string, obs: Observation) {
  const key = normaliseEmail(email);
  changes.set(key, [...(changes.get(key) ?? []), obs]);
}

/** The Marketo side of a night: where its paging stands. */
export interface MarketoPosition {
  /** The token of the next page to read; absent before the first page (generated from `since`). */
  token?: string;
  done: boolean;
}

/** Reads one page of `unsubscribed` changes and the leads they name (2 calls). */
export async function readMarketoChunk(
  mk: MarketoApi,
  input: { position: MarketoPosition; since: Date; batchSize: number; runId: string },
): Promise<ReadChunk & { next: MarketoPosition }> {
  const page = await readFirstMarketoPage({
    marketo: mk,
    readPage: (nextPageToken) =>
      mk.getLeadChanges({
        nextPageToken,
        fields: ['unsubscribed', 'unsubscribedReason'],
        batchSize: input.batchSize,
      }),
    since: input.since,
    resumeToken: input.position.token,
    dateOf: (c) => c.activityDate,
  });
  const next: MarketoPosition = page.moreResult ? { token: page.nextPageToken, done: false } : { done: true };
  const skipped: Record<string, number> = {};
  const changes = new Map<string, Observation[]>();
  const relevant: LeadChange[] = page.items.filter((c) =>
    c.fields?.some((f) => f.name.toLowerCase() === 'unsubscribed'),
  );
  if (relevant.length === 0) return { changes, read: 0, skipped, next };
  const leadIds = [...new Set(relevant.map((c) => c.leadId))];
  const leads = await mk.getLeads({ filterType: 'id', filterValues: leadIds, fields: MARKETO_LEAD_FIELDS });
  const leadById = new Map(leads.map((l) => [l.id, l]));
  for (const c of relevant) {
    const lead = leadById.get(c.leadId);
    if (!lead) {
      bump(skipped, 'marketoLeadNotFound');
      continue;
    }
    if (!lead.email) {
      bump(skipped, 'marketoLeadWithoutEmail');
      continue;
    }
    const f = c.fields?.find((x) => x.name.toLowerCase() === 'unsubscribed');
    addChange(changes, lead.email, {
      source: 'marketo-nightly',
      target: marketoTarget(c.leadId),
      value: truthy(f?.newValue),
      priorValue: truthy(f?.oldValue),
      at: new Date(c.activityDate).toISOString(),
      evidence: {
        leadId: c.leadId,
        activityGuid: c.marketoGUID,
        runId: input.runId,
        ...(lead.unsubscribedReason ? { reason: lead.unsubscribedReason } : {}),
      },
    });
  }
  return { changes, read: relevant.length, skipped, next };
}

/** The Salesforce side of a night: which object, and the last Id read. */
export interface SalesforcePosition {
  sobject: SalesforcePersonObject;
  afterId?: string;
  done: boolean;
  /** Objects whose history object the org refused this run (INVALID_TYPE): not asked again. */
  historyUnsupported?: SalesforcePersonObject[];
}

type Row = { Id: string; Email?: string | null; SystemModstamp?: string | null } & Record<string, unknown>;

/**
 * Reads the next rows (by Id) of one object: modified since the watermark (a night), or carrying
 * the opt-out whatever their age (`optedOutOnly`, the first-enable alignment).
 */
export async function readSalesforceChunk(
  sf: SalesforceApi,
  input: {
    position: SalesforcePosition;
    objects: readonly SalesforcePersonObject[];
    field: string;
    since: Date;
    until: Date;
    runId: string;
    rows?: number;
    /** Every record whose opt-out field is set, whatever its age (`since` is then ignored). */
    optedOutOnly?: boolean;
    /**
     * The policy's `optOuts.resubscribeSources`. Only when it lists `salesforce` are the chunk's
     * "subscribed" rows dated by field history (one more query per chunk that has any); otherwise
     * a resubscribe from Salesforce is refused anyway and no extra call is made.
     */
    resubscribeSources?: readonly OptOutOrigin[];
    /** Told once per run and object when the org has no history object for it. */
    logger?: Pick<Logger, 'warn'>;
  },
): Promise<ReadChunk & { next: SalesforcePosition; fieldHistory: FieldHistoryTally }> {
  const { position, field } = input;
  const limit = input.rows ?? SALESFORCE_ROWS_PER_CHUNK;
  const from = soqlIdentifier(position.sobject);
  const f = soqlIdentifier(field);
  // Keyset by Id: the night ends however many rows change meanwhile (a row changed after the
  // night began behind the keyset is read by the next night, whose window starts at this one's).
  // Keyset, not nextRecordsUrl: a query locator expires (15 minutes idle), an Id survives a crash.
  const which = new SoqlFragment(
    input.optedOutOnly ? soql`${f} = true` : soql`SystemModstamp > ${input.since}`,
  );
  const rows = await sf.query<Row>(
    position.afterId
      ? soql`SELECT Id, Email, ${f}, SystemModstamp FROM ${from} WHERE ${which} AND Email != null AND Id > ${position.afterId} ORDER BY Id LIMIT ${limit}`
      : soql`SELECT Id, Email, ${f}, SystemModstamp FROM ${from} WHERE ${which} AND Email != null ORDER BY Id LIMIT ${limit}`,
  );
  const changes = new Map<string, Observation[]>();
  const now = input.until;
  const fieldHistory = emptyFieldHistoryTally();
  let historyUnsupported = position.historyUnsupported ?? [];
  // A resubscribe is dated by evidence that the field itself changed (its history row), else by the
  // policy's lower bound (resubscribeDate), never by SystemModstamp, which any edit moves.
  let history = new Map<string, ResubscribeChange>();
  const subscribed = rows.filter((r) => r.Email && r[field] !== true).map((r) => r.Id);
  const datesResubscribes = !input.optedOutOnly && input.resubscribeSources?.includes('salesforce') === true;
  const wantHistory =
    datesResubscribes && subscribed.length > 0 && !historyUnsupported.includes(position.sobject);
  if (wantHistory) {
    const h = await readResubscribeHistory(sf, {
      sobject: position.sobject,
      field,
      ids: subscribed,
      since: input.since,
      select: 'range',
    });
    fieldHistory.queries++;
    if (h === 'unsupported') {
      historyUnsupported = [...historyUnsupported, position.sobject];
      fieldHistory.unsupported++;
      input.logger?.warn(
        'Opt-out night: the org has no field history for this object; resubscribes are dated by the lower bound',
        { runId: input.runId, historyObject: `${position.sobject}History` },
      );
    } else history = h;
  }
  let read = 0;
  for (const row of rows) {
    const rec = salesforceRowToRecord(position.sobject, row, field, now);
    if (!rec) continue;
    read++;
    const change = rec.optedOut ? undefined : history.get(row.Id);
    if (datesResubscribes && !rec.optedOut) fieldHistory[change ? 'dated' : 'undated']++;
    addChange(changes, rec.email, {
      source: 'salesforce-nightly',
      target: rec.target,
      value: rec.optedOut,
      ...(change ? { at: change.at, priorValue: true } : { at: rec.at }),
      evidence: {
        recordId: row.Id,
        sobject: position.sobject,
        runId: input.runId,
        ...(change ? { historyId: change.historyId } : {}),
      },
    });
  }
  const last = rows.at(-1);
  const memo = historyUnsupported.length ? { historyUnsupported } : {};
  let next: SalesforcePosition;
  if (rows.length === limit && last) {
    next = { sobject: position.sobject, afterId: last.Id, done: false, ...memo };
  } else {
    const i = input.objects.indexOf(position.sobject);
    const following = input.objects[i + 1];
    next = following
      ? { sobject: following, done: false, ...memo }
      : { sobject: position.sobject, done: true, ...memo };
  }
  return { changes, read, skipped: {}, next, fieldHistory };
}

/** Reads a chunk, retried; `ok: false` when every attempt failed (the side stops for this run). */
export async function readWithRetry<T extends ReadChunk>(
  read: () => Promise<T>,
): Promise<{ ok: true; chunk: T; retried: number } | { ok: false; error: unknown }> {
  let error: unknown;
  for (let attempt = 1; attempt <= CHUNK_ATTEMPTS; attempt++) {
    try {
      return { ok: true, chunk: await read(), retried: attempt - 1 };
    } catch (err) {
      error = err;
    }
  }
  return { ok: false, error };
}

const errorName = (err: unknown) => (err instanceof Error ? err.name : 'unknown');

/** A run whose reading of a side can fail: a night or the first-enable alignment. */
interface SideReader {
  runId: string;
  sideFailed: { marketo?: string; salesforce?: string };
  poison: PoisonChunk[];
  tally: NightTally;
}

/**
 * A page failed every attempt: that side stops for this run (its position stays for the next one),
 * the page is listed as poison, and the other side goes on.
 */
export function markSideFailed<T extends SideReader>(
  logger: Logger,
  n: T,
  side: 'marketo' | 'salesforce',
  ref: string,
  error: unknown,
): T {
  const kind: PoisonChunk['kind'] = side === 'marketo' ? 'marketo-page' : 'salesforce-page';
  logger.warn('Opt-out run: a page could not be read after its retries; that side resumes next run', {
    runId: n.runId,
    side,
    error: errorName(error),
    ...(error instanceof Error ? { message: error.message } : {}),
  });
  n.sideFailed[side] = errorName(error);
  n.poison = [...n.poison, { kind, ref, error: errorName(error), attempts: CHUNK_ATTEMPTS }].slice(
    0,
    MAX_POISON_LISTED,
  );
  n.tally.chunks.poison++;
  return n;
}
