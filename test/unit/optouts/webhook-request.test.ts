import { beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../shared/observability/logger.js';
import { unsubscribeMessageSchema } from '../../../shared/optouts/messages.js';
import { InvalidSourceAllowListError, sourceAllowList } from '../../../shared/optouts/source-allow-list.js';
import {
  handleUnsubscribeRequest,
  MAX_WEBHOOK_BODY_BYTES,
  type WebhookDeps,
  type WebhookRequest,
} from '../../../shared/optouts/webhook-request.js';
import { staticWebhookSecrets } from '../../../shared/optouts/webhook-secrets.js';
import { InMemoryOptOutStore } from '../../helpers/in-memory/opt-out-store.js';
import { RecordingSender } from './fakes/recording-sender.js';

const CURRENT = 'current-secret-0123456789abcdef';
const PREVIOUS = 'previous-secret-fedcba9876543210';
const QUEUE = 'http://queue.local/sync-unsubscribe';

describe('POST /webhooks/unsubscribe (core handler)', () => {
  let store: InMemoryOptOutStore;
  let sender: RecordingSender;
  let deps: WebhookDeps;

  beforeEach(async () => {
    store = new InMemoryOptOutStore();
    sender = new RecordingSender();
    deps = {
      store,
      sender,
      unsubscribeQueueUrl: QUEUE,
      secrets: staticWebhookSecrets(CURRENT, PREVIOUS),
      policy: { resubscribeSources: [] },
      logger: createLogger('test', { logLevel: 'SILENT' }),
      now: () => new Date('2026-10-15T12:00:00.000Z'),
    };
  });

  const request = (over: Partial<{ headers: Record<string, string>; body: string | Uint8Array }> = {}) =>
    ({
      headers: { 'X-Webhook-Secret': CURRENT, 'Content-Type': 'application/json', ...over.headers },
      body: over.body ?? JSON.stringify({ email: 'someone@example.com', leadId: 42 }),
    }) satisfies WebhookRequest;

  async function itemCount(): Promise<number> {
    return store.itemCount();
  }

  async function expectRefused(req: WebhookRequest, status: number, pattern?: RegExp) {
    const before = await itemCount();
    const res = await handleUnsubscribeRequest(deps, req);
    expect(res.statusCode).toBe(status);
    if (pattern) expect(JSON.parse(res.body).message).toMatch(pattern);
    expect(await itemCount()).toBe(before);
    expect(sender.sent).toEqual([]);
    return JSON.parse(res.body) as { error: string; message: string; fields?: string[] };
  }

  it('refuses a request without X-Webhook-Secret with 401 and writes nothing', async () => {
    const { headers } = request();
    const { 'X-Webhook-Secret': _, ...rest } = headers;
    await expectRefused({ headers: rest, body: request().body }, 401);
  });

  it('refuses a wrong secret with 401 and writes nothing', async () => {
    await expectRefused(request({ headers: { 'X-Webhook-Secret': `${CURRENT}x` } }), 401);
    await expectRefused(request({ headers: { 'X-Webhook-Secret': '' } }), 401);
  });

  it('accepts both the current and the previous secret during a rotation', async () => {
    const a = await handleUnsubscribeRequest(
      deps,
      request({ body: JSON.stringify({ email: 'rot-a@example.com' }) }),
    );
    const b = await handleUnsubscribeRequest(
      deps,
      request({
        headers: { 'x-webhook-secret': PREVIOUS },
        body: JSON.stringify({ email: 'rot-b@example.com' }),
      }),
    );
    expect([a.statusCode, b.statusCode]).toEqual([202, 202]);
  });

  // The constant-time comparison itself: webhook-secret-compare.test.ts.

  it('answers malformed JSON with 400 naming the problem, and writes nothing', async () => {
    const body = await expectRefused(
      request({ body: '{"email": "a@example.com",' }),
      400,
      /^Body is not valid JSON\.$/,
    );
    expect(body.error).toBe('malformed_json');
  });

  it('answers a body with neither email nor leadId with 400 naming the field', async () => {
    const body = await expectRefused(
      request({ body: JSON.stringify({ reason: 'x' }) }),
      400,
      /email or leadId/,
    );
    expect(body.fields).toEqual(['email']);
  });

  it('names a wrongly typed field', async () => {
    const body = await expectRefused(
      request({ body: JSON.stringify({ leadId: 'forty-two' }) }),
      400,
      /^leadId: /,
    );
    expect(body.fields).toEqual(['leadId']);
    await expectRefused(request({ body: JSON.stringify({ email: 'not-an-email' }) }), 400, /^email: /);
    await expectRefused(
      request({ body: JSON.stringify({ email: 'a@b.co', occurredAt: 'tuesday' }) }),
      400,
      /occurredAt/,
    );
    await expectRefused(request({ body: '[]' }), 400, /JSON object/);
  });

  it('refuses a 17 KiB body with 413 before parsing it', async () => {
    const big = `{"email":"big@example.com","reason":"${'x'.repeat(17 * 1024)}"}`;
    await expectRefused(request({ body: big }), 413);
    // Not even parsed: broken JSON of that size is still a 413, not a 400.
    await expectRefused(request({ body: `{${'x'.repeat(MAX_WEBHOOK_BODY_BYTES)}` }), 413);
  });

  it('refuses text/plain with 415', async () => {
    await expectRefused(request({ headers: { 'Content-Type': 'text/plain' } }), 415);
    await expectRefused(request({ headers: { 'Content-Type': '' } }), 415);
  });

  it('accepts application/json with a charset', async () => {
    const res = await handleUnsubscribeRequest(
      deps,
      request({
        headers: { 'content-type': 'application/json; charset=UTF-8' },
        body: JSON.stringify({ email: 'charset@example.com' }),
      }),
    );
    expect(res.statusCode).toBe(202);
  });

  it('accepts an email with quotes and SOQL-like text and stores it as data, normalised', async () => {
    const email = "  O'Brien'OR'1'='1+x\\\"@Example.com ";
    const res = await handleUnsubscribeRequest(
      deps,
      request({ body: JSON.stringify({ email, leadId: 7, reason: "') OR Id != null --" }) }),
    );
    expect(res.statusCode).toBe(202);
    const key = "o'brien'or'1'='1+x\\\"@example.com";
    const stored = await deps.store.get(key);
    expect(stored?.state.optedOut).toBe(true);
    const msg = unsubscribeMessageSchema.parse(sender.sent[0]?.body);
    expect(msg).toMatchObject({ email: key, leadId: 7, key });
  });

  it('durably accepts: state, history, event and queue message, then 202 with the event id', async () => {
    const res = await handleUnsubscribeRequest(
      deps,
      request({
        body: JSON.stringify({
          email: 'Durable@Example.com',
          leadId: '1001',
          reason: 'Unsubscribed via link',
          occurredAt: '2026-10-15T11:59:58Z',
        }),
      }),
    );
    expect(res.statusCode).toBe(202);
    const body = JSON.parse(res.body) as { accepted: boolean; eventId: string };
    expect(body.accepted).toBe(true);
    const key = 'durable@example.com';
    const state = await deps.store.get(key);
    expect(state?.state).toMatchObject({
      optedOut: true,
      optedOutAt: '2026-10-15T11:59:58.000Z',
      webhookAt: '2026-10-15T11:59:58.000Z',
    });
    const history = await deps.store.history(key);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ kind: 'observed', source: 'webhook', verdict: 'optOut' });
    expect(await deps.store.getEvent(key, body.eventId)).toMatchObject({ status: 'queued', leadId: 1001 });
    expect(sender.sent).toEqual([
      {
        queueUrl: QUEUE,
        body: {
          kind: 'unsubscribe',
          eventId: body.eventId,
          key,
          email: key,
          leadId: 1001,
          reason: 'Unsubscribed via link',
          at: '2026-10-15T11:59:58.000Z',
          receivedAt: '2026-10-15T12:00:00.000Z',
        },
      },
    ]);
  });

  it('applies a replayed event once: same event id, nothing sent again', async () => {
    const req = request({
      body: JSON.stringify({ email: 'replay@example.com', occurredAt: '2026-10-15T11:00:00Z' }),
    });
    const first = await handleUnsubscribeRequest(deps, req);
    const second = await handleUnsubscribeRequest(deps, req);
    expect(JSON.parse(second.body)).toEqual({ ...JSON.parse(first.body), duplicate: true });
    expect(sender.sent).toHaveLength(1);
    expect(await deps.store.history('replay@example.com')).toHaveLength(1);
  });

  it('scopes the Idempotency-Key by the body: same key and body is one event, another body another', async () => {
    const send = (body: Record<string, unknown>) =>
      handleUnsubscribeRequest(
        deps,
        request({ headers: { 'Idempotency-Key': 'req-1' }, body: JSON.stringify(body) }),
      );
    const a = JSON.parse((await send({ email: 'idem@example.com' })).body);
    const replay = JSON.parse((await send({ email: 'idem@example.com' })).body);
    const other = JSON.parse((await send({ email: 'idem@example.com', reason: 'again' })).body);
    expect(replay).toEqual({ ...a, duplicate: true });
    expect(other.eventId).not.toBe(a.eventId);
    expect(other.duplicate).toBeUndefined();
    expect(sender.sent).toHaveLength(2);
  });

  it('without a key, the same body is one event within its receipt minute and a new one later', async () => {
    let now = new Date('2026-10-15T12:00:05.000Z');
    deps.now = () => now;
    const req = request({ body: JSON.stringify({ email: 'again@example.com' }) });
    const first = JSON.parse((await handleUnsubscribeRequest(deps, req)).body);
    now = new Date('2026-10-15T12:00:55.000Z');
    const sameMinute = JSON.parse((await handleUnsubscribeRequest(deps, req)).body);
    // A genuine second unsubscribe the same day (say after a resubscribe) is not dropped.
    now = new Date('2026-10-15T15:30:00.000Z');
    const later = JSON.parse((await handleUnsubscribeRequest(deps, req)).body);
    expect(sameMinute).toEqual({ ...first, duplicate: true });
    expect(later.eventId).not.toBe(first.eventId);
    expect(later.duplicate).toBeUndefined();
    expect(sender.sent).toHaveLength(2);
    expect(await deps.store.history('again@example.com')).toHaveLength(2);
  });

  it('refuses addresses that cannot be a key with 400 naming the field, never quoting the address', async () => {
    const cases: [string, RegExp][] = [
      ['zero\u200bwidth@example.com', /^email: .*invisible/],
      ['\u212aelvin@example.com', /^email: .*stand in for ASCII/],
      ['a,b@example.com', /^email: .*comma/],
      ['\uff46ull@example.com', /^email: .*stand in for ASCII/],
    ];
    for (const [email, message] of cases) {
      const body = await expectRefused(request({ body: `{"email":"${email}"}` }), 400, message);
      expect(body.fields).toEqual(['email']);
      expect(body.message).not.toMatch(/@|example|a,b/);
    }
  });

  it('keys an internationalised address by its NFC form with an ASCII domain', async () => {
    const res = await handleUnsubscribeRequest(
      deps,
      request({ body: JSON.stringify({ email: ' Ju\u0308rgen@M\u00fcnchen.DE ' }) }),
    );
    expect(res.statusCode).toBe(202);
    expect(sender.sent[0]?.body).toMatchObject({ key: 'j\u00fcrgen@xn--mnchen-3ya.de' });
  });

  it('completes a half-done acceptance when the sender retries after a queue outage', async () => {
    sender.failNext = 1;
    const req = request({
      body: JSON.stringify({ email: 'outage@example.com', occurredAt: '2026-10-15T10:00:00Z' }),
    });
    await expect(handleUnsubscribeRequest(deps, req)).rejects.toThrow();
    const retry = await handleUnsubscribeRequest(deps, req);
    expect(retry.statusCode).toBe(202);
    expect(JSON.parse(retry.body).duplicate).toBeUndefined();
    expect(sender.sent).toHaveLength(1);
    expect(await deps.store.history('outage@example.com')).toHaveLength(1);
  });

  it('refuses sources outside the optional allow-list with 403 before anything else', async () => {
    deps.allowedSources = ['192.28.144.0/20', '2001:db8::/32', '52.20.211.99'];
    const from = (sourceIp: string | undefined, email: string) => ({
      ...request({ body: JSON.stringify({ email }) }),
      ...(sourceIp ? { sourceIp } : {}),
    });
    for (const ip of ['192.28.160.1', '10.0.0.1', '52.20.211.98', undefined, 'not-an-ip']) {
      const body = await expectRefused(from(ip, 'outside@example.com'), 403);
      expect(body.error).toBe('forbidden_source');
    }
    // Even a wrong secret is answered 403: an outsider learns nothing about the secret.
    await expectRefused(
      { ...from('10.0.0.1', 'x@example.com'), headers: { 'X-Webhook-Secret': 'nope' } },
      403,
    );
    for (const [ip, email] of [
      ['192.28.159.254', 'in-a@example.com'],
      ['::ffff:192.28.144.7', 'in-b@example.com'],
      ['2001:db8:1::5', 'in-c@example.com'],
      ['52.20.211.99', 'in-d@example.com'],
    ] as const) {
      expect((await handleUnsubscribeRequest(deps, from(ip, email))).statusCode, ip).toBe(202);
    }
    expect(() => sourceAllowList(['192.28.144.0/33'])).toThrow(InvalidSourceAllowListError);
    expect(() => sourceAllowList(['example.com'])).toThrow(/not an IPv4\/IPv6 address or CIDR/);
  });

  it('accepts a body with only a lead id and records it under the lead', async () => {
    const res = await handleUnsubscribeRequest(deps, request({ body: JSON.stringify({ leadId: 555 }) }));
    expect(res.statusCode).toBe(202);
    const { eventId } = JSON.parse(res.body) as { eventId: string };
    expect(await deps.store.getEvent('lead#555', eventId)).toMatchObject({ status: 'queued', leadId: 555 });
    expect(sender.sent[0]?.body).toMatchObject({ key: 'lead#555', leadId: 555 });
  });
});
