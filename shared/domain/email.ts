import { createHash } from 'node:crypto';

/** The one normalisation of an email address used for matching: trimmed, lower-cased. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** A stable, non-reversible reference to an email for logs and reports (never the address). */
export function emailRef(email: string): string {
  return `email#${createHash('sha256').update(normaliseEmail(email)).digest('hex').slice(0, 16)}`;
}
