import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { z } from 'zod';

/** Vendor credentials: environment variables locally, one Secrets Manager JSON secret in AWS. */
export const credentialsSchema = z.object({
  MARKETO_BASE_URL: z.string().url('must be the REST base URL, e.g. https://123-ABC-456.mktorest.com'),
  MARKETO_CLIENT_ID: z.string().min(1),
  MARKETO_CLIENT_SECRET: z.string().min(1),
  SALESFORCE_LOGIN_URL: z
    .string()
    .url("must be the org's My Domain URL, e.g. https://acme.my.salesforce.com"),
  SALESFORCE_CLIENT_ID: z.string().min(1),
  SALESFORCE_CLIENT_SECRET: z.string().min(1),
});
export type Credentials = z.infer<typeof credentialsSchema>;

export class InvalidCredentialsConfigError extends Error {
  override readonly name = 'InvalidCredentialsConfigError';
  constructor(source: string, issues: string[], options?: { cause?: unknown }) {
    super(
      `Credentials from ${source} are incomplete: ${issues.join('; ')}. Set them and run again.`,
      options,
    );
  }
}

function parse(source: string, input: unknown): Credentials {
  const res = credentialsSchema.safeParse(input);
  if (!res.success) {
    // Names only: never echo a value, it may be a secret.
    throw new InvalidCredentialsConfigError(
      source,
      res.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
      { cause: res.error },
    );
  }
  return res.data;
}

/** The vendor whose variables are all unset locally runs against the built-in sandbox. */
export function vendorsConfigured(env: NodeJS.ProcessEnv = process.env): {
  marketo: boolean;
  salesforce: boolean;
} {
  return {
    marketo: Boolean(env.MARKETO_BASE_URL || env.MARKETO_CLIENT_ID || env.MARKETO_CLIENT_SECRET),
    salesforce: Boolean(env.SALESFORCE_LOGIN_URL || env.SALESFORCE_CLIENT_ID || env.SALESFORCE_CLIENT_SECRET),
  };
}

export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): Credentials {
  return parse('the environment', {
    MARKETO_BASE_URL: env.MARKETO_BASE_URL,
    MARKETO_CLIENT_ID: env.MARKETO_CLIENT_ID,
    MARKETO_CLIENT_SECRET: env.MARKETO_CLIENT_SECRET,
    SALESFORCE_LOGIN_URL: env.SALESFORCE_LOGIN_URL,
    SALESFORCE_CLIENT_ID: env.SALESFORCE_CLIENT_ID,
    SALESFORCE_CLIENT_SECRET: env.SALESFORCE_CLIENT_SECRET,
  });
}

/** In Lambda: the secret named by SYNC_SECRET_ARN (cached 5 minutes by Powertools). */
export async function credentialsFromSecret(secretArn: string): Promise<Credentials> {
  const value = await getSecret(secretArn, { transform: 'json', maxAge: 300 });
  return parse(`secret ${secretArn}`, value);
}

export async function loadCredentials(env: NodeJS.ProcessEnv = process.env): Promise<Credentials> {
  return env.SYNC_SECRET_ARN ? credentialsFromSecret(env.SYNC_SECRET_ARN) : credentialsFromEnv(env);
}
