import fc from 'fast-check';
import { expect } from 'vitest';
import { MAX_WEBHOOK_BODY_BYTES } from '../../shared/optouts/webhook-request.js';
import { ADVERSARIAL_STRINGS, injectionStrings } from './hostile-inputs.js';

/**
 * Webhook requests for fuzzing (any transport: the core, node:http, the Lambda): arbitraries for
 * the secret, content type, body and headers, the statuses the documented order of checks implies,
 * and what a response may never contain.
 */

export const CURRENT = 'whsec-current-7d1f0c9a4e2b4b8f9a31c6d2e5f70812';
export const PREVIOUS = 'whsec-previous-0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d';
export const STATUSES = new Set([202, 400, 401, 403, 413, 415]);
export const ERRORS = new Set([
  'unauthorized',
  'forbidden_source',
  'payload_too_large',
  'unsupported_media_type',
  'invalid_header',
  'malformed_json',
  'invalid_body',
]);
export const STORE_WRITES = new Set(['claimEvent', 'update', 'appendHistory', 'setEventStatus']);
/** Things a response must never contain: stack frames, engine/zod/AWS internals, paths. */
export const LEAK =
  /\n\s+at |\bat [\w.<>]+ \(|node_modules|\/work\/|file:\/\/|ZodError|SyntaxError|TypeError|Unexpected token|in JSON at position|ValidationException|ResourceNotFound|arn:aws|ECONNREFUSED|127\.0\.0\.1|\bexpected [a-z]+, received\b/i;

export interface Case {
  kind: string;
  secret: string | undefined;
  secretValid: boolean;
  contentType: string | undefined;
  jsonType: boolean;
  body: string | Uint8Array | undefined;
  contentLength?: string;
  idempotencyKey?: string;
  /** The generator built a body the SPEC says must be accepted. */
  mustAccept: boolean;
  /** The exact status a fixed case must get (overrides what the order of checks implies). */
  expectStatus?: number;
  /** Strings we sent that the response must not echo. */
  sent: string[];
}

export const JSON_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/json;charset="UTF-8"',
  'application/json; charset=utf8',
];
export const OTHER_TYPES = [
  'text/plain',
  'text/json',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=latin1',
  'application/jsonp',
  'application/json-patch+json',
  'application/json, text/plain',
  '*/*',
  '',
  ' ',
  'application/json\u0000',
];

export const secretArb: fc.Arbitrary<{ secret: string | undefined; secretValid: boolean; label: string }> =
  fc.oneof(
    { weight: 12, arbitrary: fc.constant({ secret: CURRENT, secretValid: true, label: 'current' }) },
    { weight: 4, arbitrary: fc.constant({ secret: PREVIOUS, secretValid: true, label: 'previous' }) },
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        { secret: undefined, secretValid: false, label: 'missing' },
        { secret: '', secretValid: false, label: 'empty' },
        { secret: `${CURRENT}, ${CURRENT}`, secretValid: false, label: 'duplicate-header' },
        { secret: `${CURRENT},${PREVIOUS}`, secretValid: false, label: 'both-joined' },
        { secret: ` ${CURRENT}`, secretValid: false, label: 'padded' },
        { secret: CURRENT.toUpperCase(), secretValid: false, label: 'case' },
        { secret: CURRENT.slice(0, -1), secretValid: false, label: 'truncated' },
        { secret: `${CURRENT}x`, secretValid: false, label: 'extended' },
        { secret: `Bearer ${CURRENT}`, secretValid: false, label: 'bearer' },
      ),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.nat({ max: CURRENT.length - 1 }), fc.string({ minLength: 1, maxLength: 1 }))
        .filter(([i, c]) => CURRENT[i] !== c)
        .map(([i, c]) => ({
          secret: `${CURRENT.slice(0, i)}${c}${CURRENT.slice(i + 1)}`,
          secretValid: false,
          label: 'one-char-off',
        })),
    },
    {
      weight: 1,
      arbitrary: fc
        .string({ maxLength: 80 })
        .map((s) => ({ secret: s, secretValid: false, label: 'random' })),
    },
  );

export const contentTypeArb = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...JSON_TYPES).map((t) => ({ type: t, json: true })) },
  { weight: 2, arbitrary: fc.constantFrom(...OTHER_TYPES).map((t) => ({ type: t, json: false })) },
  { weight: 1, arbitrary: fc.constant({ type: undefined, json: false }) },
  {
    weight: 1,
    arbitrary: fc
      .string({ maxLength: 40 })
      .filter((t) => !t.trim().toLowerCase().startsWith('application/json'))
      .map((t) => ({ type: t, json: false })),
  },
);

export const hostile = fc.constantFrom(...ADVERSARIAL_STRINGS, ...injectionStrings());
/** Any JSON value, including the wrong types for every field. */
export const wildValue: fc.Arbitrary<unknown> = fc.oneof(
  hostile,
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 100 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 10 }), { maxLength: 5 }),
  fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }), { maxKeys: 4 }),
  fc.string({ minLength: 2_001, maxLength: 5_000 }),
);
export const validEmail = fc.emailAddress().filter((e) => e.length <= 254 && e.indexOf('@') <= 64);
export const validLeadId = fc.oneof(
  fc.integer({ min: 1, max: 2 ** 31 }),
  fc.integer({ min: 1, max: 2 ** 31 }).map((n) => ` ${n} `),
);
export const validOccurredAt = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2030-01-01T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString());

/** A body the SPEC accepts: email and/or leadId, optional reason (≤ 2000) and occurredAt. */
export const validBody = fc
  .record(
    {
      email: fc.oneof(
        validEmail,
        validEmail.map((e) => `  ${e.toUpperCase()} `),
      ),
      leadId: validLeadId,
      reason: fc.string({ maxLength: 2_000 }),
      occurredAt: validOccurredAt,
    },
    { requiredKeys: [] },
  )
  .filter((b) => b.email !== undefined || b.leadId !== undefined)
  .map((b) => ({ text: JSON.stringify(b), fields: b as Record<string, unknown> }));

/** Fields of the wrong type or shape, plus prototype-pollution and unknown keys. */
export const adversarialBody = fc
  .record(
    {
      email: fc.oneof(wildValue, validEmail),
      leadId: fc.oneof(
        wildValue,
        fc.constantFrom(0, -1, 1.5, 2 ** 31 + 1, 1e308, '12abc', '0x10', '1e3', ' ', '-5'),
      ),
      reason: wildValue,
      occurredAt: fc.oneof(
        wildValue,
        fc.constantFrom('2026-13-01T00:00:00Z', '2026-02-30T25:61:00Z', 'yesterday', '1700000000'),
      ),
      extra: fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'email '),
      extraValue: fc.oneof(
        fc.constant({ polluted: true, isAdmin: true }),
        fc.constant({ prototype: { polluted: true } }),
        wildValue,
      ),
    },
    { requiredKeys: ['extra', 'extraValue'] },
  )
  .map(({ extra, extraValue, ...fields }) => {
    // A computed key makes "__proto__" an own property, so it reaches the JSON text.
    const object = { ...fields, [extra]: extraValue };
    return { text: JSON.stringify(object), fields: fields as Record<string, unknown> };
  });

export const nestingArb = fc
  .tuple(fc.integer({ min: 1, max: 9_000 }), fc.constantFrom('array', 'object', 'email'))
  .map(([depth, shape]) => {
    if (shape === 'array') return '['.repeat(depth) + ']'.repeat(depth);
    if (shape === 'object') return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    return `{"email":${'['.repeat(depth)}"a@b.co"${']'.repeat(depth)}}`;
  });

/** Bodies whose UTF-8 size sits on the 16 KiB limit, padded with ASCII or 2-byte characters. */
export const boundaryArb = fc
  .tuple(fc.integer({ min: -3, max: 3 }), fc.constantFrom(' ', 'é'), validEmail)
  .map(([delta, pad, email]) => {
    const head = `{"email":${JSON.stringify(email)},"padding":"`;
    const tail = '"}';
    const target = MAX_WEBHOOK_BODY_BYTES + delta;
    const room = target - Buffer.byteLength(head + tail);
    const unit = Buffer.byteLength(pad);
    const text = head + pad.repeat(Math.floor(room / unit)) + 'x'.repeat(room % unit) + tail;
    return { text, bytes: Buffer.byteLength(text), email };
  });

export const caseArb: fc.Arbitrary<Case> = fc
  .tuple(
    secretArb,
    contentTypeArb,
    fc.oneof(
      { weight: 6, arbitrary: validBody.map((b) => ({ kind: 'valid', ...b, ok: true })) },
      { weight: 6, arbitrary: adversarialBody.map((b) => ({ kind: 'adversarial', ...b, ok: false })) },
      {
        weight: 2,
        arbitrary: fc.json().map((text) => ({ kind: 'random-json', text, fields: {}, ok: false })),
      },
      {
        weight: 2,
        arbitrary: fc.string({ unit: 'binary', maxLength: 400 }).map((text) => ({
          kind: 'random-text',
          text,
          fields: {},
          ok: false,
        })),
      },
      {
        weight: 1,
        arbitrary: nestingArb.map((text) => ({ kind: 'deep-nesting', text, fields: {}, ok: false })),
      },
      {
        weight: 1,
        arbitrary: boundaryArb.map((b) => ({
          kind: b.bytes > MAX_WEBHOOK_BODY_BYTES ? 'boundary-over' : 'boundary-under',
          text: b.text,
          fields: { email: b.email },
          ok: b.bytes <= MAX_WEBHOOK_BODY_BYTES,
        })),
      },
    ),
    fc.oneof(
      { weight: 6, arbitrary: fc.constant('string' as const) },
      { weight: 2, arbitrary: fc.constant('bytes' as const) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 3_000 }) },
      { weight: 1, arbitrary: fc.constant('absent' as const) },
    ),
    // Mostly absent: a Content-Length that lies, an Idempotency-Key (valid or not).
    fc.oneof(
      { weight: 9, arbitrary: fc.constant(null) },
      { weight: 1, arbitrary: fc.constantFrom('0', '-1', '1e9', `${MAX_WEBHOOK_BODY_BYTES + 1}`, 'abc') },
    ),
    fc.oneof(
      { weight: 6, arbitrary: fc.constant(null) },
      { weight: 2, arbitrary: fc.uuid() },
      { weight: 1, arbitrary: fc.constantFrom('has space', 'x'.repeat(300), 'ünï', '', 'line\nbreak') },
    ),
  )
  .map(([secret, ct, body, encoding, contentLength, idempotencyKey]) => {
    const raw =
      encoding === 'absent'
        ? undefined
        : encoding instanceof Uint8Array
          ? encoding
          : encoding === 'bytes'
            ? new TextEncoder().encode(body.text)
            : body.text;
    const kind =
      encoding instanceof Uint8Array ? 'random-bytes' : encoding === 'absent' ? 'no-body' : body.kind;
    const keyOk = idempotencyKey === null || /^[\x21-\x7e]{1,255}$/.test(idempotencyKey);
    const lengthOk = contentLength === null || !(Number(contentLength) > MAX_WEBHOOK_BODY_BYTES);
    return {
      kind,
      secret: secret.secret,
      secretValid: secret.secretValid,
      contentType: ct.type,
      jsonType: ct.json,
      body: raw,
      ...(contentLength === null ? {} : { contentLength }),
      ...(idempotencyKey === null ? {} : { idempotencyKey }),
      mustAccept:
        body.ok &&
        typeof encoding === 'string' &&
        encoding !== 'absent' &&
        secret.secretValid &&
        ct.json &&
        keyOk &&
        lengthOk,
      sent: Object.values(body.fields)
        .filter((v): v is string => typeof v === 'string')
        .map((v) => v.trim())
        .filter((v) => v.length >= 12),
    };
  });

export function headersOf(c: Case): Record<string, string> {
  const headers: Record<string, string> = {};
  if (c.secret !== undefined) headers['X-Webhook-Secret'] = c.secret;
  if (c.contentType !== undefined) headers['Content-Type'] = c.contentType;
  if (c.contentLength !== undefined) headers['Content-Length'] = c.contentLength;
  if (c.idempotencyKey !== undefined) headers['Idempotency-Key'] = c.idempotencyKey;
  return headers;
}

export const byteLength = (body: Case['body']) =>
  body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;

/** What the documented order of checks says, where it can be known without re-implementing it. */
export function expectedStatus(c: Case): number | 'any' {
  if (c.expectStatus !== undefined) return c.expectStatus;
  if (!c.secretValid) return 401;
  if (byteLength(c.body) > MAX_WEBHOOK_BODY_BYTES || Number(c.contentLength) > MAX_WEBHOOK_BODY_BYTES)
    return 413;
  if (!c.jsonType) return 415;
  if (c.mustAccept) return 202;
  return 'any';
}

export interface Recorded {
  storeWrites: string[];
  sends: unknown[];
}

/** The real adapter, with every call of a write method recorded (name and arguments) before it runs. */
export function observe<T extends object>(
  target: T,
  writes: ReadonlySet<string>,
  record: (method: string, args: unknown[]) => void,
): T {
  return new Proxy(target, {
    get(t, property, receiver) {
      const value = Reflect.get(t, property, receiver);
      if (typeof value !== 'function' || !writes.has(String(property))) return value;
      return (...args: unknown[]) => {
        record(String(property), args);
        return (value as (...a: unknown[]) => unknown).apply(t, args);
      };
    },
  });
}

/**
 * The invariants of every answer, whatever the transport: a documented status (the expected one
 * where the order of checks fixes it), a small JSON body of known keys, no internals, no echo of
 * the secret or of what was sent. Returns the parsed body.
 */
export function expectSafeResponse(
  statusCode: number,
  contentType: string | undefined,
  body: string,
  c: Case,
): Record<string, unknown> {
  expect(STATUSES.has(statusCode), `status ${statusCode}: ${body}`).toBe(true);
  const expected = expectedStatus(c);
  if (expected !== 'any') expect(statusCode, `${c.kind}: ${body}`).toBe(expected);
  expect(contentType).toMatch(/^application\/json/);
  expect(body.length).toBeLessThanOrEqual(600);
  expect(body).not.toMatch(LEAK);
  expect(body).not.toContain(CURRENT.slice(6, 30));
  expect(body).not.toContain(PREVIOUS.slice(6, 30));
  for (const value of c.sent) expect(body).not.toContain(JSON.stringify(value).slice(1, -1));
  const parsed = JSON.parse(body) as Record<string, unknown>;
  const keys = statusCode === 202 ? ['accepted', 'eventId', 'duplicate'] : ['error', 'message', 'fields'];
  expect(
    Object.keys(parsed).every((k) => keys.includes(k)),
    body,
  ).toBe(true);
  if (statusCode !== 202) expect(ERRORS.has(String(parsed.error)), body).toBe(true);
  return parsed;
}
