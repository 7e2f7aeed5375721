/**
 * Salesforce record Ids (Salesforce Help, "What is a Salesforce ID?" / REST API guide): 15
 * case-sensitive alphanumerics, or 18 with a 3-character case-insensitive suffix computed from the
 * case of the first 15; the first 3 characters are the object's key prefix (Campaign `701`).
 */

const SUFFIX_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

/** The 3-character suffix that makes a 15-character Id an 18-character one. */
export function salesforceIdSuffix(id15: string): string {
  let out = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const c = id15.charAt(chunk * 5 + i);
      if (c >= 'A' && c <= 'Z') bits |= 1 << i;
    }
    out += SUFFIX_CHARS.charAt(bits);
  }
  return out;
}

/**
 * True when a settings value is meant as a record Id rather than a name: 15 or 18 alphanumerics
 * (no spaces or punctuation) whose first three, the key prefix, hold a digit.
 */
export function looksLikeSalesforceId(value: string): boolean {
  return /^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$/.test(value) && /\d/.test(value.slice(0, 3));
}

/** Why `value` is not an Id of the object with `keyPrefix`, or undefined when it is one. */
export function salesforceIdProblem(
  value: string,
  keyPrefix: string,
  objectName: string,
): string | undefined {
  if (!/^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$/.test(value))
    return 'is not a Salesforce Id (15 or 18 letters and digits)';
  if (!value.startsWith(keyPrefix))
    return `is the Id of another object (key prefix ${value.slice(0, 3)}), not a ${objectName} (${keyPrefix}…)`;
  if (value.length === 18 && value.slice(15).toUpperCase() !== salesforceIdSuffix(value.slice(0, 15)))
    return `has a wrong 18-character checksum (expected …${salesforceIdSuffix(value.slice(0, 15))}; copy the Id again)`;
  return undefined;
}

/** Campaign's key prefix (Object Reference, Campaign). */
export const CAMPAIGN_KEY_PREFIX = '701';
