import { afterEach, describe, expect, it } from 'vitest';
import type { SettingsInput } from '../../shared/config/settings.js';
import {
  type Embedded,
  expectedTasks,
  reconcile,
  startEmbedded,
  tasksByActivity,
} from '../helpers/embedded.js';

let e: Embedded | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

type TypesInput = { activities: { types: Record<string, unknown>[] } };

/** The defaults with type 45 under its published name, non-optional (as issue 10 asks of the defaults). */
const publishedDefaults = (input: SettingsInput): SettingsInput => {
  const out = input as unknown as TypesInput;
  for (const t of out.activities.types)
    if (String(t.name).toLowerCase().startsWith('receive'))
      Object.assign(t, { name: 'Receive Sales Email', optional: false });
  return out as unknown as SettingsInput;
};

describe('activity type catalogue on the embedded default', () => {
  it('yields every default type from a types.json with the published names, and reports only the type the instance lacks', async () => {
    e = await startEmbedded({ world: { activities: 1_500 }, settings: publishedDefaults });
    // types.json as Adobe publishes it: "Add To List" (capital T), 45 "Receive Sales Email".
    for (const t of e.world.activityTypes) {
      if (t.id === 24) t.name = 'Add To List';
      if (t.id === 45) t.name = 'Receive Sales Email';
    }

    const run = await e.runCycle();

    expect(run.typesMissing).toEqual(['Remove from Flow']);
    expect(run.catalogue.map((c) => [c.id, c.by])).toEqual(
      [2, 6, 7, 10, 11, 24, 25, 39, 40, 41, 45].map((id) => [id, 'standardId']),
    );
    const sales = [...e.local.salesforceSandbox!.state.tasks.values()].filter((t) =>
      String(t.Subject).startsWith('Sales Email Received'),
    );
    expect(sales.length).toBeGreaterThan(0);
    const expected = expectedTasks(e);
    expect(reconcile(expected, tasksByActivity(e))).toEqual({
      expected: expected.size,
      missing: 0,
      duplicates: 0,
      wrongWho: 0,
      unexpected: 0,
    });
  });

  it('refuses a missing non-optional type by name before anything runs', async () => {
    e = await startEmbedded({ world: { activities: 200 }, settings: publishedDefaults });
    e.world.activityTypes.splice(
      e.world.activityTypes.findIndex((t) => t.id === 45),
      1,
    );

    await expect(e.runCycle()).rejects.toThrow(
      /"Receive Sales Email"\): no activity type with its documented id 45/,
    );
    expect(e.local.salesforceSandbox!.state.tasks.size).toBe(0);
  });
});
