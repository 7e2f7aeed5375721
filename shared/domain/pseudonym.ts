import { createHash } from 'node:crypto';

/**
 * A stable, non-reversible reference to a piece of personal data (an email, a source address) for
 * keys, logs and reports: `<kind>#` and the first 16 hex digits of its SHA-256. Never the value.
 */
export function pseudonym(kind: string, value: string): string {
  return `${kind}#${createHash('sha256').update(value).digest('hex').slice(0, 16)}`;
}
