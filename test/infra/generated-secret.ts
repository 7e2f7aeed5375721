import { randomInt } from 'node:crypto';
import { SECRET_ENV } from '../../infra/stateless-stack.js';
import { webhookSecretDocumentSchema } from '../../shared/optouts/webhook-secrets.js';
import { marketoCredentialsSchema, salesforceCredentialsSchema } from '../../shared/runtime/credentials.js';

/** CloudFormation's `GenerateSecretString` (AWS::SecretsManager::Secret), as the template carries it. */
export interface GenerateSecretString {
  SecretStringTemplate?: string;
  GenerateStringKey?: string;
  PasswordLength?: number;
  ExcludeCharacters?: string;
  ExcludeLowercase?: boolean;
  ExcludeNumbers?: boolean;
  ExcludePunctuation?: boolean;
  ExcludeUppercase?: boolean;
  IncludeSpace?: boolean;
  RequireEachIncludedType?: boolean;
}

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DIGITS = '0123456789';
// Secrets Manager GetRandomPassword, ExcludePunctuation: "! \" # $ % & ' ( ) * + , - . / : ; < = > ? @ [ \ ] ^ _ ` { | } ~"
const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

/**
 * The secret value Secrets Manager creates from a GenerateSecretString, following the
 * GetRandomPassword rules (AWS::SecretsManager::Secret GenerateSecretString; Secrets Manager API
 * GetRandomPassword): PasswordLength defaults to 32, each Exclude* removes a character class,
 * ExcludeCharacters removes single characters, IncludeSpace adds the space, and
 * RequireEachIncludedType (default true) puts at least one of each remaining class in. With a
 * SecretStringTemplate, the generated string is stored under GenerateStringKey of that JSON
 * object; without one, the generated string is the whole secret.
 */
export function generateSecretValue(spec: GenerateSecretString): string {
  const excluded = new Set(spec.ExcludeCharacters ?? '');
  const classes = [
    spec.ExcludeLowercase ? '' : LOWER,
    spec.ExcludeUppercase ? '' : UPPER,
    spec.ExcludeNumbers ? '' : DIGITS,
    spec.ExcludePunctuation ? '' : PUNCTUATION,
    spec.IncludeSpace ? ' ' : '',
  ]
    .map((c) => [...c].filter((ch) => !excluded.has(ch)).join(''))
    .filter((c) => c.length > 0);
  const all = classes.join('');
  const length = spec.PasswordLength ?? 32;
  if (all.length === 0) throw new Error('GenerateSecretString excludes every character');
  const chars = Array.from({ length }, () => all[randomInt(all.length)] as string);
  if (spec.RequireEachIncludedType ?? true) {
    classes.forEach((c, i) => {
      if (i < length) chars[i] = c[randomInt(c.length)] as string;
    });
    for (let i = chars.length - 1; i > 0; i--) {
      const j = randomInt(i + 1);
      [chars[i], chars[j]] = [chars[j] as string, chars[i] as string];
    }
  }
  const generated = chars.join('');
  if (spec.SecretStringTemplate === undefined) return generated;
  const document = JSON.parse(spec.SecretStringTemplate) as Record<string, unknown>;
  if (spec.GenerateStringKey === undefined) {
    throw new Error('GenerateSecretString has a SecretStringTemplate but no GenerateStringKey');
  }
  return JSON.stringify({ ...document, [spec.GenerateStringKey]: generated });
}

/** A secret document reader: the zod schema the code parses that secret's JSON with. */
export interface SecretReader {
  safeParse(input: unknown): {
    success: boolean;
    error?: { issues: { path: PropertyKey[]; message: string }[] };
  };
}

export interface TemplateSecret {
  logicalId: string;
  generate: GenerateSecretString;
  /** The function environment variables (stateless template) that carry this secret's ARN. */
  envVars: string[];
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;
/** A synthesized template, as far as these helpers read it. */
export interface TemplateJson {
  Resources: Resources;
}

/**
 * Every secret with a GenerateSecretString in the stateful template, with the environment
 * variables through which the stateless template's functions receive it (a cross-stack import
 * names the secret's logical id).
 */
export function templateSecrets(stateful: TemplateJson, stateless: TemplateJson) {
  const secrets: TemplateSecret[] = [];
  for (const [logicalId, r] of Object.entries(stateful.Resources)) {
    if (r.Type !== 'AWS::SecretsManager::Secret') continue;
    const generate = r.Properties?.GenerateSecretString as GenerateSecretString | undefined;
    if (!generate) continue;
    const envVars = new Set<string>();
    for (const fn of Object.values(stateless.Resources)) {
      if (fn.Type !== 'AWS::Lambda::Function') continue;
      const vars = ((fn.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)
        ?.Variables ?? {}) as Record<string, unknown>;
      for (const [name, value] of Object.entries(vars))
        if (JSON.stringify(value).includes(logicalId)) envVars.add(name);
    }
    secrets.push({ logicalId, generate, envVars: [...envVars].sort() });
  }
  return secrets;
}

/** Zod issues as `key: message` (names only, never values). */
export function describeIssues(result: ReturnType<SecretReader['safeParse']>): string {
  return (result.error?.issues ?? []).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

/** The schema the code reads each secret with, by the environment variable that carries its ARN. */
export const SECRET_READERS: Readonly<Record<string, SecretReader>> = {
  [SECRET_ENV.marketo]: marketoCredentialsSchema,
  [SECRET_ENV.salesforce]: salesforceCredentialsSchema,
  [SECRET_ENV.webhook]: webhookSecretDocumentSchema,
};
