import { afterEach, describe, expect, it } from 'vitest';
import { type Embedded, startEmbedded, taskCountsByActivity } from '../helpers/embedded.js';

let e: Embedded | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

describe('sync activities --since (replay) on the embedded default', () => {
  it('re-reads the window and writes no duplicate, re-creating nothing already written', async () => {
    e = await startEmbedded({ world: { activities: 1_200 } });
    const first = await e.runCycle();
    expect(first.created).toBeGreaterThan(0);
    const before = taskCountsByActivity(e);
    const writesBefore = e.local.salesforceSandbox?.state.writeLog.filter(
      (w) => w.operation === 'create',
    ).length;

    const since = new Date(Date.now() - 90 * 86_400_000);
    const replay = await e.runCycle({ replay: { since } });

    expect(replay.status).toBe('completed');
    expect(replay.read).toBe(first.read);
    expect(replay.created).toBe(0);
    expect(taskCountsByActivity(e)).toEqual(before);
    expect([...before.values()].every((n) => n === 1)).toBe(true);
    expect(e.local.salesforceSandbox?.state.writeLog.filter((w) => w.operation === 'create').length).toBe(
      writesBefore,
    );
  }, 300_000);

  it('--types reads only the named types, from --since', async () => {
    e = await startEmbedded({ world: { activities: 1_200 } });
    await e.runCycle();
    const since = new Date(Date.now() - 30 * 86_400_000);

    const replay = await e.runCycle({ replay: { since, types: ['open email'] } });

    expect(replay.streams.map((s) => [s.streamKey, s.from])).toEqual([['10', since.toISOString()]]);
    expect(replay.read).toBe(
      e.world.activities.filter(
        (a) => a.activityTypeId === 10 && Date.parse(a.activityDate) >= since.getTime(),
      ).length,
    );
    expect(replay.created).toBe(0);
    await expect(e.runCycle({ replay: { since, types: ['Opne Email'] } })).rejects.toThrowError(
      /--types must name enabled activity types .*unknown: "opne email"/,
    );
  }, 300_000);
});
