import { describe, expect, it } from 'vitest';
import { formatTable, humanLines } from '../../cli/print.js';
import { formatProgress, type ProgressSample } from '../../cli/progress.js';

describe('human output', () => {
  it('renders a summary as an aligned table of dotted keys, lists of records as tables', () => {
    const lines = humanLines({
      command: 'activities',
      read: 2000,
      calls: { marketo: 25, salesforce: 21 },
      typesMissing: [],
      streams: [
        { streamKey: '2,6,7', status: 'started', windows: 7 },
        { streamKey: '45', status: 'started', windows: 1 },
      ],
    });

    expect(lines).toEqual([
      'command           activities',
      'read              2000',
      'calls.marketo     25',
      'calls.salesforce  21',
      'typesMissing      –',
      '',
      'streams:',
      'streamKey  status   windows',
      '---------  -------  -------',
      '2,6,7      started        7',
      '45         started        1',
    ]);
  });

  it('right-aligns numeric columns only', () => {
    expect(
      formatTable(
        ['a', 'n'],
        [
          ['x', 1],
          ['yy', 100],
        ],
      ),
    ).toEqual(['a     n', '--  ---', 'x     1', 'yy  100']);
  });

  it('progress: streams, pages, read, Tasks, rate, ETA and the Marketo budget of the last 20 s', () => {
    const at = (s: number, p: Partial<ProgressSample>): ProgressSample => ({
      atMs: s * 1000,
      streamsStarted: 2,
      streamsDone: 0,
      pages: 0,
      read: 0,
      processed: 0,
      written: 0,
      marketoCalls: 0,
      ...p,
    });
    const line = formatProgress(
      [
        at(0, {}),
        at(10, { marketoCalls: 10 }),
        at(40, { streamsDone: 2, pages: 10, read: 2000, processed: 1600, written: 1500, marketoCalls: 35 }),
      ],
      50,
    );

    expect(line).toBe(
      '40s  streams 2/2  pages 10  read 2000  Tasks 1500  40/s  ETA 10s  Marketo 50 % of 50/20s',
    );
  });
});
