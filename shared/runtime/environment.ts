/** A variable the function's configuration must set is missing: found at cold start, named. */
export class MissingEnvironmentError extends Error {
  override readonly name = 'MissingEnvironmentError';
  constructor(variable: string, what: string) {
    super(
      `Environment variable ${variable} is not set: it must be ${what}. Check the function's configuration.`,
    );
  }
}

/** The variable's value, or MissingEnvironmentError naming it (never a silent empty string). */
export function requireEnv(env: NodeJS.ProcessEnv, variable: string, what: string): string {
  const value = env[variable];
  if (!value) throw new MissingEnvironmentError(variable, what);
  return value;
}
