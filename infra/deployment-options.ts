import type { Node } from 'constructs';
import * as z from 'zod';

/**
 * Deployment knobs that are about AWS, not about what syncs (that lives in the settings document).
 * Read from CDK context (`cdk.json` "context", or `cdk deploy -c key=value`). Values given with
 * `-c` arrive as strings, hence the coercion. A bad value stops synth with the context key's name.
 */

/** The retention periods CloudWatch Logs accepts, in days. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const positiveInt = (max: number) => z.coerce.number().int().min(1).max(max);

export const deploymentOptionsSchema = z
  .object({
    /** Stack name prefix: stacks are `<prefix>Stateful` and `<prefix>Stateless`. */
    prefix: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,80}$/, 'must start with a letter; letters, digits and - only')
      .default('MarketoSfSync'),
    /** Receives before a message goes to its dead-letter queue; default: the queue definition's (5 for fetch/write). */
    maxReceiveCount: positiveInt(1000).optional(),
    /** Retention of every function's and the API's log group. */
    logRetentionDays: z.coerce
      .number()
      .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
        message: `must be one of ${LOG_RETENTION_DAYS.join(', ')}`,
      })
      .default(30),
    /** Webhook stage steady-state requests per second. */
    webhookRateLimit: positiveInt(10_000).default(50),
    /** Webhook stage burst. */
    webhookBurstLimit: positiveInt(5_000).default(100),
    /** Concurrent fetch-page consumers; default: settings `marketo.maxConcurrent` (Marketo allows 10 in flight). */
    fetchMaxConcurrency: z.coerce.number().int().min(2).max(10).optional(),
    /** Concurrent Task writers (each holds one Salesforce collection call at a time). */
    writeMaxConcurrency: z.coerce.number().int().min(2).max(1000).default(10),
    /** Alarm when the oldest message on a main queue is older than this. */
    queueAgeAlarmMinutes: positiveInt(24 * 60).default(60),
    /** Optional e-mail subscribed to the alarm topic (confirm the subscription mail). */
    alarmEmail: z.email().optional(),
    /** Accepted webhooks (202) in 5 minutes that alarm (a leaked webhook secret allows mass opt-outs); default 300. */
    webhookAcceptedAlarm: positiveInt(1_000_000).optional(),
    /** Reserved concurrency for the webhook receiver (unset: account pool; mind the account's limit). */
    webhookReservedConcurrency: positiveInt(1000).optional(),
  })
  .strict();

export type DeploymentOptions = z.infer<typeof deploymentOptionsSchema>;

export class InvalidDeploymentOptionError extends Error {
  override readonly name = 'InvalidDeploymentOptionError';
}

/** Parses options; throws InvalidDeploymentOptionError naming each bad context key. */
export function parseDeploymentOptions(input: Record<string, unknown>): DeploymentOptions {
  const result = deploymentOptionsSchema.safeParse(input);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `context "${i.path.join('.') || '(root)'}": ${i.message}`);
    throw new InvalidDeploymentOptionError(
      `Invalid CDK context: ${issues.join('; ')}. Fix it in cdk.json or the -c flag and run again.`,
      { cause: result.error },
    );
  }
  return result.data;
}

/** Reads the known keys from a construct tree's context (unknown context keys belong to CDK itself). */
export function deploymentOptionsFromContext(node: Node): DeploymentOptions {
  const input: Record<string, unknown> = {};
  for (const key of Object.keys(deploymentOptionsSchema.shape)) {
    const value: unknown = node.tryGetContext(key);
    if (value !== undefined) input[key] = value;
  }
  return parseDeploymentOptions(input);
}
