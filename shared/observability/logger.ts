import { Logger } from '@aws-lambda-powertools/logger';
import { emailRef } from '../domain/email.js';

/** Anything shaped like an email address inside a logged string (Unicode local parts and domains too). */
const EMAIL_IN_TEXT = /[\p{L}\p{N}._%+'!#$&*/=?^`{|}~-]+@[\p{L}\p{N}.-]+\.\p{L}{2,}/gu;
/** Keys whose values are credentials, whatever they contain. */
const SECRET_KEY = /secret|password|token|authorization|api[-_]?key|credential|cookie|session|signature/i;
/** Credentials inside free text: a bearer header, OAuth parameters in a URL or form body. */
const SECRET_IN_TEXT =
  /\b(Bearer|OAuth)\s+[A-Za-z0-9._~+/!:=-]{8,}|\b(access_token|refresh_token|client_secret|password)=[^&\s"']+/gi;

/**
 * Log-safe value: secrets replaced, email addresses turned into a stable hash reference so
 * an operator can still correlate lines about one person without seeing the address.
 */
export function redact(key: string, value: unknown): unknown {
  if (key && SECRET_KEY.test(key) && value !== null && value !== undefined) {
    // A list of secrets is as secret as one; a nested object is walked key by key.
    if (typeof value !== 'object' || Array.isArray(value)) return '[redacted]';
  }
  if (typeof value === 'string') {
    return value
      .replace(SECRET_IN_TEXT, (_m, scheme: string | undefined, param: string | undefined) =>
        scheme ? `${scheme} [redacted]` : `${param}=[redacted]`,
      )
      .replace(EMAIL_IN_TEXT, (m) => emailRef(m));
  }
  return value;
}

/** Structured JSON logger (Powertools) with email and secret masking applied to every record. */
export function createLogger(serviceName: string, options: { logLevel?: string } = {}): Logger {
  const logLevel = (
    options.logLevel ??
    process.env.LOG_LEVEL ??
    process.env.POWERTOOLS_LOG_LEVEL ??
    'INFO'
  ).toUpperCase();
  return new Logger({
    serviceName,
    logLevel: logLevel as 'INFO',
    jsonReplacerFn: (key: string, value: unknown) => redact(key, value),
  });
}
