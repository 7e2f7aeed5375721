import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { CAMPAIGN_KEY_PREFIX, looksLikeSalesforceId, salesforceIdProblem } from '../domain/salesforce-id.js';
import { sourceAllowList } from '../optouts/source-allow-list.js';
import { SALESFORCE_API_VERSION } from '../ports/vendor-limits.js';
import { isIanaZone, type JobSchedule, jobScheduleSchema } from './job-schedule.js';
import { DEFAULT_ACTIVITY_TYPES, inheritTypeDefaults } from './settings-types.js';

/**
 * The one sync-settings document. Read by the CDK app (schedules, budgets) and by every
 * function and the CLI (mapping, look-back). Parsed once, at cold start; a bad setting is
 * refused before anything runs, with the setting's path in the message.
 *
 * Every default is written once, here, on its field (`.default(v)`); every section is
 * `.prefault({})`, so a missing section is parsed from `{}` and gets its fields' defaults. A
 * settings file therefore names only what it changes: `{"marketo":{"callsPer20s":40}}` is a whole
 * document. Objects are strict (an unknown key is refused, named); a list replaces the default
 * list (JSON Merge Patch, RFC 7386), except that each `activities.types` entry inherits the
 * default type of its name (settings-types.ts). To add a key: `key: z.<type>().default(v)` inside
 * its section, with a doc comment; a new section: `z.object({...}).strict().prefault({})`.
 * Then `npm run settings:schema` regenerates settings.schema.json.
 */

const TASK_FIELD = /^[A-Za-z][A-Za-z0-9_]*$/;
const CRON_6 = /^cron\(\S+ \S+ \S+ \S+ \S+ \S+\)$/;

export const activityTypeSettingSchema = z
  .object({
    /** Marketo activity type name, as `types.json` returns it; resolved to an id at run time. */
    name: z.string().min(1),
    /** Optional id pin; when set it must agree with `types.json`. Custom types have ids ≥ 100000. */
    id: z.number().int().positive().optional(),
    enabled: z.boolean().default(true),
    /** Types the instance may not have (e.g. Remove from Flow): skipped with a warning instead of refused. */
    optional: z.boolean().default(false),
    /**
     * Tokens: {primaryAttributeValue}, {activityTypeName}, {activityDate}, {attr:Attribute Name}.
     * Default: the default type's of this name, else `{activityTypeName}: {primaryAttributeValue}`.
     */
    subjectTemplate: z.string().min(1).max(255).default('{activityTypeName}: {primaryAttributeValue}'),
    /** Salesforce Task.Type picklist value. */
    taskType: z.string().min(1).max(40).default('Other'),
    /** Salesforce Task.TaskSubtype (create only). */
    taskSubtype: z.enum(['Task', 'Email', 'Call', 'ListEmail', 'Cadence']).default('Task'),
    priority: z.enum(['High', 'Normal', 'Low']).default('Normal'),
    /** Task field API name → template (same tokens as the subject). Overrides the defaults per field. */
    fieldMapping: z
      .record(z.string().regex(TASK_FIELD, 'must be a Salesforce field API name'), z.string())
      .default({}),
    /**
     * Days an activity of this type waits for its person to reach Salesforce: skipped for "no
     * Salesforce record", it is revisited each run and written once the lead is linked, while it is
     * younger than this (seed 002: emails 30 days, forms 1 year). Default: activities.lookbackDays.
     */
    lookbackDays: z.number().int().min(1).max(365).optional(),
    /** What to do with the Task when the Marketo lead is deleted (seed 002). */
    onLeadDeleted: z.enum(['deleteTask', 'doNothing']).default('doNothing'),
  })
  .strict();

export type ActivityTypeSetting = z.infer<typeof activityTypeSettingSchema>;
export type ActivityTypeSettingInput = z.input<typeof activityTypeSettingSchema>;

const scheduleSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** EventBridge Scheduler cron (6 fields), evaluated in `timeZone`. Default: nightly at 20:00. */
    cron: z
      .string()
      .regex(CRON_6, 'must be an EventBridge cron expression like cron(0 20 * * ? *)')
      .default('cron(0 20 * * ? *)'),
    timeZone: z
      .string()
      .refine(isIanaZone, 'must be an IANA time zone such as America/Los_Angeles')
      .default('America/Los_Angeles'),
  })
  .strict()
  .prefault({});

/** Minutes re-read behind a watermark (jobs 4a and 4b). */
const overlapMinutesSchema = z
  .number()
  .int()
  .min(0)
  .max(24 * 60)
  .default(60);

/** Job 4 runs after the nightly activity and opt-out runs (20:00), one hour apart (Marketo budget). */
const SALES_ACTIVITY_SCHEDULE: JobSchedule = {
  enabled: true,
  frequency: 'daily',
  time: '21:00',
  timeZone: 'America/Los_Angeles',
};
const CAMPAIGNS_SCHEDULE: JobSchedule = { ...SALES_ACTIVITY_SCHEDULE, time: '22:00' };

const salesActivitiesSchema = z
  .object({
    /** Which Tasks (by TaskSubtype/Type) and Events sync; all on by default (seed 002). */
    kinds: z
      .object({
        call: z.boolean().default(true),
        email: z.boolean().default(true),
        task: z.boolean().default(true),
        meeting: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    /** First run reads this far back (SystemModstamp). */
    lookbackDays: z.number().int().min(1).max(365).default(90),
    /** Later runs re-read this far behind the watermark. */
    overlapMinutes: overlapMinutesSchema,
    /**
     * A run stops starting new work after this long, its watermark checkpointed, and the next run
     * (invocation) continues there: a first back-fill longer than one Lambda run (15 minutes).
     */
    runBudgetSeconds: z.number().int().min(1).max(840).default(720),
    /** The one custom activity type (with a `kind` attribute) the sync creates and approves. */
    activityType: z
      .object({
        /** Alphanumeric with at least one letter; Marketo recommends a namespace prefix (Swagger CustomActivityType.apiName). */
        apiName: z
          .string()
          .regex(
            /^(?=.*[A-Za-z])[A-Za-z0-9_]{1,64}$/,
            'must be alphanumeric (underscores allowed) with a letter',
          )
          .default('mktosfsync_salesActivity'),
        name: z.string().min(1).max(255).default('Salesforce Sales Activity'),
      })
      .strict()
      .prefault({}),
    /** When the job runs in AWS (seed 004: once / daily / weekly / monthly at a time, in an IANA zone). */
    schedule: jobScheduleSchema.default(SALES_ACTIVITY_SCHEDULE),
  })
  .strict()
  .prefault({});

const campaignsSchema = z
  .object({
    /** First run reads email activity this far back. */
    lookbackDays: z.number().int().min(1).max(365).default(90),
    /** Later runs re-read this far behind the watermark (Send Email is committed late). */
    overlapMinutes: overlapMinutesSchema,
    /**
     * A run stops starting new work after this long, its watermark checkpointed, and the next run
     * (invocation) continues there: a first back-fill longer than one Lambda run (15 minutes).
     */
    runBudgetSeconds: z.number().int().min(1).max(840).default(720),
    /** Case-insensitive regular expression on the program name; unset = every program with email activity. */
    programFilter: z
      .string()
      .min(1)
      .refine((v) => {
        try {
          new RegExp(v, 'i');
          return true;
        } catch {
          return false;
        }
      }, 'must be a valid regular expression')
      .optional(),
    /**
     * Explicit program → Campaign mapping, used before the name-based match and creation: Marketo
     * program name → a Salesforce Campaign Id (701…, 15 or 18 characters) or a Campaign name. A
     * mapped program is never created; a mapped Campaign that does not exist stops the run, named.
     */
    programs: z
      .record(z.string().min(1), z.string().min(1))
      .superRefine((programs, ctx) => {
        for (const [program, target] of Object.entries(programs)) {
          if (!looksLikeSalesforceId(target)) continue;
          const problem = salesforceIdProblem(target, CAMPAIGN_KEY_PREFIX, 'Campaign');
          if (problem)
            ctx.addIssue({
              code: 'custom',
              path: [program],
              message: `"${target}" ${problem}`,
            });
        }
      })
      .default({}),
    /** Long-text field on Lead and Contact for the last five statuses (metadata in salesforce/); null = off. */
    lastFiveField: z.string().regex(TASK_FIELD).nullable().default('Marketo_Last_Campaign_Statuses__c'),
    /** When the job runs in AWS (seed 004: once / daily / weekly / monthly at a time, in an IANA zone). */
    schedule: jobScheduleSchema.default(CAMPAIGNS_SCHEDULE),
  })
  .strict()
  .prefault({});

export const settingsSchema = z
  .object({
    /** Editors: `"$schema": "./settings.schema.json"` completes and checks this file (ignored here). */
    $schema: z.string().optional(),
    activities: z
      .object({
        /**
         * The types to sync (the list replaces the default list). An entry named like a default
         * type inherits that type's template, mapping and other settings, and names only what it
         * changes; a name one typo away from a known type is refused, naming the closest.
         */
        types: z
          .preprocess(inheritTypeDefaults, z.array(activityTypeSettingSchema).min(1))
          .prefault(() => structuredClone(DEFAULT_ACTIVITY_TYPES)),
        lookbackDays: z.number().int().min(1).max(365).default(90),
        /** Re-read this far behind the watermark: late-committed activities (Send Email) appear late. */
        overlapMinutes: z
          .number()
          .int()
          .min(0)
          .max(24 * 60)
          .default(60),
        /** Look-back split into this many windows read concurrently on a back-fill. */
        backfillWindows: z.number().int().min(1).max(32).default(8),
        /**
         * Back-fills by Marketo Bulk Activity Extract: a cycle whose span is estimated above
         * `exportAbove` activities (first run, `--since` replay) reads it as export jobs of ≤ 31-day
         * windows instead of REST pages (0: never). `pollSeconds`: between job status polls (Marketo
         * updates it at most once a minute). `chunkBytes`: one ranged read of the export file.
         */
        backfill: z
          .object({
            exportAbove: z.number().int().min(0).default(100_000),
            pollSeconds: z.number().int().min(1).max(900).default(60),
            chunkBytes: z
              .number()
              .int()
              .min(4096)
              .max(64 * 1024 * 1024)
              .default(8 * 1024 * 1024),
          })
          .prefault({}),
        schedule: scheduleSchema,
        /**
         * A Marketo lead without a Salesforce link: `skip` (it waits for the link, see
         * types[].lookbackDays) or `matchByEmail` (matched by normalised email to Leads not
         * converted and Contacts; `multipleRecordsRule` picks among several).
         */
        unlinkedLeads: z.enum(['skip', 'matchByEmail']).default('skip'),
        /** Who owns the Tasks: the integration user (default) or the owner of the Lead / Contact. */
        taskOwner: z.enum(['integrationUser', 'recordOwner']).default('integrationUser'),
        /** A person with several Salesforce records (matchByEmail): which one gets the Task. */
        multipleRecordsRule: z.enum(['mostRecentlyCreated', 'oldest']).default('mostRecentlyCreated'),
        leadCacheTtlSeconds: z
          .number()
          .int()
          .min(0)
          .max(7 * 24 * 3600)
          .default(3600),
        /**
         * Reconciliation (`sync verify`) as part of the scheduled run: after starting a cycle, the
         * schedule function compares the last `days` of Marketo activities with the ledger and the
         * Salesforce Tasks, and adds the counts to the run report (verify.missing, …). Read-only;
         * it costs Marketo and Salesforce API calls, so it is off by default.
         */
        verify: z
          .object({
            nightly: z.boolean().default(false),
            days: z.number().int().min(1).max(90).default(2),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    marketo: z
      .object({
        /** Calls per rolling 20 s for this integration (instance-wide limit is 100; Adobe recommends ≤ 50). */
        callsPer20s: z.number().int().min(1).max(100).default(50),
        /** Calls in flight at once (instance-wide limit is 10; Adobe recommends ≤ 5). */
        maxConcurrent: z.number().int().min(1).max(10).default(5),
        batchSize: z.number().int().min(1).max(300).default(300),
        /** The instance's daily API quota (Marketo docs, "Quotas": 50,000 calls a day by default; more by contract). `sync plan` reports its share. */
        dailyQuota: z.number().int().min(1).default(50_000),
      })
      .strict()
      .prefault({}),
    salesforce: z
      .object({
        apiVersion: z
          .string()
          .regex(/^\d{2}\.0$/, 'must look like 62.0')
          .default(SALESFORCE_API_VERSION),
        taskExternalIdField: z.string().regex(TASK_FIELD).default('Marketo_Activity_Id__c'),
        /** Zone of a Task's ActivityDate (its calendar day). Default: the org's (Organization.TimeZoneSidKey). */
        timeZone: z
          .string()
          .refine(isIanaZone, 'must be an IANA time zone such as America/Los_Angeles')
          .optional(),
        /**
         * externalId: upsert on the unique External ID field (one call, idempotent by itself).
         * ledger: the org cannot make the Activity field an External ID; create/update through our
         * DynamoDB ledger, resolving unknown outcomes by querying the field. Both are duplicate-free.
         */
        upsertMode: z.enum(['externalId', 'ledger']).default('externalId'),
        /**
         * Bulk API 2.0 (externalId mode only): once a cycle has read this many activities, its
         * remaining Tasks are staged and written by as few Bulk jobs as possible; a flush of fewer
         * staged Tasks than this uses sObject Collections. Ledger mode always uses collections.
         */
        bulkThreshold: z.number().int().min(1).default(2000),
        /** In AWS, flush staged Tasks once nothing was staged for this long (the cycle's write tail is done). */
        bulkFlushQuietSeconds: z.number().int().min(0).max(900).default(60),
      })
      .strict()
      .prefault({}),
    optOuts: z
      .object({
        /** Salesforce checkbox on Lead and Contact that carries the opt-out. */
        salesforceField: z.string().regex(TASK_FIELD).default('HasOptedOutOfEmail'),
        /** Sources allowed to resubscribe a person (newer than the opt-out). Default: none. */
        resubscribeSources: z.array(z.enum(['webhook', 'marketo', 'salesforce'])).default([]),
        schedule: scheduleSchema,
        lookbackDays: z.number().int().min(1).max(365).default(1),
        /** Webhook source allow-list (CIDRs or addresses); others get 403. Default: any source. */
        webhookAllowedSources: z.array(z.string()).superRefine(validAllowList).default([]),
        /**
         * Webhook requests one source (IPv4 address, IPv6 /64) may make per fixed window; more get
         * 429 + Retry-After. Every request counts, refused ones too. Default null (off): Marketo
         * sends from a few egress addresses and does not retry a refused webhook
         * (AdobeDocs/marketo-developer.en help/webhooks/errors.md), so a limit under a real
         * campaign's peak loses unsubscribes; README "Settings reference" says how to size it.
         */
        webhookPerSourceLimit: z
          .object({
            requests: z.number().int().min(1).max(1_000_000),
            perSeconds: z.number().int().min(1).max(3600),
          })
          .strict()
          .nullable()
          .default(null),
      })
      .strict()
      .prefault({}),
    /** Job 4a: Salesforce sales activity → Marketo custom activities (seeds 002, 003). */
    salesActivities: salesActivitiesSchema,
    /** Job 4b: Marketo email programs → Salesforce Campaigns with member status (seed 004). */
    campaigns: campaignsSchema,
  })
  .strict()
  .superRefine((s, ctx) => {
    const seen = new Set<string>();
    s.activities.types.forEach((t, i) => {
      const key = t.name.toLowerCase();
      if (seen.has(key)) {
        ctx.addIssue({
          code: 'custom',
          path: ['activities', 'types', i, 'name'],
          message: `duplicate activity type "${t.name}"`,
        });
      }
      seen.add(key);
    });
  });

export type Settings = z.infer<typeof settingsSchema>;
export type SettingsInput = z.input<typeof settingsSchema>;

function validAllowList(entries: string[], ctx: z.RefinementCtx): void {
  try {
    sourceAllowList(entries);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
  }
}

/** The built-in document: the default types (seed 000) are listed; everything else is a field default. */
export const DEFAULT_SETTINGS_INPUT: SettingsInput = {
  activities: { types: structuredClone(DEFAULT_ACTIVITY_TYPES) },
};

export class InvalidSettingsError extends Error {
  override readonly name = 'InvalidSettingsError';
  constructor(
    readonly issues: string[],
    source: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Invalid sync settings in ${source}: ${issues.join('; ')}. Fix the named setting and run again.`,
      options,
    );
  }
}

/** Validates a settings document; throws InvalidSettingsError naming every bad setting. */
export function parseSettings(input: unknown, source = 'settings'): Settings {
  const result = settingsSchema.safeParse(input);
  if (!result.success) {
    const issues = result.error.issues.map(
      (i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`,
    );
    throw new InvalidSettingsError(issues, source, { cause: result.error });
  }
  return result.data;
}

/**
 * Settings from `SYNC_SETTINGS_JSON` (inline JSON; the CDK app bakes the validated document into
 * each function bundle this way), else `SYNC_SETTINGS` (a JSON file path), else the built-in defaults.
 */
export function loadSettings(
  path: string | undefined = process.env.SYNC_SETTINGS,
  inline: string | undefined = process.env.SYNC_SETTINGS_JSON,
): Settings {
  if (inline) {
    try {
      return parseSettings(JSON.parse(inline), 'SYNC_SETTINGS_JSON');
    } catch (cause) {
      if (cause instanceof InvalidSettingsError) throw cause;
      throw new InvalidSettingsError([`not valid JSON (${(cause as Error).message})`], 'SYNC_SETTINGS_JSON', {
        cause,
      });
    }
  }
  if (!path) return parseSettings(DEFAULT_SETTINGS_INPUT, 'built-in defaults');
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new InvalidSettingsError(
      [`cannot read file (${(cause as Error).message})`],
      `SYNC_SETTINGS=${path}`,
      { cause },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (cause) {
    throw new InvalidSettingsError(
      [`not valid JSON (${(cause as Error).message})`],
      `SYNC_SETTINGS=${path}`,
      { cause },
    );
  }
  return parseSettings(json, `SYNC_SETTINGS=${path}`);
}
