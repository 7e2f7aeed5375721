import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynamoTestServer, startDynamoTestServer } from '../../cli/embedded/local-dynamodb.js';
import { type LocalSqs, startLocalSqs } from '../../cli/embedded/local-sqs.js';
import { DynamoDbOptOutStore } from '../../shared/adapters/dynamodb/opt-out-store.js';
import { SqsMessageSender } from '../../shared/adapters/sqs/sqs-message-sender.js';
import { normaliseEmail } from '../../shared/domain/email.js';
import { createLogger } from '../../shared/observability/logger.js';
import { unsubscribeMessageSchema } from '../../shared/optouts/messages.js';
import {
  handleUnsubscribeRequest,
  MAX_WEBHOOK_BODY_BYTES,
  type WebhookDeps,
  type WebhookResponse,
} from '../../shared/optouts/webhook-request.js';
import { staticWebhookSecrets } from '../../shared/optouts/webhook-secrets.js';
import { ADVERSARIAL_STRINGS, injectionStrings } from './hostile-inputs.js';
import {
  byteLength,
  type Case,
  CURRENT,
  caseArb,
  expectSafeResponse,
  headersOf,
  observe,
  PREVIOUS,
  type Recorded,
  STORE_WRITES,
} from './webhook-cases.js';

/**
 * Fuzzes the whole webhook core (secret check, size limit, content type, UTF-8, JSON, schema,
 * acceptance) against the real adapters: OptOutStore on dynalite and SqsMessageSender on fauxqs.
 * The adapters are observed (a Proxy records which write methods were called), not replaced.
 *
 * Invariants for every input: the core never throws; the status is one of the documented ones;
 * the body is a small generic JSON problem (no stack, no parser or zod internals, no echo of the
 * input or the secret); a refused request calls no write method; an accepted one sends exactly one
 * valid message (none for a replay). At the end the table and the queue hold exactly what the
 * accepted requests wrote. FUZZ_RUNS raises the random run count (default 2,000 in CI).
 */

/** Adversarial strings that are nevertheless addresses Marketo and Salesforce can look up. */
const ACCEPTED_ADVERSARIAL_EMAILS: ReadonlySet<string> = new Set([
  'аdmin@example.com',
  '😀@😀.com',
  'ü@münchen.de',
  '"quoted local"@example.com',
  'a@@example.com',
  'a@example..com',
  '<script>alert(1)</script>@example.com',
  "o'brien@example.com",
]);

const RUNS = Number(process.env.FUZZ_RUNS ?? 2_000);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

describe('webhook core under fuzzing (dynalite + fauxqs)', () => {
  let db: DynamoTestServer;
  let sqs: LocalSqs;
  let deps: WebhookDeps;
  const recorded: Recorded = { storeWrites: [], sends: [] };
  const acceptedKeys = new Set<string>();
  const stats = new Map<string, Map<number, number>>();
  let freshAccepts = 0;
  let total = 0;

  beforeAll(async () => {
    [db, sqs] = await Promise.all([startDynamoTestServer(), startLocalSqs()]);
    deps = {
      store: observe(new DynamoDbOptOutStore(db.doc, db.tables.optOuts), STORE_WRITES, (method) =>
        recorded.storeWrites.push(method),
      ),
      sender: observe(new SqsMessageSender({ client: sqs.client }), new Set(['send']), (_m, args) =>
        recorded.sends.push(...(args[1] as unknown[])),
      ),
      unsubscribeQueueUrl: sqs.queueUrls.unsubscribe,
      secrets: staticWebhookSecrets(CURRENT, PREVIOUS),
      policy: { resubscribeSources: [] },
      logger: createLogger('webhook-fuzz', { logLevel: 'SILENT' }),
    };
  });

  afterAll(async () => {
    const lines = [...stats].map(
      ([kind, byStatus]) =>
        `${kind.padEnd(16)} ${[...byStatus]
          .sort(([a], [b]) => a - b)
          .map(([s, n]) => `${s}:${n}`)
          .join(' ')}`,
    );
    console.info(`webhook fuzz: ${total} inputs (runs ${RUNS})\n${lines.join('\n')}`);
    await Promise.all([db?.stop(), sqs?.stop()]);
  });

  async function check(c: Case): Promise<WebhookResponse> {
    total++;
    const before = { writes: recorded.storeWrites.length, sends: recorded.sends.length };
    let response: WebhookResponse;
    try {
      response = await handleUnsubscribeRequest(deps, { headers: headersOf(c), body: c.body });
    } catch (err) {
      throw new Error(`the core threw on a ${c.kind} input: ${(err as Error).stack}`);
    }
    const byStatus = stats.get(c.kind) ?? new Map<number, number>();
    byStatus.set(response.statusCode, (byStatus.get(response.statusCode) ?? 0) + 1);
    stats.set(c.kind, byStatus);

    const parsed = expectSafeResponse(
      response.statusCode,
      response.headers['content-type'],
      response.body,
      c,
    );

    if (response.statusCode !== 202) {
      // Refused: no write method was even called, so nothing can have been written.
      expect(recorded.storeWrites.length).toBe(before.writes);
      expect(recorded.sends.length).toBe(before.sends);
      return response;
    }
    const sent = recorded.sends.slice(before.sends);
    if (parsed.duplicate) {
      expect(sent).toEqual([]);
    } else {
      expect(sent).toHaveLength(1);
      freshAccepts++;
      const message = unsubscribeMessageSchema.parse(sent[0]);
      // Decoded as the core does (UTF-8, a leading BOM dropped).
      const body = JSON.parse(
        new TextDecoder().decode(typeof c.body === 'string' ? new TextEncoder().encode(c.body) : c.body),
      ) as { email?: string };
      if (typeof body.email === 'string' && body.email.trim() !== '') {
        expect(message.email).toBe(normaliseEmail(body.email));
        expect(message.key).toBe(message.email);
      } else {
        expect(message.key).toMatch(/^lead#\d+$/);
      }
      acceptedKeys.add(message.key);
    }
    return response;
  }

  it(`keeps every invariant over ${RUNS} random requests`, { timeout: 600_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        await check(c);
      }),
      { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }), endOnFailure: true },
    );
  });

  it('answers every fixed adversarial input with its exact status, and pollutes no prototype', {
    timeout: 120_000,
  }, async () => {
    const ok = { secret: CURRENT, secretValid: true, contentType: 'application/json', jsonType: true };
    const fixed: Case[] = [];
    // A body over the limit is refused before it is read, whatever it holds.
    const add = (kind: string, status: number, body: Case['body']) =>
      fixed.push({
        kind,
        ...ok,
        body,
        mustAccept: false,
        sent: [],
        expectStatus: byteLength(body) > MAX_WEBHOOK_BODY_BYTES ? 413 : status,
      });
    for (const s of [...ADVERSARIAL_STRINGS, ...injectionStrings()]) {
      add('fixed-email', ACCEPTED_ADVERSARIAL_EMAILS.has(s) ? 202 : 400, JSON.stringify({ email: s }));
      // Any text up to 2,000 characters is a reason; only the 20,000-character one is too long.
      add(
        'fixed-reason',
        s.length <= 2_000 ? 202 : 400,
        JSON.stringify({ email: 'fixed@example.com', reason: s }),
      );
      add('fixed-leadid', 400, JSON.stringify({ leadId: s }));
    }
    for (const key of ['__proto__', 'constructor', 'prototype'])
      add(
        'fixed-pollution',
        202,
        `{"email":"p@example.com","${key}":{"polluted":true,"email":"x@evil.test"}}`,
      );
    // JSON.parse makes "__proto__" an own key; the schema must not read through it.
    add('fixed-pollution', 400, '{"__proto__":{"email":"only-proto@example.com"}}');
    add('fixed-pollution', 400, '{"constructor":{"prototype":{"email":"proto@example.com"}}}');
    add('fixed-duplicate-key', 202, '{"email":"not-an-email","email":"second@example.com"}');
    add('fixed-huge', 413, `{"email":"h@example.com","reason":"${'x'.repeat(1_000_000)}"}`);
    add('fixed-huge', 413, 'x'.repeat(5_000_000));
    add('fixed-bom', 202, '\uFEFF{"email":"bom@example.com"}');
    add('fixed-invalid-utf8', 400, new Uint8Array([0x7b, 0x22, 0x65, 0xff, 0xfe, 0x22, 0x7d]));
    add('fixed-lone-surrogate', 400, '{"email":"\\ud800@example.com"}');
    add('fixed-empty', 400, '');
    add('fixed-empty', 400, '   \n\t ');
    add('fixed-null', 400, 'null');
    add('fixed-scalar', 400, '42');
    add('fixed-scalar', 400, '"a@b.co"');
    add('fixed-array', 400, '[{"email":"a@b.co"}]');
    add(
      'fixed-nesting',
      400,
      `${'['.repeat(100_000)}${']'.repeat(100_000)}`.slice(0, MAX_WEBHOOK_BODY_BYTES),
    );
    add('fixed-number', 400, '{"leadId":1e400}');
    add('fixed-number', 400, '{"leadId":-0}');
    add('fixed-lenient', 400, '{"email":"","leadId":""}');
    add('fixed-lenient', 400, '{"email":null,"leadId":null}');

    const prototypeKeys = () => Object.getOwnPropertyNames(Object.prototype).sort();
    const baseline = prototypeKeys();
    for (const c of fixed) {
      const res = await check(c);
      expect(res.statusCode, `${c.kind} ${String(c.body).slice(0, 80)}`).toBe(c.expectStatus);
      expect(prototypeKeys()).toEqual(baseline);
      const probe: Record<string, unknown> = {};
      expect([probe.polluted, probe.email]).toEqual([undefined, undefined]);
    }
    // What a polluted body was stored under: its own email, never the nested one.
    const pollutedSends = recorded.sends
      .map((m) => unsubscribeMessageSchema.parse(m))
      .filter(
        (m) =>
          m.email === 'x@evil.test' ||
          m.email === 'only-proto@example.com' ||
          m.email === 'proto@example.com',
      );
    expect(pollutedSends).toEqual([]);
  });

  it('leaves in the table and the queue exactly what the accepted requests wrote', async () => {
    const items: Record<string, unknown>[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await db.doc.send(new ScanCommand({ TableName: db.tables.optOuts, ExclusiveStartKey }));
      items.push(...(page.Items ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    expect(items.length).toBeGreaterThan(0);
    for (const item of items) expect(acceptedKeys.has(String(item.email)), String(item.email)).toBe(true);

    let received = 0;
    for (;;) {
      const res = await sqs.client.send(
        new ReceiveMessageCommand({
          QueueUrl: sqs.queueUrls.unsubscribe,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 300,
        }),
      );
      const messages = res.Messages ?? [];
      if (messages.length === 0) break;
      for (const m of messages) {
        const message = unsubscribeMessageSchema.parse(JSON.parse(m.Body ?? ''));
        expect(acceptedKeys.has(message.key)).toBe(true);
      }
      received += messages.length;
    }
    expect(received).toBe(freshAccepts);
  });
});
