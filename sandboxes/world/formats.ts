/** Formats the world writes: Salesforce ids and Marketo-style ISO timestamps. */

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SUFFIX_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

/** A 15-char id made 18-char with Salesforce's case-safe checksum suffix. */
export function salesforceId(prefix: string, n: number): string {
  let body = '';
  let v = n;
  for (let i = 0; i < 7; i++) {
    body = BASE62[v % 62] + body;
    v = Math.floor(v / 62);
  }
  const id15 = `${prefix}5g00${body}`.slice(0, 15).padEnd(15, '0');
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const c = id15.charAt(chunk * 5 + i);
      if (c >= 'A' && c <= 'Z') bits |= 1 << i;
    }
    suffix += SUFFIX_CHARS.charAt(bits);
  }
  return id15 + suffix;
}

/** ISO-8601 UTC without milliseconds, as Marketo prints activityDate. */
export const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
