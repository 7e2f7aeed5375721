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
    expect(plan.typesMissing).toEqual(['Remove from Flow']);
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

  it('resolves standard types by their documented id: the published names (other case, other spelling) yield every default type, each difference a warning naming both', () => {
    const published = instanceTypes.map((t) =>
      t.id === 24
        ? { id: 24, name: 'Add To List' }
        : t.id === 45
          ? { id: 45, name: 'Receive Sales Email' }
          : t,
    );
    const input = structuredClone(DEFAULT_SETTINGS_INPUT) as {
      activities: { types: Record<string, unknown>[] };
    };
    input.activities.types.push({ name: 'Open Email Renamed', id: 10, subjectTemplate: 'x', enabled: false });
    for (const t of input.activities.types)
      if (t.name === 'Received Sales Email') t.name = 'Receive Sales Email';
    // An instance whose id 2 carries a localised name is still resolved by the documented id.
    const renamed = published.map((t) => (t.id === 2 ? { id: 2, name: 'Formular ausfüllen' } : t));

    const plan = planStreams(parseSettings(input), renamed);

    expect(plan.streams.flatMap((s) => s.types.map((t) => t.id))).toEqual([
      2, 6, 7, 10, 11, 24, 25, 39, 40, 41, 45,
    ]);
    expect(plan.typesMissing).toEqual(['Remove from Flow']);
    expect(plan.resolutions.find((r) => r.setting === 'Fill Out Form')).toEqual({
      setting: 'Fill Out Form',
      id: 2,
      by: 'standardId',
      instanceName: 'Formular ausfüllen',
    });
    // Case alone is not a difference; a different name is, and the warning names both.
    expect(plan.warnings).toEqual([
      'activities.types.0 "Fill Out Form" is named "Formular ausfüllen" on this instance (id 2); resolved by id',
    ]);
  });

  it('refuses a non-optional standard type the instance lacks, naming it and its documented id', () => {
    const input = structuredClone(DEFAULT_SETTINGS_INPUT) as {
      activities: { types: Record<string, unknown>[] };
    };
    input.activities.types.push({
      name: 'Interesting Moment',
      subjectTemplate: 'IM: {primaryAttributeValue}',
    });

    expect(() => planStreams(parseSettings(input), instanceTypes)).toThrowError(
      /Invalid sync settings.*activities\.types\.12 \("Interesting Moment"\): no activity type with its documented id 46/,
    );
  });

  it('resolves a custom type (id ≥ 100000) by name, or by its pinned id', () => {
    const input = structuredClone(DEFAULT_SETTINGS_INPUT) as {
      activities: { types: Record<string, unknown>[] };
    };
    input.activities.types.push({ name: 'Attended Webinar', subjectTemplate: 'W' });
    input.activities.types.push({ name: 'Booth Visit', id: 100_002, subjectTemplate: 'B' });
    const custom = [
      ...instanceTypes,
      { id: 100_001, name: 'Attended Webinar' },
      { id: 100_002, name: 'Booth Scan' },
    ];

    const plan = planStreams(parseSettings(input), custom);

    expect(plan.resolutions.slice(-2)).toEqual([
      { setting: 'Attended Webinar', id: 100_001, by: 'name', instanceName: 'Attended Webinar' },
      { setting: 'Booth Visit', id: 100_002, by: 'pinnedId', instanceName: 'Booth Scan' },
    ]);
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
