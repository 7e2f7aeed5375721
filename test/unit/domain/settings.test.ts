import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SETTINGS_INPUT,
  InvalidSettingsError,
  loadSettings,
  parseSettings,
} from '../../../shared/config/settings.js';

function withType(patch: Record<string, unknown>) {
  const base = structuredClone(DEFAULT_SETTINGS_INPUT) as {
    activities: { types: Record<string, unknown>[] };
  };
  base.activities.types[0] = { ...base.activities.types[0], ...patch };
  return base;
}

describe('settings', () => {
  it('applies the SPEC defaults: 90-day look-back, nightly 20:00 Los Angeles, 50 calls / 20 s, HasOptedOutOfEmail', () => {
    const s = loadSettings(undefined, undefined);

    expect(s.activities.lookbackDays).toBe(90);
    expect(s.activities.schedule).toEqual({
      enabled: true,
      cron: 'cron(0 20 * * ? *)',
      timeZone: 'America/Los_Angeles',
    });
    expect(s.marketo).toEqual({ callsPer20s: 50, maxConcurrent: 5, batchSize: 300, dailyQuota: 50_000 });
    expect(s.optOuts.salesforceField).toBe('HasOptedOutOfEmail');
    expect(s.optOuts.resubscribeSources).toEqual([]);
    expect(s.salesforce.taskExternalIdField).toBe('Marketo_Activity_Id__c');
    expect(s.activities.types.map((t) => t.name)).toEqual([
      'Fill Out Form',
      'Send Email',
      'Email Delivered',
      'Open Email',
      'Click Email',
      'Add to List',
      'Remove from List',
      'Remove from Flow',
      'Send Sales Email',
      'Open Sales Email',
      'Click Sales Email',
      'Receive Sales Email',
    ]);
    // Type 45 is standard on every instance: published name, documented id, not optional.
    expect(s.activities.types.find((t) => t.id === 45)).toMatchObject({
      name: 'Receive Sales Email',
      optional: false,
    });
  });

  it.each([
    [{ subjectTemplate: '' }, 'activities.types.0.subjectTemplate'],
    [{ taskSubtype: 'Meeting' }, 'activities.types.0.taskSubtype'],
    [{ fieldMapping: { 'bad field': 'x' } }, 'activities.types.0.fieldMapping.bad field'],
    [{ colour: 'blue' }, 'activities.types.0'],
  ])('refuses %j naming %s', (patch, path) => {
    expect(() => parseSettings(withType(patch))).toThrowError(new RegExp(path.replace(/\./g, '\\.')));
  });

  it('refuses a budget above the Marketo instance limit, naming marketo.callsPer20s', () => {
    const input = { ...DEFAULT_SETTINGS_INPUT, marketo: { callsPer20s: 150 } };

    expect(() => parseSettings(input)).toThrowError(/marketo\.callsPer20s/);
  });

  it('refuses an unknown time zone and a non-EventBridge cron, naming each', () => {
    const input = {
      ...DEFAULT_SETTINGS_INPUT,
      optOuts: { schedule: { cron: '0 20 * * *', timeZone: 'Pacific/Nowhere' } },
    };

    const err = (() => {
      try {
        parseSettings(input);
      } catch (e) {
        return e as InvalidSettingsError;
      }
      throw new Error('expected a refusal');
    })();
    expect(err).toBeInstanceOf(InvalidSettingsError);
    expect(err.issues.join('\n')).toMatch(/optOuts\.schedule\.cron/);
    expect(err.issues.join('\n')).toMatch(/optOuts\.schedule\.timeZone/);
  });

  it('refuses duplicate activity types', () => {
    const input = withType({ name: 'Send Email' });

    expect(() => parseSettings(input)).toThrowError(
      /activities\.types\.1\.name: duplicate activity type "Send Email"/,
    );
  });

  it('reads SYNC_SETTINGS files and names the file when it is not JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'settings-'));
    const good = join(dir, 'good.json');
    const bad = join(dir, 'bad.json');
    writeFileSync(
      good,
      JSON.stringify({
        ...DEFAULT_SETTINGS_INPUT,
        activities: { ...DEFAULT_SETTINGS_INPUT.activities, lookbackDays: 30 },
      }),
    );
    writeFileSync(bad, '{ nope');

    expect(loadSettings(good, undefined).activities.lookbackDays).toBe(30);
    expect(() => loadSettings(bad, undefined)).toThrowError(/SYNC_SETTINGS=.*bad\.json: not valid JSON/);
  });

  describe('a partial document is merged over the defaults', () => {
    const defaults = parseSettings(DEFAULT_SETTINGS_INPUT);

    it('an empty document is the built-in defaults (each default is written once, in the schema)', () => {
      expect(parseSettings({})).toEqual(defaults);
    });

    it('accepts {"marketo":{"callsPer20s":40}} alone: that one value changes, every other is the default', () => {
      const s = parseSettings({ marketo: { callsPer20s: 40 } });

      expect(s.marketo).toEqual({ ...defaults.marketo, callsPer20s: 40 });
      expect({ ...s, marketo: defaults.marketo }).toEqual(defaults);
    });

    it('fills a nested section from its field defaults (a schedule naming only its cron)', () => {
      const s = parseSettings({ optOuts: { schedule: { cron: 'cron(0 3 * * ? *)' } } });

      expect(s.optOuts.schedule).toEqual({
        enabled: true,
        cron: 'cron(0 3 * * ? *)',
        timeZone: 'America/Los_Angeles',
      });
      expect(s.salesActivities.activityType).toEqual({
        apiName: 'mktosfsync_salesActivity',
        name: 'Salesforce Sales Activity',
      });
    });

    it('a type listed by name inherits its default template, mapping and other settings; the list is the types synced', () => {
      const s = parseSettings({
        activities: {
          types: [
            { name: 'send email' },
            {
              name: 'Open Email',
              subjectTemplate: 'Opened {primaryAttributeValue}',
              fieldMapping: { Status: 'Completed' },
            },
          ],
        },
      });
      const byName = (n: string) => defaults.activities.types.find((t) => t.name === n);

      expect(s.activities.types).toEqual([
        { ...byName('Send Email'), name: 'send email' },
        {
          ...byName('Open Email'),
          subjectTemplate: 'Opened {primaryAttributeValue}',
          fieldMapping: { ...byName('Open Email')?.fieldMapping, Status: 'Completed' },
        },
      ]);
      expect(s.activities.types[0]).toMatchObject({ id: 6, taskType: 'Email', taskSubtype: 'Email' });
    });

    it('a standard type outside the defaults gets the generic template; a custom type is accepted by name', () => {
      const s = parseSettings({
        activities: { types: [{ name: 'Interesting Moment' }, { name: 'Attended Webinar' }] },
      });

      expect(s.activities.types.map((t) => [t.name, t.subjectTemplate, t.taskType])).toEqual([
        ['Interesting Moment', '{activityTypeName}: {primaryAttributeValue}', 'Other'],
        ['Attended Webinar', '{activityTypeName}: {primaryAttributeValue}', 'Other'],
      ]);
    });

    it.each([
      ['Received Sales Email', 'Receive Sales Email'],
      ['Fil Out Form', 'Fill Out Form'],
      ['Open Emails', 'Open Email'],
      ['Visit Web Page', 'Visit Webpage'],
    ])('refuses the misspelt type "%s", naming it and the closest known name "%s"', (typo, closest) => {
      expect(() =>
        parseSettings({ activities: { types: [{ name: 'Send Email' }, { name: typo }] } }),
      ).toThrowError(`activities.types.1.name: unknown activity type "${typo}"; did you mean "${closest}"?`);
    });

    it('accepts a name close to a known one when its id is pinned (a custom type really named so)', () => {
      const s = parseSettings({ activities: { types: [{ name: 'Open Emails', id: 100_010 }] } });

      expect(s.activities.types[0]).toMatchObject({ name: 'Open Emails', id: 100_010 });
    });

    it.each([
      [{ marketo: { callsPer20: 40 } }, /marketo: Unrecognized key: "callsPer20"/],
      [{ activites: { lookbackDays: 3 } }, /\(root\): Unrecognized key: "activites"/],
      [
        { activities: { types: [{ name: 'Send Email', colour: 'blue' }] } },
        /activities\.types\.0: Unrecognized key: "colour"/,
      ],
    ])('refuses unknown keys, naming them: %j', (input, message) => {
      expect(() => parseSettings(input)).toThrowError(message);
    });
  });
});
