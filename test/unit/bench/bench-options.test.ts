import { describe, expect, it } from 'vitest';
import {
  BenchUsageError,
  comparePresets,
  parseBenchArgs,
  presetName,
  runName,
  settingsFor,
  sizeLabel,
} from '../../../bench/bench-options.js';

describe('bench options', () => {
  it('defaults to 100k activities at the real 20 s window and 300 / 200 ms latency', () => {
    const o = parseBenchArgs([]);
    expect(o).toMatchObject({
      activities: 100_000,
      quick: false,
      windowMs: 20_000,
      marketoLatencyMs: 300,
      salesforceLatencyMs: 200,
      shortPages: 0.1,
      emptyPages: 0.05,
      bundles: true,
      coldRuns: 5,
      compare: false,
      preset: { salesforce: 'default', leadCache: true },
    });
  });

  it('scales every time by 1/10 in --quick, and explicit values win', () => {
    expect(parseBenchArgs(['--quick'])).toMatchObject({
      activities: 10_000,
      windowMs: 2_000,
      marketoLatencyMs: 30,
      salesforceLatencyMs: 20,
      coldRuns: 3,
    });
    expect(parseBenchArgs(['--quick', '--activities', '5000', '--marketo-latency-ms=100'])).toMatchObject({
      activities: 5_000,
      marketoLatencyMs: 100,
    });
  });

  it('reads the presets', () => {
    const o = parseBenchArgs([
      '--backfill-windows',
      '1',
      '--salesforce',
      'bulk',
      '--lead-cache',
      'off',
      '--short-pages',
      '0',
      '--no-bundles',
    ]);
    expect(o.preset).toEqual({ backfillWindows: 1, salesforce: 'bulk', leadCache: false });
    expect(o.shortPages).toBe(0);
    expect(o.bundles).toBe(false);
    expect(presetName(o.preset)).toBe('windows-1+bulk+lead-cache-off');
    expect(presetName({ salesforce: 'default', leadCache: true })).toBe('default');
  });

  it('refuses unknown options and bad values, naming them', () => {
    expect(() => parseBenchArgs(['--activites', '5'])).toThrow(BenchUsageError);
    expect(() => parseBenchArgs(['--activities', 'many'])).toThrow(/--activities needs an integer/);
    expect(() => parseBenchArgs(['--salesforce', 'soap'])).toThrow(/--salesforce must be/);
    expect(() => parseBenchArgs(['--lead-cache', 'maybe'])).toThrow(/--lead-cache must be/);
    expect(() => parseBenchArgs(['--short-pages', '2'])).toThrow(/--short-pages needs a share/);
    expect(() => parseBenchArgs(['--seed'])).toThrow(/--seed needs a value/);
  });

  it('runs the bundle part alone with --only bundles, and refuses any other part or --no-bundles with it', () => {
    expect(parseBenchArgs(['--only', 'bundles'])).toMatchObject({ only: 'bundles', bundles: true });
    expect(parseBenchArgs([]).only).toBeUndefined();
    expect(() => parseBenchArgs(['--only', 'pipeline'])).toThrow(/--only takes bundles/);
    expect(() => parseBenchArgs(['--only=bundles', '--no-bundles'])).toThrow(/contradict/);
  });

  it('turns a preset into validated settings', () => {
    const defaults = settingsFor({ salesforce: 'default', leadCache: true });
    expect(defaults.salesforce.bulkThreshold).toBe(2000);
    expect(defaults.activities.leadCacheTtlSeconds).toBe(3600);

    const s = settingsFor({
      salesforce: 'collections',
      leadCache: false,
      backfillWindows: 1,
      callsPer20s: 80,
    });
    expect(s.salesforce.bulkThreshold).toBe(1_000_000_000);
    expect(s.activities.leadCacheTtlSeconds).toBe(0);
    expect(s.activities.backfillWindows).toBe(1);
    expect(s.marketo.callsPer20s).toBe(80);
    expect(settingsFor({ salesforce: 'bulk', leadCache: true }).salesforce.bulkThreshold).toBe(1);
    expect(() => settingsFor({ salesforce: 'default', leadCache: true, callsPer20s: 101 })).toThrow(
      /marketo.callsPer20s/,
    );
  });

  it('compares the default against one change at a time', () => {
    const names = comparePresets({ salesforce: 'default', leadCache: true }).map((p) => presetName(p.preset));
    expect(names).toEqual([
      'default',
      'windows-1',
      'collections',
      'bulk',
      'lead-cache-off',
      'backfill-export',
    ]);
  });

  it('names a run by its preset, and by the sandbox paging when that is not the default', () => {
    const base = { salesforce: 'default' as const, leadCache: true };
    expect(runName(base, { shortPages: 0.1, emptyPages: 0.05 })).toBe('default');
    expect(runName(base, { shortPages: 0, emptyPages: 0 })).toBe('pages-short-0-empty-0');
    expect(runName({ ...base, salesforce: 'bulk' }, { shortPages: 0, emptyPages: 0.05 })).toBe(
      'bulk+pages-short-0-empty-0.05',
    );
  });

  it('labels sizes for file names', () => {
    expect(sizeLabel(100_000)).toBe('100k');
    expect(sizeLabel(2_500)).toBe('2.5k');
    expect(sizeLabel(750)).toBe('750');
  });
});
