import { describe, expect, it } from 'vitest';
import { activityTypeSettingSchema } from '../../../shared/config/settings.js';
import type { Activity } from '../../../shared/domain/activity.js';
import { activityDay, mapActivityToTask, renderTemplate } from '../../../shared/domain/task-mapping.js';

const activity: Activity = {
  id: 1,
  marketoGUID: 'a1b2-c3',
  leadId: 42,
  activityDate: '2026-11-20T23:59:30Z',
  activityTypeId: 10,
  primaryAttributeValue: '2026-11 Newsletter.Email',
  attributes: [
    { name: 'Device', value: 'iPhone' },
    { name: 'Is Mobile Device', value: true },
  ],
};

describe('mapActivityToTask', () => {
  it('builds a completed Task on the WhoId carrying the marketoGUID in the External ID field', () => {
    const setting = activityTypeSettingSchema.parse({
      name: 'Open Email',
      subjectTemplate: 'Opened Email: {primaryAttributeValue}',
      taskType: 'Email',
      taskSubtype: 'Email',
      fieldMapping: { Description: '{attributes}', Device__c: '{attr:Device}' },
    });

    const task = mapActivityToTask({
      activity,
      activityTypeName: 'Open Email',
      setting,
      whoId: '00Q000000000001AAA',
      externalIdField: 'Marketo_Activity_Id__c',
    });

    expect(task).toEqual({
      WhoId: '00Q000000000001AAA',
      Subject: 'Opened Email: 2026-11 Newsletter.Email',
      Status: 'Completed',
      Priority: 'Normal',
      ActivityDate: '2026-11-20',
      Type: 'Email',
      TaskSubtype: 'Email',
      Description: 'Device: iPhone\nIs Mobile Device: true',
      Device__c: 'iPhone',
      Marketo_Activity_Id__c: 'a1b2-c3',
    });
  });

  it('cuts the subject to 255 characters instead of letting Salesforce refuse the Task', () => {
    const setting = activityTypeSettingSchema.parse({
      name: 'Fill Out Form',
      subjectTemplate: 'Submitted: {primaryAttributeValue}',
    });

    const task = mapActivityToTask({
      activity: { ...activity, primaryAttributeValue: 'x'.repeat(400) },
      activityTypeName: 'Fill Out Form',
      setting,
      whoId: '003000000000001AAA',
      externalIdField: 'Marketo_Activity_Id__c',
    });

    expect(task.Subject).toHaveLength(255);
    expect(task.Subject.endsWith('…')).toBe(true);
  });
});

describe('renderTemplate', () => {
  it('renders unknown attributes and missing values as empty, keeping literal text', () => {
    expect(
      renderTemplate('{activityTypeName} [{attr:Nope}] {primaryAttributeValue}', {
        activity: { activityDate: '2026-01-01T00:00:00Z' },
        activityTypeName: 'Add to List',
      }),
    ).toBe('Add to List [] ');
  });
});

describe('activityDay', () => {
  it('is the calendar day in the org’s time zone, not the UTC day', () => {
    // 2026-11-23T03:30Z is still the 22nd in Los Angeles and already the 23rd in Tokyo.
    expect(activityDay('2026-11-23T03:30:00Z', 'America/Los_Angeles')).toBe('2026-11-22');
    expect(activityDay('2026-11-23T03:30:00Z', 'Asia/Tokyo')).toBe('2026-11-23');
    expect(activityDay('2026-11-22T20:00:00Z', 'Asia/Tokyo')).toBe('2026-11-23');
    expect(activityDay('2026-11-22T20:00:00Z')).toBe('2026-11-22');
  });
});
