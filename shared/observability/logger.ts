import { Logger } from '@aws-lambda-powertools/logger';
import { emailRef } from '../domain/email.js';

/** Anything shaped like an email address inside a logged string. */
const EMAIL_IN_TEXT = /[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
/** Keys whose values are credentials, whatever they contain. */
const SECRET_KEY = /secret|password|token|authorization|api[-_]?key|credential/i;

/**
 * Log-safe value: secrets replaced, email addresses turned into a stable hash reference so
 * an operator can still correlate lines about one person without seeing the address.
 */
export function redact(key: string, value: unknown): unknown {
  if (key && SECRET_KEY.test(key) && value !== null && value !== undefined && typeof value !== 'object') {
    return '[redacted]';
  }
  if (typeof value === 'string') return value.replace(EMAIL_IN_TEXT, (m) => emailRef(m));
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
