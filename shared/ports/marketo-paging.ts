import type { ActivityPage, MarketoApi } from './marketo-api.js';

/**
 * The one way to read a Marketo paged stream (activities, lead changes, deleted leads): get a
 * paging token from a datetime (or resume from a checkpointed one), read pages while
 * `moreResult` (an empty page with moreResult:true is not the end), and handle a refused or
 * expired token once, the same way for every reader.
 *
 * Refused-token policy: regenerate a token from the datetime watermark — the latest item date
 * read so far (or the start) minus PAGING_TOKEN_RESTART_OVERLAP_MS for same-second items — and
 * go on; after MAX_PAGING_TOKEN_REFUSALS refusals in a row, throw MarketoPagingTokensRefusedError.
 * Why this policy: Marketo documents tokens as valid for 14 days (an old checkpoint can expire)
 * and a datetime re-read is always correct (readers skip or overwrite what they re-read), so a
 * refusal is worth regenerating more than once (fetch used to give up after one, verify never
 * tried); but a freshly generated token refused again and again is not an expiry, so the bound
 * turns an endless regenerate-and-refuse loop into one clear error. Three matches what the
 * nightly reconcile already allowed.
 */

/** A regenerated paging token starts this far before the watermark (same-second items). */
export const PAGING_TOKEN_RESTART_OVERLAP_MS = 60_000;
/** Refused tokens in a row (without a page read in between) before giving up. */
export const MAX_PAGING_TOKEN_REFUSALS = 3;

/**
 * The Marketo adapter marks the error it throws for a refused or expired nextPageToken with
 * `pagingTokenRefused: true` (adapters/marketo/errors.ts MarketoPagingTokenError).
 */
export interface PagingTokenRefusal {
  readonly pagingTokenRefused: true;
}

export function isPagingTokenRefusal(err: unknown): err is Error & PagingTokenRefusal {
  return err instanceof Error && (err as Partial<PagingTokenRefusal>).pagingTokenRefused === true;
}

/** Marketo kept refusing freshly generated paging tokens: the stream cannot be read now. */
export class MarketoPagingTokensRefusedError extends Error {
  override name = 'MarketoPagingTokensRefusedError';
  constructor(refusals: number, restartFrom: Date, options: { cause: unknown }) {
    super(
      `Marketo refused ${refusals} paging tokens in a row (the last generated from ${restartFrom.toISOString()}); the read stopped. Retry later; if it persists, check the activity type ids and the Marketo API user.`,
      options,
    );
  }
}

export interface MarketoPagesOptions<T> {
  marketo: Pick<MarketoApi, 'getPagingToken'>;
  /** Reads one page at `nextPageToken` (getActivities, getLeadChanges, getDeletedLeads). */
  readPage: (nextPageToken: string) => Promise<ActivityPage<T>>;
  /** The datetime watermark to read from (a fresh token is generated from it). */
  since: Date;
  /** A checkpointed token to resume from instead (regenerated from `since` if refused). */
  resumeToken?: string | undefined;
  /** The item's date (ISO): the watermark follows the items read, so a regenerated token re-reads little. */
  dateOf?: (item: T) => string;
  /** Told before each regeneration (for a log line). */
  onTokenRefused?: (restartFrom: Date, refusals: number) => void;
}

/**
 * Yields every page of the stream, in order, ending after the page with moreResult:false. A
 * reader that handles one page per invocation (the fetch step) takes the first page and stops;
 * its next invocation resumes with `resumeToken` = that page's nextPageToken.
 */
export async function* readMarketoPages<T>(options: MarketoPagesOptions<T>): AsyncGenerator<ActivityPage<T>> {
  const { marketo, readPage, dateOf } = options;
  let watermark = options.since.getTime();
  let token = options.resumeToken ?? (await marketo.getPagingToken(options.since));
  let refusals = 0;
  for (;;) {
    let page: ActivityPage<T>;
    try {
      page = await readPage(token);
    } catch (err) {
      if (!isPagingTokenRefusal(err)) throw err;
      refusals += 1;
      const restartFrom = new Date(watermark - PAGING_TOKEN_RESTART_OVERLAP_MS);
      if (refusals > MAX_PAGING_TOKEN_REFUSALS)
        throw new MarketoPagingTokensRefusedError(refusals, restartFrom, { cause: err });
      options.onTokenRefused?.(restartFrom, refusals);
      token = await marketo.getPagingToken(restartFrom);
      continue;
    }
    refusals = 0;
    if (dateOf)
      for (const item of page.items) watermark = Math.max(watermark, Date.parse(dateOf(item)) || watermark);
    yield page;
    if (!page.moreResult) return;
    token = page.nextPageToken;
  }
}

/** The first page of the stream: one step of a reader that checkpoints page by page. */
export async function readFirstMarketoPage<T>(options: MarketoPagesOptions<T>): Promise<ActivityPage<T>> {
  for await (const page of readMarketoPages(options)) return page;
  // readMarketoPages yields at least one page or throws.
  throw new Error('readMarketoPages ended without a page; this is a bug in marketo-paging.ts.');
}
