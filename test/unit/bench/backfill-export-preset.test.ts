import { describe, expect, it } from 'vitest';
import { parseBenchArgs, presetName, settingsFor } from '../../../bench/bench-options.js';
import { evaluateTargets, exportCallsAt } from '../../../bench/figures.js';

const base = {
  readRatePctOfBudgetBound: 95,
  marketoCallsPerPage: 1,
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
    // The other presets measure the REST paging path.
    expect(settingsFor(parseBenchArgs([]).preset).activities.backfill.exportAbove).toBe(
      Number.MAX_SAFE_INTEGER,
    );
  });

  it('evaluates Marketo calls per 1M activities against 500 only for an export back-fill', () => {
    const within = evaluateTargets({ ...base, exportMarketoCallsPerMillion: 480 });
    const over = evaluateTargets({ ...base, exportMarketoCallsPerMillion: 501 });
    const figure = 'Marketo calls / 1M activities (back-fill by export)';
    expect(within.find((t) => t.figure === figure)).toMatchObject({ met: true, target: '≤ 500' });
    expect(over.find((t) => t.figure === figure)?.met).toBe(false);
    expect(evaluateTargets(base).some((t) => t.figure === figure)).toBe(false);
    // The REST paging targets are not an export back-fill's.
    expect(within.map((t) => t.figure)).not.toContain('Marketo calls / pages');
    expect(evaluateTargets(base).map((t) => t.figure)).toContain('Marketo calls / pages');
  });

  it('extrapolates per-window calls as measured and file ranges and lead look-ups linearly', () => {
    const at = exportCallsAt(
      {
        'POST /bulk/v1/activities/export/create.json': 6,
        'POST /bulk/v1/activities/export/ab-12/enqueue.json': 6,
        'GET /bulk/v1/activities/export/ab-12/status.json': 6,
        'GET /bulk/v1/activities/export/ab-12/file.json': 7,
        'GET /rest/v1/activities.json': 2,
        'GET /rest/v1/activities/pagingtoken.json': 2,
        'GET /rest/v1/leads.json': 50,
      },
      50_000,
      1_000_000,
    );
    expect(at).toEqual({
      jobs: 18,
      ranges: 7,
      lookups: 50,
      fixed: 4,
      readSide: 18 + 4 + 140,
      total: 162 + 1000,
    });
  });
});
