import { describe, expect, it } from 'vitest';
import { parseBenchArgs, presetName, settingsFor } from '../../../bench/bench-options.js';
import { evaluateTargets } from '../../../bench/figures.js';

const base = {
  readRatePctOfCeiling: 95,
  marketoRatioToFloor: 1,
  rejected606: 0,
  rejected615: 0,
  costPerMillion: 0.5,
};

describe('bench --backfill-export', () => {
  it('sets the back-fill to bulk export jobs and names the run after it', () => {
    const o = parseBenchArgs(['--backfill-export', '--activities', '50000']);
    expect(o.preset.backfillExport).toBe(true);
    expect(presetName(o.preset)).toBe('backfill-export');
    expect(settingsFor(o.preset).activities.backfill).toMatchObject({ exportAbove: 1, pollSeconds: 1 });
    expect(settingsFor(parseBenchArgs([]).preset).activities.backfill.exportAbove).toBe(100_000);
  });

  it('evaluates Marketo calls per 1M activities against 500 only for an export back-fill', () => {
    const within = evaluateTargets({ ...base, exportMarketoCallsPerMillion: 480 });
    const over = evaluateTargets({ ...base, exportMarketoCallsPerMillion: 501 });
    const figure = 'Marketo calls / 1M activities (back-fill by export)';
    expect(within.find((t) => t.figure === figure)).toMatchObject({ met: true, target: '≤ 500' });
    expect(over.find((t) => t.figure === figure)?.met).toBe(false);
    expect(evaluateTargets(base).some((t) => t.figure === figure)).toBe(false);
  });
});
