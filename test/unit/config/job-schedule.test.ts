import { describe, expect, it } from 'vitest';
import { compileJobSchedule, jobScheduleSchema } from '../../../shared/config/job-schedule.js';
import {
  DEFAULT_SETTINGS_INPUT,
  InvalidSettingsError,
  parseSettings,
} from '../../../shared/config/settings.js';

const parse = (input: unknown) => jobScheduleSchema.parse(input);

describe('compileJobSchedule', () => {
  it('daily: a 6-field cron at the local time, the zone passed on unchanged', () => {
    expect(compileJobSchedule(parse({ time: '21:05', timeZone: 'America/Los_Angeles' }))).toEqual({
      expression: 'cron(5 21 * * ? *)',
      timeZone: 'America/Los_Angeles',
      completesWithinDays: 1,
    });
  });

  it('weekly: day of week with ? in day-of-month', () => {
    expect(
      compileJobSchedule(
        parse({ frequency: 'weekly', dayOfWeek: 'SUN', time: '06:30', timeZone: 'Europe/Berlin' }),
      ),
    ).toEqual({ expression: 'cron(30 6 ? * SUN *)', timeZone: 'Europe/Berlin', completesWithinDays: 7 });
  });

  it('monthly: a day of the month, or L for the last day; no fixed completion window', () => {
    expect(
      compileJobSchedule(
        parse({ frequency: 'monthly', dayOfMonth: 15, time: '00:00', timeZone: 'Asia/Tokyo' }),
      ),
    ).toEqual({ expression: 'cron(0 0 15 * ? *)', timeZone: 'Asia/Tokyo' });
    expect(
      compileJobSchedule(parse({ frequency: 'monthly', dayOfMonth: 'last', time: '23:59', timeZone: 'UTC' }))
        .expression,
    ).toBe('cron(59 23 L * ? *)');
  });

  it('once: a one-time at() in local time', () => {
    expect(
      compileJobSchedule(
        parse({ frequency: 'once', date: '2027-03-14', time: '02:30', timeZone: 'America/New_York' }),
      ),
    ).toEqual({ expression: 'at(2027-03-14T02:30:00)', timeZone: 'America/New_York' });
  });

  it('DST: the same local time in summer and in winter (never converted to UTC by us)', () => {
    // 2027-03-28 is the EU switch to summer time; 2027-10-31 back. Local 21:00 either side.
    const summer = compileJobSchedule(
      parse({ frequency: 'once', date: '2027-07-01', time: '21:00', timeZone: 'Europe/Berlin' }),
    );
    const winter = compileJobSchedule(
      parse({ frequency: 'once', date: '2027-12-01', time: '21:00', timeZone: 'Europe/Berlin' }),
    );
    expect(summer.expression).toBe('at(2027-07-01T21:00:00)');
    expect(winter.expression).toBe('at(2027-12-01T21:00:00)');
    expect([summer.timeZone, winter.timeZone]).toEqual(['Europe/Berlin', 'Europe/Berlin']);
  });
});

describe('job schedule settings', () => {
  const withSchedule = (section: 'salesActivities' | 'campaigns', schedule: unknown) =>
    parseSettings({ ...DEFAULT_SETTINGS_INPUT, [section]: { schedule } });

  it('defaults: both jobs daily, tasks at 21:00 and campaigns at 22:00 Los Angeles time', () => {
    const s = parseSettings(DEFAULT_SETTINGS_INPUT);
    expect(compileJobSchedule(s.salesActivities.schedule).expression).toBe('cron(0 21 * * ? *)');
    expect(compileJobSchedule(s.campaigns.schedule).expression).toBe('cron(0 22 * * ? *)');
    expect(s.campaigns.schedule.timeZone).toBe('America/Los_Angeles');
    expect(s.salesActivities.schedule.enabled).toBe(true);
  });

  it.each([
    [{ time: '25:00', timeZone: 'UTC' }, 'salesActivities.schedule.time'],
    [{ time: '21:00', timeZone: 'Mars/Olympus' }, 'salesActivities.schedule.timeZone'],
    [{ frequency: 'weekly', time: '21:00', timeZone: 'UTC' }, 'salesActivities.schedule.dayOfWeek'],
    [
      { frequency: 'monthly', dayOfMonth: 31, time: '21:00', timeZone: 'UTC' },
      'salesActivities.schedule.dayOfMonth',
    ],
    [{ frequency: 'once', time: '21:00', timeZone: 'UTC' }, 'salesActivities.schedule.date'],
    [
      { frequency: 'daily', date: '2027-01-01', time: '21:00', timeZone: 'UTC' },
      'salesActivities.schedule.date',
    ],
    [{ frequency: 'hourly', time: '21:00', timeZone: 'UTC' }, 'salesActivities.schedule.frequency'],
  ])('refuses %j naming %s', (schedule, path) => {
    expect(() => withSchedule('salesActivities', schedule)).toThrow(InvalidSettingsError);
    expect(() => withSchedule('salesActivities', schedule)).toThrow(`${path}:`);
  });

  it('names the campaigns schedule too', () => {
    expect(() =>
      withSchedule('campaigns', { frequency: 'weekly', dayOfWeek: 'FRI', time: '7:00', timeZone: 'UTC' }),
    ).toThrow('campaigns.schedule.time:');
  });
});
