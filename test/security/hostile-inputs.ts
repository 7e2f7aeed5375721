/**
 * Hostile strings shared by the security tests (webhook fuzzing, SOQL escaping): injection
 * attempts, quoting and escaping edge cases, Unicode that looks like ASCII, control characters.
 */

/** Strings that break naive parsers, loggers or comparisons. */
export const ADVERSARIAL_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000@example.com',
  '\u202Emoc.elpmaxe@evil',
  'zero\u200Bwidth@example.com',
  'ｆｕｌｌｗｉｄｔｈ@ｅｘａｍｐｌｅ.ｃｏｍ',
  'аdmin@example.com',
  '😀@😀.com',
  'ü@münchen.de',
  '"quoted local"@example.com',
  'a@b',
  '@example.com',
  'a@',
  'a@@example.com',
  'a@.example.com',
  'a@example..com',
  `${'a'.repeat(65)}@example.com`,
  `a@${'b'.repeat(250)}.com`,
  'line\nbreak@example.com',
  'tab\t@example.com',
  'crlf@example.com\r\nX-Webhook-Secret: forged',
  '\u2028@example.com',
  '{{lead.Email Address}}',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection attempt, literally
  '${process.env.WEBHOOK_SECRET}',
  '__proto__',
  'constructor',
  '<script>alert(1)</script>@example.com',
  '../../etc/passwd',
  'x'.repeat(20_000),
];

/** SQL / SOQL / NoSQL injection and quoting edge cases (quotes, backslashes, Unicode quotes, wildcards). */
export function injectionStrings(): string[] {
  return [
    "' OR 1=1 --",
    "' OR Id != null OR Email = '",
    "\\' OR Id != null --",
    "\\\\' OR Id != null --",
    "o'brien@example.com",
    "') OR Id != null OR Email IN ('",
    "'; DELETE FROM Lead; --",
    "x' AND Name LIKE '%",
    '%',
    '_',
    '%_%',
    '\\%\\_',
    '\\',
    "'",
    '"',
    '\\"',
    '\u2019 OR Id != null OR Email = \u2019',
    '\u2018\u201C\u201D\u02BC\uFF07',
    "a'\nOR Id != null",
    "a'\rOR Id != null",
    "a'\tOR Id != null",
    "a\\'b\\\\'c",
    'SELECT Id FROM User',
    '{"$ne": null}',
    '{"$gt": ""}',
  ];
}
