import { describe, expect, it } from 'vitest';
import { estimateWindowActivities, quotaShare, writeCalls } from '../../../shared/domain/cycle-estimate.js';

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

  it('write calls: lead look-ups per 300, collections of 200 plus a query per page, one Bulk job past twice the threshold', () => {
    const base = { batchSize: 300, upsertMode: 'externalId' as const, bulkThreshold: 2000 };
    expect(writeCalls({ ...base, activities: 0, pages: 1 })).toEqual({ marketo: 0, salesforce: 0 });
    expect(writeCalls({ ...base, activities: 1000, pages: 4 })).toEqual({
      marketo: 4,
      salesforce: 1 + 4 + 5,
    });
    expect(writeCalls({ ...base, activities: 24_000, pages: 80 })).toEqual({ marketo: 80, salesforce: 6 });
    expect(writeCalls({ ...base, upsertMode: 'ledger', activities: 1000, pages: 4 }).salesforce).toBe(
      1 + 4 + 10,
    );
    expect(quotaShare(175, 50_000)).toBe(0.4);
  });
});
