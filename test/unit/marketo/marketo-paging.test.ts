import { describe, expect, it } from 'vitest';
import type { ActivityPage } from '../../../shared/ports/marketo-api.js';
import { MarketoApiError, MarketoPagingTokenError } from '../../../shared/ports/marketo-errors.js';
import {
  MAX_PAGING_TOKEN_REFUSALS,
  MarketoPagingTokensRefusedError,
  PAGING_TOKEN_RESTART_OVERLAP_MS,
  readFirstMarketoPage,
  readMarketoPages,
} from '../../../shared/ports/marketo-paging.js';

interface Item {
  id: string;
  at: string;
}

const SINCE = new Date('2026-11-01T00:00:00.000Z');
const refused = () =>
  new MarketoPagingTokenError('refused', { code: '1003', endpoint: 'GET /rest/v1/activities.json' });

/** A scripted stream: each read answers the next step (a page, or an error to throw). */
function stream(steps: (ActivityPage<Item> | Error)[]) {
  const tokensAsked: Date[] = [];
  const pagesRead: string[] = [];
  let generated = 0;
  const marketo = {
    getPagingToken: async (since: Date) => {
      tokensAsked.push(since);
      generated += 1;
      return `fresh-${generated}`;
    },
  };
  const readPage = async (token: string): Promise<ActivityPage<Item>> => {
    pagesRead.push(token);
    const step = steps.shift();
    if (!step) throw new Error('read past the scripted stream');
    if (step instanceof Error) throw step;
    return step;
  };
  return { marketo, readPage, tokensAsked, pagesRead };
}

const page = (ids: string[], at: string, moreResult: boolean, next: string): ActivityPage<Item> => ({
  items: ids.map((id) => ({ id, at })),
  moreResult,
  nextPageToken: next,
});

async function readAll(s: ReturnType<typeof stream>, resumeToken?: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const p of readMarketoPages({ ...s, since: SINCE, resumeToken, dateOf: (i) => i.at }))
    ids.push(...p.items.map((i) => i.id));
  return ids;
}

describe('readMarketoPages', () => {
  it('starts from a token generated at `since` and follows nextPageToken until moreResult is false', async () => {
    const s = stream([
      page(['a'], '2026-11-01T01:00:00Z', true, 't2'),
      page(['b'], '2026-11-01T02:00:00Z', false, 't3'),
    ]);

    expect(await readAll(s)).toEqual(['a', 'b']);
    expect(s.tokensAsked).toEqual([SINCE]);
    expect(s.pagesRead).toEqual(['fresh-1', 't2']);
  });

  it('keeps reading past empty pages that say moreResult:true', async () => {
    const s = stream([
      page([], SINCE.toISOString(), true, 't2'),
      page([], SINCE.toISOString(), true, 't3'),
      page(['c'], '2026-11-01T03:00:00Z', false, 't4'),
    ]);

    expect(await readAll(s)).toEqual(['c']);
    expect(s.pagesRead).toEqual(['fresh-1', 't2', 't3']);
  });

  it('regenerates a refused token from the watermark of the items read, minus the overlap', async () => {
    const s = stream([
      page(['a'], '2026-11-01T05:00:00.000Z', true, 't2'),
      refused(),
      page(['b'], '2026-11-01T06:00:00Z', false, 't4'),
    ]);

    expect(await readAll(s)).toEqual(['a', 'b']);
    expect(s.tokensAsked).toEqual([
      SINCE,
      new Date(Date.parse('2026-11-01T05:00:00.000Z') - PAGING_TOKEN_RESTART_OVERLAP_MS),
    ]);
    expect(s.pagesRead).toEqual(['fresh-1', 't2', 'fresh-2']);
  });

  it('regenerates a refused resume token from `since`', async () => {
    const s = stream([refused(), page(['a'], '2026-11-01T01:00:00Z', false, 't2')]);

    expect(await readAll(s, 'old-checkpoint')).toEqual(['a']);
    expect(s.pagesRead).toEqual(['old-checkpoint', 'fresh-1']);
    expect(s.tokensAsked).toEqual([new Date(SINCE.getTime() - PAGING_TOKEN_RESTART_OVERLAP_MS)]);
  });

  it(`gives up with MarketoPagingTokensRefusedError after ${MAX_PAGING_TOKEN_REFUSALS} regenerated tokens are refused too`, async () => {
    const s = stream(Array.from({ length: MAX_PAGING_TOKEN_REFUSALS + 1 }, refused));

    const err = await readAll(s).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(MarketoPagingTokensRefusedError);
    expect((err as Error).cause).toBeInstanceOf(MarketoPagingTokenError);
    expect(s.tokensAsked).toHaveLength(1 + MAX_PAGING_TOKEN_REFUSALS);
  });

  it('resets the refusal count after a page is read', async () => {
    const steps: (ActivityPage<Item> | Error)[] = [];
    for (let i = 0; i < 3; i++)
      steps.push(
        ...Array.from({ length: MAX_PAGING_TOKEN_REFUSALS }, refused),
        page([`p${i}`], SINCE.toISOString(), i < 2, `t${i}`),
      );
    const s = stream(steps);

    expect(await readAll(s)).toEqual(['p0', 'p1', 'p2']);
  });

  it('passes any other error through unchanged, without regenerating', async () => {
    const other = new MarketoApiError('fatal', { code: '1003', endpoint: 'x' });
    const s = stream([other]);

    await expect(readAll(s)).rejects.toBe(other);
    expect(s.tokensAsked).toEqual([SINCE]);
  });
});

describe('readFirstMarketoPage', () => {
  it('reads exactly one page from the resume token (one step of a checkpointed reader)', async () => {
    const s = stream([
      page(['a'], SINCE.toISOString(), true, 't2'),
      page(['b'], SINCE.toISOString(), false, 't3'),
    ]);

    const first = await readFirstMarketoPage({ ...s, since: SINCE, resumeToken: 'checkpoint' });

    expect(first.items.map((i) => i.id)).toEqual(['a']);
    expect(first.nextPageToken).toBe('t2');
    expect(s.pagesRead).toEqual(['checkpoint']);
    expect(s.tokensAsked).toEqual([]);
  });
});
