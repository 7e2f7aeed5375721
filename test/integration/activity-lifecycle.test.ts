import { afterEach, describe, expect, it } from 'vitest';
import type { SettingsInput } from '../../shared/config/settings.js';
import { type Embedded, startEmbedded } from '../helpers/embedded.js';

let e: Embedded | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

/** Tasks in the Salesforce sandbox for one Marketo activity. */
const tasksFor = (e: Embedded, guid: string) =>
  [...e.local.salesforceSandbox!.state.tasks.values()].filter((t) => t.Marketo_Activity_Id__c === guid);

const liveSalesforceLeads = (e: Embedded) =>
  e.world.leads.filter((l) => l.sfdcType === 'Lead' && l.sfdcLeadId && !e!.world.deletedLeadIds.has(l.id));

describe('activity lifecycle on the embedded default', () => {
  it.each([
    ['collections', (i: SettingsInput) => i],
    [
      'Bulk API 2.0',
      (i: SettingsInput) => ({ ...i, salesforce: { ...i.salesforce, bulkThreshold: 5 } }) as SettingsInput,
    ],
  ])(
    'writes a converted Lead’s new Tasks on its Contact, whether Marketo is stale or updated, and leaves the earlier Tasks alone (%s)',
    async (_via, settings) => {
      e = await startEmbedded({ world: { activities: 600 }, settings });
      await e.runCycle();
      const [stale, updated] = liveSalesforceLeads(e).filter((l) =>
        [...e!.local.salesforceSandbox!.state.tasks.values()].some((t) => t.WhoId === l.sfdcLeadId),
      );
      const sf = e.local.salesforceSandbox!.state;
      const earlier = [...sf.tasks.values()].filter((t) => t.WhoId === stale!.sfdcLeadId).map((t) => t.Id);
      const staleContact = sf.convertLead(stale!.sfdcLeadId!);
      const updatedContact = sf.convertLead(updated!.sfdcLeadId!);
      // Marketo's CRM sync caught up with one conversion only.
      Object.assign(e.world.lead(updated!.id)!, { sfdcType: 'Contact', sfdcContactId: updatedContact });
      const now = Date.now();
      const add = (leadId: number, n: number) =>
        e!.world.addActivity({
          leadId,
          activityDate: new Date(now - n * 1000).toISOString(),
          activityTypeId: 2,
          primaryAttributeValue: `Form ${n}`,
        });
      const fresh = [add(stale!.id, 1), add(stale!.id, 2), add(updated!.id, 3)];
      const writesBefore = sf.writeLog.length;

      const second = await e.runCycle();

      expect(second.failed).toBe(0);
      expect(fresh.map((a) => tasksFor(e!, a.marketoGUID).map((t) => t.WhoId))).toEqual([
        [staleContact],
        [staleContact],
        [updatedContact],
      ]);
      // Nothing we wrote before the conversion was written again (Salesforce moves those itself).
      const rewritten = new Set(sf.writeLog.slice(writesBefore).map((w) => w.id));
      expect(earlier.length).toBeGreaterThan(0);
      expect(earlier.filter((id) => rewritten.has(id))).toEqual([]);
    },
  );
});
