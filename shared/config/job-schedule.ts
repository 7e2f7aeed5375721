import * as z from 'zod';

/**
 * A job's schedule as an operator states it (seed 004: frequency once / daily / weekly / monthly,
 * a day and a time), in an IANA zone. Compiled to an EventBridge Scheduler expression by
 * `compileJobSchedule`; the zone goes to Scheduler as the schedule's time zone, so 21:00 stays
 * 21:00 local across daylight-saving changes (we never convert to UTC).
 */

const WEEKDAYS = ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'] as const;

export function isIanaZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const jobScheduleSchema = z
  .object({
    enabled: z.boolean().default(true),
    frequency: z.enum(['once', 'daily', 'weekly', 'monthly']).default('daily'),
    /** Local time of day, 24-hour HH:MM, in `timeZone`. */
    time: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a 24-hour time like 21:30'),
    timeZone: z.string().refine(isIanaZone, 'must be an IANA time zone such as America/Los_Angeles'),
    /** weekly only: the day of the week. */
    dayOfWeek: z.enum(WEEKDAYS).optional(),
    /** monthly only: day 1–28, or `last` (the last day of every month). */
    dayOfMonth: z.union([z.number().int().min(1).max(28), z.literal('last')]).optional(),
    /** once only: the local calendar date, YYYY-MM-DD. */
    date: z.iso.date().optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const needs = { weekly: 'dayOfWeek', monthly: 'dayOfMonth', once: 'date' } as const;
    for (const [frequency, field] of Object.entries(needs) as [
      keyof typeof needs,
      (typeof needs)[keyof typeof needs],
    ][]) {
      if (s.frequency === frequency && s[field] === undefined)
        ctx.addIssue({
          code: 'custom',
          path: [field],
          message: `is required when frequency is ${frequency}`,
        });
      if (s.frequency !== frequency && s[field] !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [field],
          message: `applies only when frequency is ${frequency} (frequency is ${s.frequency})`,
        });
    }
  });

export type JobSchedule = z.infer<typeof jobScheduleSchema>;

export interface CompiledSchedule {
  /** EventBridge Scheduler expression: `cron(...)` (6 fields) or `at(yyyy-mm-ddThh:mm:ss)` for `once`. */
  expression: string;
  /** The schedule's ScheduleExpressionTimezone: the setting's IANA zone, unchanged. */
  timeZone: string;
  /**
   * Days within which a run must complete for the "did not complete" alarm (daily: 1, weekly: 7);
   * undefined when no fixed window fits (monthly, once: CloudWatch evaluates at most 7 days).
   */
  completesWithinDays?: number;
}

/** The Scheduler expression of a job schedule. Pure: the same settings always give the same expression. */
export function compileJobSchedule(schedule: JobSchedule): CompiledSchedule {
  const [hour, minute] = schedule.time.split(':').map(Number) as [number, number];
  const { timeZone } = schedule;
  switch (schedule.frequency) {
    case 'daily':
      return { expression: `cron(${minute} ${hour} * * ? *)`, timeZone, completesWithinDays: 1 };
    case 'weekly':
      return {
        expression: `cron(${minute} ${hour} ? * ${required(schedule.dayOfWeek, 'dayOfWeek')} *)`,
        timeZone,
        completesWithinDays: 7,
      };
    case 'monthly': {
      const day = required(schedule.dayOfMonth, 'dayOfMonth');
      return { expression: `cron(${minute} ${hour} ${day === 'last' ? 'L' : day} * ? *)`, timeZone };
    }
    case 'once':
      return { expression: `at(${required(schedule.date, 'date')}T${schedule.time}:00)`, timeZone };
  }
}

function required<T>(value: T | undefined, field: string): T {
  if (value === undefined)
    throw new Error(`Schedule setting ${field} is missing; validate the settings with parseSettings first.`);
  return value;
}

/**
 * The job name of the schedule that continues an open opt-out night (every 15 minutes; a tick with
 * no open night, or with one a running invocation holds, does nothing). The night's own schedule
 * names the job `optouts`.
 */
export const OPT_OUT_CONTINUATION_JOB = 'optouts-continue';

/** Every continuation schedule (the opt-out night's, job 4's): a quarter-hourly tick, UTC. */
export const CONTINUATION_SCHEDULE = { expression: 'rate(15 minutes)', timeZone: 'UTC' } as const;

/**
 * The job name that starts (or continues) the first-enable alignment in AWS, `optouts --full`'s
 * twin: invoked by hand (`{"job": "optouts-full"}`), then resumed by the continuation schedule
 * until it completes.
 */
export const OPT_OUT_FULL_JOB = 'optouts-full';

/**
 * The job names of job 4's continuation schedules (every 15 minutes, on the job's own function):
 * a tick continues a back-fill the last run left open (stopped by its time budget) that no running
 * invocation holds, and does nothing otherwise. The jobs' own schedules name them `tasks` and
 * `campaigns`.
 */
export const SALES_ACTIVITY_CONTINUATION_JOB = 'tasks-continue';
export const CAMPAIGNS_CONTINUATION_JOB = 'campaigns-continue';

/**
 * The timeout of job 4's functions (the Lambda maximum): no invocation outlives it, so a job's hold
 * (shared/runtime/job-continuation.ts) lasts at least this long.
 */
export const JOB4_FUNCTION_TIMEOUT_MINUTES = 15;
