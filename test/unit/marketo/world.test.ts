import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createWorld, DEFAULT_WORLD_NOW, salesforceId, World } from '../../../sandboxes/world.js';

const digest = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');
const DAY = 86_400_000;

describe('world generator', () => {
  const world = createWorld(); // defaults: 3000 people, 30,000 activities, 90 days

  it('is deterministic for a seed and differs across seeds', () => {
    const a = createWorld({ seed: 5, people: 300, activities: 2000 });
    const b = createWorld({ seed: 5, people: 300, activities: 2000 });
    const c = createWorld({ seed: 6, people: 300, activities: 2000 });

    expect(digest([a.leads, a.activities, a.salesforce])).toBe(digest([b.leads, b.activities, b.salesforce]));
    expect(digest(a.activities)).not.toBe(digest(c.activities));
  });

  it('links ~70% of people to a Salesforce Lead, ~20% to a Contact and leaves ~10% unlinked', () => {
    const n = world.leads.length;
    const share = (t: string | null) => world.leads.filter((l) => l.sfdcType === t).length / n;

    expect(n).toBe(3000);
    expect(share('Lead')).toBeGreaterThan(0.66);
    expect(share('Lead')).toBeLessThan(0.74);
    expect(share('Contact')).toBeGreaterThan(0.17);
    expect(share('Contact')).toBeLessThan(0.23);
    expect(share(null)).toBeGreaterThan(0.07);
    expect(share(null)).toBeLessThan(0.13);
    for (const l of world.leads) {
      if (l.sfdcType === 'Lead') expect(l.sfdcLeadId).toMatch(/^00Q[0-9A-Za-z]{15}$/);
      if (l.sfdcType === 'Contact') {
        expect(l.sfdcContactId).toMatch(/^003[0-9A-Za-z]{15}$/);
        expect(l.sfdcAccountId).toMatch(/^001[0-9A-Za-z]{15}$/);
      }
    }
  });

  it('exports the Salesforce side in the agreed seed shape, one record per linked lead', () => {
    const leadIds = new Set(world.leads.flatMap((l) => (l.sfdcLeadId ? [l.sfdcLeadId] : [])));
    const contactIds = new Set(world.leads.flatMap((l) => (l.sfdcContactId ? [l.sfdcContactId] : [])));

    expect(new Set(world.salesforce.leads.map((l) => l.Id))).toEqual(leadIds);
    expect(new Set(world.salesforce.contacts.map((c) => c.Id))).toEqual(contactIds);
    expect(Object.keys(world.salesforce.leads[0]!).sort()).toEqual(
      ['Company', 'CreatedDate', 'Email', 'FirstName', 'HasOptedOutOfEmail', 'Id', 'LastName'].sort(),
    );
    expect(Object.keys(world.salesforce.contacts[0]!).sort()).toEqual(
      ['AccountId', 'CreatedDate', 'Email', 'FirstName', 'HasOptedOutOfEmail', 'Id', 'LastName'].sort(),
    );
  });

  it('has realistic email quirks: example domains, mixed case, padding, shared addresses, ~3% unsubscribed', () => {
    const emails = world.leads.map((l) => l.email);
    const normalised = emails.map((e) => e.trim().toLowerCase());

    expect(normalised.every((e) => /@example\.(com|org|net)$/.test(e))).toBe(true);
    expect(emails.some((e) => e !== e.trim())).toBe(true);
    expect(emails.some((e) => /[A-Z]/.test(e))).toBe(true);
    expect(new Set(normalised).size).toBeLessThan(normalised.length);
    const unsubscribed = world.leads.filter((l) => l.unsubscribed).length / world.leads.length;
    expect(unsubscribed).toBeGreaterThan(0.015);
    expect(unsubscribed).toBeLessThan(0.05);
  });

  it('generates ~30,000 activities over 90 days across the expected types, unique by marketoGUID only', () => {
    const generated = world.activities.filter((a) => a.activityTypeId !== 13);
    const types = new Set(generated.map((a) => a.activityTypeId));
    const guids = new Set(world.activities.map((a) => a.marketoGUID));
    const ids = world.activities.flatMap((a) => (a.id === undefined ? [] : [a.id]));

    expect(generated).toHaveLength(30_000);
    expect([...types].sort((a, b) => a - b)).toEqual([
      1, 2, 6, 7, 10, 11, 22, 24, 25, 39, 40, 41, 45, 100001,
    ]);
    expect(guids.size).toBe(world.activities.length);
    expect(new Set(ids).size).toBeLessThan(ids.length);
    expect(ids.length).toBeLessThan(world.activities.length);
    expect(Math.min(...generated.map((a) => a.dateMs))).toBeGreaterThanOrEqual(DEFAULT_WORLD_NOW - 90 * DAY);
    const form = generated.find((a) => a.activityTypeId === 2)!;
    expect(form.attributes?.map((a) => a.name)).toEqual(
      expect.arrayContaining(['Client IP Address', 'Form Fields', 'Query Parameters', 'Referrer URL']),
    );
    // The form's id is the primary attribute (Webform ID), not an attribute, as in the published definition.
    expect(form.primaryAttributeValueId).toBeGreaterThan(0);
    const send = generated.find((a) => a.activityTypeId === 6)!;
    expect(send.attributes?.map((a) => a.name)).toEqual(['Campaign Run ID', 'Step ID', 'Choice Number']);
    expect(send.primaryAttributeValue).toMatch(/\..+/);
  });

  it('commits ~5% of Send Email 5 to 40 minutes late', () => {
    const sends = world.activities.filter((a) => a.activityTypeId === 6);
    const late = sends.filter((a) => a.visibleAtMs > a.dateMs);

    expect(late.length / sends.length).toBeGreaterThan(0.03);
    expect(late.length / sends.length).toBeLessThan(0.07);
    for (const a of late) {
      expect(a.visibleAtMs - a.dateMs).toBeGreaterThanOrEqual(5 * 60_000);
      expect(a.visibleAtMs - a.dateMs).toBeLessThanOrEqual(40 * 60_000);
    }
    expect(
      world.activities.filter((a) => a.activityTypeId !== 6).every((a) => a.visibleAtMs === a.dateMs),
    ).toBe(true);
  });

  it('appends new activities, records lead changes and deletions in the ordered stream', () => {
    const w = createWorld({ seed: 9, people: 50, activities: 100 });
    const lead = w.leads.find((l) => !l.unsubscribed)!;

    const added = w.appendActivities(10, { from: w.now, to: w.now + 60_000 });
    const [change] = w.recordLeadChange(lead.id, { unsubscribed: true, at: w.now + 1000 });
    const deleted = w.deleteLead(w.leads[1]!.id, w.now + 2000);

    expect(added).toHaveLength(10);
    expect(added.every((a) => a.dateMs >= w.now)).toBe(true);
    expect(change).toMatchObject({
      leadId: lead.id,
      activityTypeId: 13,
      fields: [{ name: 'unsubscribed', newValue: 'true', oldValue: 'false' }],
    });
    expect(w.lead(lead.id)?.unsubscribed).toBe(true);
    expect(deleted.activityTypeId).toBe(37);
    const keys = w.activities.map((a) => [a.dateMs, a.seq] as const);
    expect(
      keys.every(
        (k, i) => i === 0 || keys[i - 1]![0] < k[0] || (keys[i - 1]![0] === k[0] && keys[i - 1]![1] < k[1]),
      ),
    ).toBe(true);
  });

  it('makes 18-character Salesforce ids with the case-safe checksum suffix', () => {
    expect(salesforceId('00Q', 1)).toHaveLength(18);
    // The suffix encodes which of the 15 characters are upper case, 5 at a time.
    expect(salesforceId('00Q', 1).slice(15)).toBe('EAA');
  });

  it('generates and restores a benchmark-sized world (more activities than one call may spread)', () => {
    const big = createWorld({ seed: 3, people: 50, activities: 130_000 });
    const restored = World.fromSnapshot(big.toSnapshot());

    expect(big.activities.length).toBeGreaterThanOrEqual(130_000);
    expect(restored.activities.length).toBe(big.activities.length);
    expect(restored.activities.at(-1)).toEqual(big.activities.at(-1));
  });

  it('names its activity types as the published table does (ids and names, case included)', () => {
    // Adobe's list (AdobeDocs/adobe-io-events, marketo-lead-activity-data-stream-setup.md, "Event List").
    const published: Record<number, string> = {
      1: 'Visit Webpage',
      2: 'Fill Out Form',
      3: 'Click Link',
      6: 'Send Email',
      7: 'Email Delivered',
      8: 'Email Bounced',
      9: 'Unsubscribe Email',
      10: 'Open Email',
      11: 'Click Email',
      12: 'New Lead',
      13: 'Change Data Value',
      22: 'Change Score',
      24: 'Add To List',
      25: 'Remove from List',
      37: 'Delete Lead',
      39: 'Send Sales Email',
      40: 'Open Sales Email',
      41: 'Click Sales Email',
      45: 'Receive Sales Email',
      46: 'Interesting Moment',
    };
    const standard = world.activityTypes.filter((t) => t.id < 100_000);

    expect(Object.fromEntries(standard.map((t) => [t.id, t.name]))).toEqual(published);
    expect(world.activityTypes.filter((t) => t.id >= 100_000).map((t) => t.apiName)).toEqual([
      'attendedWebinar_c',
    ]);
    // "Remove from Flow" has no published id: the sandbox does not invent one.
    expect(world.activityTypes.some((t) => t.name.toLowerCase() === 'remove from flow')).toBe(false);
  });

  it('generates each type through its table entry, with the attributes its catalogue entry declares', () => {
    const w = createWorld({ seed: 11, people: 40, activities: 0 });
    for (const type of w.activityTypes.filter((t) => ![12, 13, 37].includes(t.id))) {
      const [a] = w.appendActivities(1, { typeIds: [type.id] });
      const declared = new Set(type.attributes.map((x) => x.name));
      const generated = (a?.attributes ?? []).map((x) => x.name);

      expect(a?.activityTypeId).toBe(type.id);
      expect(generated.filter((n) => !declared.has(n))).toEqual([]);
    }
  });
});
