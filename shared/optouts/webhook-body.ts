import * as z from 'zod';
import { emailProblem } from '../domain/email.js';

/**
 * The webhook body (SPEC Interfaces): `{"email", "leadId", "reason", "occurredAt"}`, email or
 * leadId required. Lenient where Marketo's token rendering is (an empty token renders as "",
 * `{{lead.Id}}` may arrive quoted), strict everywhere else. Unknown keys are ignored.
 */

/** Half of a UTF-16 surrogate pair without its other half: not text, and stored lossily by DynamoDB. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Well-formed Unicode (JSON's \uD800 escapes can smuggle a lone surrogate into a string). */
export const isWellFormedText = (value: string): boolean => !LONE_SURROGATE.test(value);

/** A plausible address: one local part and a dotted domain, no whitespace or control characters. */
export function isPlausibleEmail(value: string): boolean {
  const at = value.lastIndexOf('@');
  if (at < 1 || at > 64 || value.length > 254 || !isWellFormedText(value)) return false;
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(value) || /\s/.test(domain)) return false;
  // Spaces are legal only inside a quoted local part ("john smith"@example.com).
  if (/\s/.test(local) && !/^".*"$/.test(local)) return false;
  return /^[^@.][^@]*\.[^@.]+$/.test(domain);
}

const blankToUndefined = (v: unknown) => (v === '' || v === null ? undefined : v);

const OFFSET_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;
/** Marketo's {{system.dateTime}} renders without an offset; we keep it for dedupe only. */
const NAIVE_DATETIME = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?$/;

export const unsubscribeBodySchema = z
  .object({
    email: z.preprocess(
      (v) => (typeof v === 'string' ? blankToUndefined(v.trim()) : blankToUndefined(v)),
      z
        .string()
        .superRefine((v, ctx) => {
          // Our wording only: the address itself is never quoted back.
          const problem = emailProblem(v) ?? (isPlausibleEmail(v) ? undefined : 'must be an email address');
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        })
        .optional(),
    ),
    leadId: z.preprocess(
      (v) => (typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : blankToUndefined(v)),
      z
        .number()
        .int('must be a whole number')
        .positive('must be a positive Marketo lead id')
        .max(2 ** 31)
        .optional(),
    ),
    reason: z.preprocess(
      blankToUndefined,
      z
        .string()
        .max(2000, 'must be at most 2000 characters')
        .refine(isWellFormedText, 'must be valid Unicode text')
        .optional(),
    ),
    occurredAt: z.preprocess(
      blankToUndefined,
      z
        .string()
        .refine(
          (s) => (OFFSET_DATETIME.test(s) && !Number.isNaN(Date.parse(s))) || NAIVE_DATETIME.test(s),
          'must be an ISO-8601 date-time such as 2026-10-01T12:00:00Z',
        )
        .optional(),
    ),
  })
  .superRefine((body, ctx) => {
    if (body.email === undefined && body.leadId === undefined) {
      ctx.addIssue({ code: 'custom', path: ['email'], message: 'email or leadId is required' });
    }
  });

export type UnsubscribeBody = z.infer<typeof unsubscribeBodySchema>;

/** The exact instant, when the sender gave one with an offset; else undefined (use receipt time). */
export function occurredInstant(occurredAt: string | undefined): Date | undefined {
  if (!occurredAt || !OFFSET_DATETIME.test(occurredAt)) return undefined;
  const ms = Date.parse(occurredAt);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}
