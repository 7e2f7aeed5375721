import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import * as z from 'zod';

/**
 * Vendor credentials: environment variables locally; in AWS one Secrets Manager JSON secret per
 * vendor, so a function that only talks to Marketo is never granted the Salesforce secret.
 */
export const marketoCredentialsSchema = z.object({
  MARKETO_BASE_URL: z.string().url('must be the REST base URL, e.g. https://123-ABC-456.mktorest.com'),
  MARKETO_CLIENT_ID: z.string().min(1),
  MARKETO_CLIENT_SECRET: z.string().min(1),
});
export const salesforceCredentialsSchema = z.object({
  SALESFORCE_LOGIN_URL: z
    .string()
    .url("must be the org's My Domain URL, e.g. https://acme.my.salesforce.com"),
  SALESFORCE_CLIENT_ID: z.string().min(1),
  SALESFORCE_CLIENT_SECRET: z.string().min(1),
});
export const credentialsSchema = marketoCredentialsSchema.extend(salesforceCredentialsSchema.shape);
export type MarketoCredentials = z.infer<typeof marketoCredentialsSchema>;
export type SalesforceCredentials = z.infer<typeof salesforceCredentialsSchema>;
export type Credentials = z.infer<typeof credentialsSchema>;
/** What a Lambda function was granted: the credentials of the vendors it talks to, no others. */
export type GrantedCredentials = Partial<MarketoCredentials> & Partial<SalesforceCredentials>;

/** The environment variable naming each vendor's secret (set by infra only where it is granted). */
export const VENDOR_SECRET_ENV = {
  marketo: 'MARKETO_SECRET_ARN',
  salesforce: 'SALESFORCE_SECRET_ARN',
} as const;
export type Vendor = keyof typeof VENDOR_SECRET_ENV;

/** The keys of each vendor's secret (the same names the CLI reads from the environment). */
export const VENDOR_CREDENTIAL_KEYS = {
  marketo: Object.keys(marketoCredentialsSchema.shape) as (keyof MarketoCredentials)[],
  salesforce: Object.keys(salesforceCredentialsSchema.shape) as (keyof SalesforceCredentials)[],
} as const;

export class InvalidCredentialsConfigError extends Error {
  override readonly name = 'InvalidCredentialsConfigError';
  constructor(source: string, issues: string[], options?: { cause?: unknown }) {
    super(
      `Credentials from ${source} are incomplete: ${issues.join('; ')}. Set them and run again.`,
      options,
    );
  }
}

function parse<S extends z.ZodType>(schema: S, source: string, input: unknown): z.infer<S> {
  const res = schema.safeParse(input);
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
  return parse(credentialsSchema, 'the environment', {
    MARKETO_BASE_URL: env.MARKETO_BASE_URL,
    MARKETO_CLIENT_ID: env.MARKETO_CLIENT_ID,
    MARKETO_CLIENT_SECRET: env.MARKETO_CLIENT_SECRET,
    SALESFORCE_LOGIN_URL: env.SALESFORCE_LOGIN_URL,
    SALESFORCE_CLIENT_ID: env.SALESFORCE_CLIENT_ID,
    SALESFORCE_CLIENT_SECRET: env.SALESFORCE_CLIENT_SECRET,
  });
}

/** In Lambda: one vendor's secret (cached 5 minutes by Powertools), checked against that vendor's keys. */
export async function vendorCredentialsFromSecret<V extends Vendor>(
  vendor: V,
  secretArn: string,
  read: (arn: string) => Promise<unknown> = (arn) => getSecret(arn, { transform: 'json', maxAge: 300 }),
): Promise<V extends 'marketo' ? MarketoCredentials : SalesforceCredentials> {
  const schema = vendor === 'marketo' ? marketoCredentialsSchema : salesforceCredentialsSchema;
  return parse(schema, `secret ${secretArn}`, await read(secretArn)) as V extends 'marketo'
    ? MarketoCredentials
    : SalesforceCredentials;
}

/**
 * In Lambda (MARKETO_SECRET_ARN and/or SALESFORCE_SECRET_ARN set): the secrets this function was
 * granted, and only those. Locally: all six variables from the environment.
 */
export async function loadCredentials(
  env: NodeJS.ProcessEnv = process.env,
  read?: (arn: string) => Promise<unknown>,
): Promise<GrantedCredentials> {
  const marketoArn = env[VENDOR_SECRET_ENV.marketo];
  const salesforceArn = env[VENDOR_SECRET_ENV.salesforce];
  if (!marketoArn && !salesforceArn) return credentialsFromEnv(env);
  const [marketo, salesforce] = await Promise.all([
    marketoArn ? vendorCredentialsFromSecret('marketo', marketoArn, read) : undefined,
    salesforceArn ? vendorCredentialsFromSecret('salesforce', salesforceArn, read) : undefined,
  ]);
  return { ...marketo, ...salesforce };
}

/** The vendor's credentials when all of its keys were granted, else undefined. */
export function grantedVendor<V extends Vendor>(
  vendor: V,
  credentials: GrantedCredentials,
): (V extends 'marketo' ? MarketoCredentials : SalesforceCredentials) | undefined {
  const schema = vendor === 'marketo' ? marketoCredentialsSchema : salesforceCredentialsSchema;
  const res = schema.safeParse(credentials);
  return (res.success ? res.data : undefined) as
    | (V extends 'marketo' ? MarketoCredentials : SalesforceCredentials)
    | undefined;
}

export class VendorNotGrantedError extends Error {
  override readonly name = 'VendorNotGrantedError';
  constructor(vendor: Vendor, operation: string) {
    super(
      `${operation}: this function was not granted the ${vendor} credentials (${VENDOR_SECRET_ENV[vendor]} is not set). Bind the secret to the function in infra/stateless-stack.ts if it really needs ${vendor}.`,
    );
  }
}

/**
 * Stands in for the client of a vendor whose secret the function was not granted: call counts are
 * zero, and every API call fails with VendorNotGrantedError naming the missing secret.
 */
export function ungrantedClient<T extends object>(vendor: Vendor): T {
  return new Proxy({} as T, {
    get(_target, property) {
      if (property === 'then' || typeof property === 'symbol') return undefined;
      if (property === 'callCounts') return () => ({ total: 0, byKind: {}, byEndpoint: {}, errors: {} });
      if (property === 'limitInfo') return () => undefined;
      return async () => {
        throw new VendorNotGrantedError(vendor, String(property));
      };
    },
  });
}
