import type { ActivityTypeSetting } from '../config/settings.js';
import type { Activity } from './activity.js';
import type { TaskRecord } from './salesforce-records.js';

/** Salesforce field limits (Task): longer values are cut, never rejected. */
export const SUBJECT_MAX = 255;
export const DESCRIPTION_MAX = 32_000;

const TOKEN = /\{(primaryAttributeValue|activityTypeName|activityDate|attributes|attr:[^}]+)\}/g;

export interface TemplateContext {
  activity: Pick<Activity, 'primaryAttributeValue' | 'activityDate' | 'attributes'>;
  activityTypeName: string;
}

function attributeText(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Renders a subject / field template. Unknown attributes render empty; text outside tokens is kept. */
export function renderTemplate(template: string, ctx: TemplateContext): string {
  return template.replace(TOKEN, (_m, token: string) => {
    if (token === 'primaryAttributeValue') return ctx.activity.primaryAttributeValue ?? '';
    if (token === 'activityTypeName') return ctx.activityTypeName;
    if (token === 'activityDate') return ctx.activity.activityDate;
    if (token === 'attributes') {
      return (ctx.activity.attributes ?? []).map((a) => `${a.name}: ${attributeText(a.value)}`).join('\n');
    }
    const name = token.slice('attr:'.length);
    return attributeText(ctx.activity.attributes?.find((a) => a.name === name)?.value);
  });
}

function truncate(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}

/** `ActivityDate` is a date: the activity's calendar day in `timeZone` (the org's; default UTC). */
export function activityDay(activityDate: string, timeZone = 'UTC'): string {
  const d = new Date(activityDate);
  if (Number.isNaN(d.getTime())) throw new RangeError(`activityDate "${activityDate}" is not a date`);
  if (timeZone === 'UTC') return d.toISOString().slice(0, 10);
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(d);
}

/**
 * One Marketo activity → one completed Salesforce Task on `whoId`, carrying the activity's
 * marketoGUID in the External ID field so every write is an idempotent upsert.
 */
export function mapActivityToTask(input: {
  activity: Activity;
  activityTypeName: string;
  setting: ActivityTypeSetting;
  whoId: string;
  externalIdField: string;
  /** Zone of ActivityDate's calendar day (the org's); default UTC. */
  timeZone?: string;
}): TaskRecord {
  const { activity, setting } = input;
  const ctx: TemplateContext = { activity, activityTypeName: input.activityTypeName };
  const task: TaskRecord = {
    WhoId: input.whoId,
    Subject: truncate(renderTemplate(setting.subjectTemplate, ctx), SUBJECT_MAX),
    Status: 'Completed',
    Priority: setting.priority,
    ActivityDate: activityDay(activity.activityDate, input.timeZone),
    Type: setting.taskType,
    TaskSubtype: setting.taskSubtype,
  };
  for (const [field, template] of Object.entries(setting.fieldMapping)) {
    const value = renderTemplate(template, ctx);
    task[field] = field === 'Description' ? truncate(value, DESCRIPTION_MAX) : truncate(value, SUBJECT_MAX);
  }
  task[input.externalIdField] = activity.marketoGUID;
  return task;
}
