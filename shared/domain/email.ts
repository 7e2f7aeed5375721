import { domainToASCII, domainToUnicode } from 'node:url';
import { pseudonym } from './pseudonym.js';

/**
 * The one normalisation of an email address used for matching and as the opt-out key: trimmed,
 * Unicode NFC, the domain in its ASCII (IDNA) form, lower-cased. Total: it never throws, so vendor
 * data that would be refused at the webhook (see `emailProblem`) still gets a stable key.
 */
export function normaliseEmail(email: string): string {
  const s = email.trim().normalize('NFC');
  const at = s.lastIndexOf('@');
  if (at < 0) return s.toLowerCase();
  const domain = s.slice(at + 1);
  // domainToASCII lower-cases and applies IDNA (UTS #46) mapping; '' means not a valid domain.
  const ascii = /^[\x21-\x7e]*$/.test(domain) ? domain : domainToASCII(domain);
  return `${s.slice(0, at)}@${ascii || domain}`.toLowerCase();
}

/**
 * The forms a vendor may have stored a normalised address under: as normalised (ASCII domain) and,
 * for an internationalised domain, with the domain in Unicode. Lookups ask for both.
 */
export function emailLookupForms(normalised: string): string[] {
  const at = normalised.lastIndexOf('@');
  if (at < 0 || !normalised.slice(at + 1).includes('xn--')) return [normalised];
  const unicode = domainToUnicode(normalised.slice(at + 1));
  return unicode ? [...new Set([normalised, `${normalised.slice(0, at)}@${unicode}`])] : [normalised];
}

const isAscii = (s: string) => [...s].every((c) => c.codePointAt(0)! < 0x80);

/** Control, format (zero-width, bidi, BOM, soft hyphen) and line/paragraph separator characters. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/**
 * Why an address cannot be an opt-out key, or undefined. The reason never quotes the address.
 * Refused: control and invisible characters (two addresses that look the same would be two people),
 * commas (Marketo's `filterValues` is comma-separated: such a lead can never be looked up), a
 * character that stands in for ASCII (the Kelvin sign, fullwidth letters: NFKC folds them to ASCII,
 * so the address silently differs from the one the person typed), and a domain IDNA refuses.
 */
export function emailProblem(email: string): string | undefined {
  const s = email.trim();
  if (INVISIBLE.test(s)) return 'must not contain control or invisible (zero-width, bidi) characters';
  if (s.includes(',')) return 'must not contain a comma (Marketo cannot look such an address up)';
  for (const ch of s) {
    if (isAscii(ch)) continue;
    const folded = ch.normalize('NFKC');
    if (isAscii(folded) || isAscii(ch.toLowerCase())) {
      return 'must not contain characters that stand in for ASCII letters (such as the Kelvin sign or fullwidth forms)';
    }
  }
  const n = s.normalize('NFC');
  const at = n.lastIndexOf('@');
  const domain = at < 0 ? '' : n.slice(at + 1);
  if (domain && !/^[\x21-\x7e]*$/.test(domain) && domainToASCII(domain) === '') {
    return 'must have a valid internationalised domain';
  }
  return undefined;
}

/** A stable, non-reversible reference to an email for logs and reports (never the address). */
export function emailRef(email: string): string {
  return pseudonym('email', normaliseEmail(email));
}
