import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alignPeople } from '../../../shared/optouts/align-people.js';
import { reconcileOptOuts } from '../../../shared/optouts/reconcile.js';
import { type Harness, startHarness, uniqueEmail } from './harness.js';

describe('alignment re-checks the decision before writing (issue 11 item 3)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ people: 20 });
    await reconcileOptOuts(h.deps);
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('drops a planned write when the stored decision changed between the plan and the write', async () => {
    // Prepare: the person's Contact says opted out, so aligning plans "opt out" for the Marketo lead…
    const email = uniqueEmail('recheck');
    const p = h.person({ email, sfContacts: [email] });
    h.setSalesforceOptOut('Contact', p.sfContactIds[0]!, true);
    const store = h.deps.store;
    let flipped = 0;
    // …and meanwhile (after the plan is stored, before the write) the decision moves back to subscribed.
    const racing = Object.assign(Object.create(store) as typeof store, {
      getMany: async (keys: readonly string[]) => {
        const key = email.toLowerCase();
        if (keys.includes(key) && flipped++ === 0) {
          await store.update(key, (s) => ({ state: { ...s, optedOut: false }, history: [] }));
        }
        return store.getMany(keys);
      },
    });

    // Act
    const result = await alignPeople({ ...h.deps, store: racing }, [email.toLowerCase()], {
      cause: 'test:recheck',
    });

    // Assess: nothing written to Marketo on the stale plan.
    expect(flipped).toBeGreaterThanOrEqual(1);
    expect(result.superseded).toBe(1);
    expect(result.written.marketo).toBe(0);
    expect(h.world.lead(p.leads[0]!.id)?.unsubscribed).not.toBe(true);
  });
});
