import { describe, expect, it } from 'vitest';
import {
  estimateWindowActivities,
  exportJobCalls,
  exportRowBytes,
  leadLookupCalls,
  peopleMet,
  peoplePopulation,
  quotaShare,
  restLookupGroups,
  writeCalls,
} from '../../../shared/domain/cycle-estimate.js';
import { MARKETO_DAILY_EXPORT_BYTES } from '../../../shared/ports/vendor-limits.js';

describe('cycle estimate', () => {
  const now = new Date('2026-12-05T00:00:00Z');

  it('counts a window its first page ends, and extrapolates the others by the span the page covered', () => {
    const from = '2026-12-01T00:00:00Z';
    expect(
      estimateWindowActivities({ from, inWindow: 120, complete: true, lastAt: '2026-12-04T00:00:00Z' }, now),
    ).toBe(120);
    // 300 activities over the first day of a four-day window: about 1,200.
    expect(
      estimateWindowActivities({ from, inWindow: 300, complete: false, lastAt: '2026-12-02T00:00:00Z' }, now),
    ).toBe(1200);
  });

  it('Salesforce write calls: collections of 200 plus a query per page, one Bulk job past twice the threshold', () => {
    const base = { upsertMode: 'externalId' as const, bulkThreshold: 2000 };
    expect(writeCalls({ ...base, activities: 0, pages: 1 })).toEqual({ salesforce: 0 });
    expect(writeCalls({ ...base, activities: 1000, pages: 4 })).toEqual({ salesforce: 1 + 4 + 5 });
    expect(writeCalls({ ...base, activities: 24_000, pages: 80 })).toEqual({ salesforce: 6 });
    expect(writeCalls({ ...base, upsertMode: 'ledger', activities: 1000, pages: 4 }).salesforce).toBe(
      1 + 4 + 10,
    );
    expect(quotaShare(175, 50_000)).toBe(0.4);
  });

  it('people: the population solved from the repeats in a sample, then met by the whole cycle', () => {
    // 2,400 activities drawn from 3,000 people meet 3,000·(1 − e^−0.8) ≈ 1,652 of them.
    const population = peoplePopulation(1652, 2400);
    expect(population).toBeGreaterThan(2950);
    expect(population).toBeLessThan(3050);
    expect(Math.round(peopleMet(population, 24_000))).toBeGreaterThanOrEqual(2990);
    // No repeat: every activity its own person (an upper bound).
    expect(peoplePopulation(300, 300)).toBe(Number.POSITIVE_INFINITY);
    expect(peopleMet(Number.POSITIVE_INFINITY, 1000)).toBe(1000);
  });

  it('lead look-ups: only people the cache does not hold, 300 a call per group, groups at once see the same cache', () => {
    const base = { activities: 24_000, population: 3000, uncachedShare: 1, cacheWithinCycle: true };
    // One group: its 3,000 people in 10 calls.
    expect(leadLookupCalls({ ...base, groups: 1, concurrency: 1 })).toBe(10);
    // Eight groups one after another: most people in the first ones, then the stragglers.
    const sequential = leadLookupCalls({ ...base, groups: 8, concurrency: 1 });
    expect(sequential).toBeGreaterThan(10);
    expect(sequential).toBeLessThan(20);
    // Four at once each look up the same new people: more calls.
    expect(leadLookupCalls({ ...base, groups: 8, concurrency: 4 })).toBeGreaterThan(sequential);
    // Everyone cached and linked: nothing to look up.
    expect(leadLookupCalls({ ...base, uncachedShare: 0, groups: 8, concurrency: 4 })).toBe(0);
    // Without the cache every group looks up all its people.
    expect(leadLookupCalls({ ...base, cacheWithinCycle: false, groups: 8, concurrency: 1 })).toBe(8 * 7);
    // REST: up to 10 pages an invocation, at least one per concurrent consumer.
    expect(restLookupGroups(88, 10, 4)).toBe(9);
    expect(restLookupGroups(9, 10, 4)).toBe(4);
    expect(restLookupGroups(2, 10, 4)).toBe(2);
  });

  it('export jobs: create, enqueue, a status poll, one read per chunkBytes; rows sized as the CSV file holds them', () => {
    const row = exportRowBytes({
      marketoGUID: 'g-1',
      leadId: 7,
      activityDate: '2026-12-01T00:00:00Z',
      activityTypeId: 1,
      primaryAttributeValue: 'a, b',
      attributes: [{ name: 'Query', value: 'x' }],
    });
    // g-1,7,2026-12-01T00:00:00Z,1,null,null,"a, b","{""Query"":""x""}" and a line break
    expect(row).toBe('g-1,7,2026-12-01T00:00:00Z,1,null,null,"a, b","{""Query"":""x""}"'.length + 1);
    expect(exportJobCalls({ activities: 1000, rowBytes: 200, chunkBytes: 16_384 })).toEqual({
      calls: 3 + 13,
      ranges: 13,
      bytes: 200_000,
    });
    expect(exportJobCalls({ activities: 0, rowBytes: 0, chunkBytes: 16_384 }).ranges).toBe(1);
    expect(MARKETO_DAILY_EXPORT_BYTES).toBe(500 * 1024 * 1024);
  });
});
