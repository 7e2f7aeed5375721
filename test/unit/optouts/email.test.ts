import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emailLookupForms, emailProblem, emailRef, normaliseEmail } from '../../../shared/domain/email.js';

describe('email normalisation (the opt-out key)', () => {
  it('trims, lower-cases, composes (NFC) and puts the domain in its ASCII form', () => {
    expect(normaliseEmail('  Someone@Example.COM ')).toBe('someone@example.com');
    // "ü" composed and decomposed are one person.
    expect(normaliseEmail('J\u00fcrgen@example.com')).toBe(normaliseEmail('Ju\u0308rgen@example.com'));
    expect(normaliseEmail('J\u00fcrgen@example.com')).toBe('j\u00fcrgen@example.com');
    expect(normaliseEmail('info@M\u00fcnchen.de')).toBe('info@xn--mnchen-3ya.de');
    expect(normaliseEmail('info@xn--mnchen-3ya.de')).toBe('info@xn--mnchen-3ya.de');
    expect(normaliseEmail('a@\u{1F600}.com')).toBe('a@xn--e28h.com');
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(fc.oneof(fc.emailAddress(), fc.string({ unit: 'grapheme', maxLength: 40 })), (e) => {
        expect(normaliseEmail(normaliseEmail(e))).toBe(normaliseEmail(e));
      }),
    );
  });

  it('looks an internationalised domain up in both forms', () => {
    expect(emailLookupForms('info@xn--mnchen-3ya.de')).toEqual([
      'info@xn--mnchen-3ya.de',
      'info@m\u00fcnchen.de',
    ]);
    expect(emailLookupForms('a@example.com')).toEqual(['a@example.com']);
  });

  it('refuses what would silently become another address or could never be looked up', () => {
    const refused: [string, RegExp][] = [
      ['zero\u200bwidth@example.com', /invisible/],
      ['bidi\u202e@example.com', /invisible/],
      ['bom\ufeff@example.com', /invisible/],
      ['soft\u00adhyphen@example.com', /invisible/],
      ['a\u0000@example.com', /control/],
      ['a,b@example.com', /comma/],
      ['\u212aelvin@example.com', /stand in for ASCII/],
      ['\uff46ullwidth@example.com', /stand in for ASCII/],
      ['a@\uff45xample.com', /stand in for ASCII/],
      ['a@ex\u00e4mple-\u0000.com', /control/],
    ];
    for (const [email, reason] of refused) {
      const problem = emailProblem(email);
      expect(problem, email).toMatch(reason);
      // The reason never quotes the address.
      expect(problem).not.toContain(email);
      expect(problem).not.toContain('example');
    }
  });

  it('accepts ordinary and internationalised addresses', () => {
    for (const email of [
      'someone@example.com',
      "o'brien+tag@example.co.uk",
      'j\u00fcrgen@m\u00fcnchen.de',
      '\u0430dmin@example.com',
      '"quoted local"@example.com',
    ]) {
      expect(emailProblem(email), email).toBeUndefined();
    }
    fc.assert(
      fc.property(fc.emailAddress(), (e) => {
        expect(emailProblem(e)).toBeUndefined();
      }),
    );
  });

  it('refers to an address by a hash of its normalised form', () => {
    expect(emailRef(' A@Example.com')).toBe(emailRef('a@example.com'));
    expect(emailRef('a@example.com')).toMatch(/^email#[0-9a-f]{16}$/);
  });
});
