import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS_INPUT, parseSettings } from '../../../shared/config/settings.js';
import {
  allocateWindows,
  planStreams,
  splitWindows,
  UnknownActivityTypeError,
} from '../../../shared/domain/activity-streams.js';

const instanceTypes = [
  { id: 1, name: 'Visit Webpage' },
  { id: 2, name: 'Fill Out Form' },
  { id: 6, name: 'Send Email' },
  { id: 7, name: 'Email Delivered' },
  { id: 10, name: 'Open Email' },
  { id: 11, name: 'Click Email' },
  { id: 24, name: 'Add To List' }, // the published spelling; settings say 'Add to List'
  { id: 25, name: 'Remove from List' },
  { id: 39, name: 'Send Sales Email' },
  { id: 40, name: 'Open Sales Email' },
  { id: 41, name: 'Click Sales Email' },
  { id: 45, name: 'Receive Sales Email' },
];

describe('planStreams', () => {
  it('groups the enabled types at most 10 ids per stream and reports optional types the instance lacks', () => {
    const plan = planStreams(parseSettings(DEFAULT_SETTINGS_INPUT), instanceTypes);

    expect(plan.streams.map((s) => s.key)).toEqual(['2,6,7,10,11,24,25,39,40,41', '45']);
    expect(plan.streams.every((s) => s.types.length <= 10)).toBe(true);
    expect(plan.missingOptional).toEqual(['Remove from Flow']);
  });

  it('refuses an enabled, non-optional type the instance does not have, naming the setting', () => {
    const input = structuredClone(DEFAULT_SETTINGS_INPUT) as {
      activities: { types: Record<string, unknown>[] };
    };
    input.activities.types.push({
      name: 'Attended Webinar',
      subjectTemplate: 'Webinar: {primaryAttributeValue}',
    });

    expect(() => planStreams(parseSettings(input), instanceTypes)).toThrowError(UnknownActivityTypeError);
    expect(() => planStreams(parseSettings(input), instanceTypes)).toThrowError(
      /activities\.types\.12 \("Attended Webinar"\)/,
    );
  });

  it('leaves disabled types out of every stream', () => {
    const input = structuredClone(DEFAULT_SETTINGS_INPUT) as {
      activities: { types: Record<string, unknown>[] };
    };
    for (const t of input.activities.types) if (t.name !== 'Open Email') t.enabled = false;

    expect(planStreams(parseSettings(input), instanceTypes).streams).toEqual([
      { key: '10', types: [{ id: 10, name: 'Open Email' }] },
    ]);
  });
});

describe('splitWindows', () => {
  it('covers the span exactly with contiguous windows, the last open-ended', () => {
    const from = new Date('2026-08-25T00:00:00Z');
    const now = new Date('2026-11-23T00:00:00Z');

    const windows = splitWindows(from, now, 8);

    expect(windows).toHaveLength(8);
    expect(windows[0]?.from).toBe(from.toISOString());
    expect(windows.at(-1)?.until).toBeUndefined();
    for (let i = 1; i < windows.length; i++) expect(windows[i]?.from).toBe(windows[i - 1]?.until);
  });

  it('uses one window for a short incremental span', () => {
    expect(splitWindows(new Date('2026-11-22T19:00:00Z'), new Date('2026-11-22T21:00:00Z'), 8)).toHaveLength(
      1,
    );
  });

  it('reads a nightly span (a day and the overlap) as one window, a longer catch-up as one per day', () => {
    const now = new Date('2026-11-23T04:00:00Z');
    expect(splitWindows(new Date(now.getTime() - 25 * 3600_000), now, 8)).toHaveLength(1);
    expect(splitWindows(new Date(now.getTime() - 3 * 86_400_000), now, 8)).toHaveLength(3);
  });
});

describe('allocateWindows', () => {
  const stream = (types: number) => ({
    types: Array.from({ length: types }, (_, i) => ({ id: i, name: `t${i}` })),
  });

  it('shares the windows by type count, at least one per stream, never more than asked in total', () => {
    expect(allocateWindows([stream(10), stream(1)], 8)).toEqual([7, 1]);
    expect(allocateWindows([stream(10), stream(10)], 8)).toEqual([4, 4]);
    expect(allocateWindows([stream(10), stream(5), stream(5)], 8)).toEqual([4, 2, 2]);
    expect(allocateWindows([stream(3)], 8)).toEqual([8]);
    expect(allocateWindows([stream(10), stream(1)], 1)).toEqual([1, 1]);
    for (const total of [1, 2, 5, 8, 13, 32]) {
      const shares = allocateWindows([stream(10), stream(7), stream(2)], total);
      expect(shares.every((n) => n >= 1)).toBe(true);
      expect(shares.reduce((a, b) => a + b, 0)).toBe(Math.max(3, total));
    }
  });
});
