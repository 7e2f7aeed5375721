import { beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../shared/observability/logger.js';
import { maskedSource, sourceRef } from '../../../shared/optouts/source-ref.js';
import {
  handleUnsubscribeRequest,
  type WebhookDeps,
  type WebhookRequest,
} from '../../../shared/optouts/webhook-request.js';
import { staticWebhookSecrets } from '../../../shared/optouts/webhook-secrets.js';
import { captureJsonOutput } from '../../helpers/captured-output.js';
import { InMemoryOptOutStore } from '../../helpers/in-memory/opt-out-store.js';
import { InMemorySourceRateLimiter } from '../../helpers/in-memory/source-rate-limiter.js';
import { RecordingSender } from './fakes/recording-sender.js';

const SECRET = 'current-secret-0123456789abcdef';
const LIMIT = { requests: 3, perSeconds: 60 };
// 12:00:30: the 60-second window runs 12:00:00–12:01:00, so 30 seconds are left.
const START = Date.parse('2026-10-15T12:00:30.000Z');

describe('POST /webhooks/unsubscribe per-source throttle (optOuts.webhookPerSourceLimit)', () => {
  const output = captureJsonOutput();
  let store: InMemoryOptOutStore;
  let sender: RecordingSender;
  let limiter: InMemorySourceRateLimiter;
  let clock: number;
  let deps: WebhookDeps;
  let seq = 0;

  beforeEach(() => {
    store = new InMemoryOptOutStore();
    sender = new RecordingSender();
    limiter = new InMemorySourceRateLimiter();
    clock = START;
    deps = {
      store,
      sender,
      unsubscribeQueueUrl: 'http://queue.local/sync-unsubscribe',
      secrets: staticWebhookSecrets(SECRET),
      policy: { resubscribeSources: [] },
      logger: createLogger('test', { logLevel: 'INFO' }),
      now: () => new Date(clock),
      sourceThrottle: { limit: LIMIT, limiter },
    };
  });

  const from = (sourceIp: string, secret = SECRET): WebhookRequest => ({
    headers: { 'x-webhook-secret': secret, 'content-type': 'application/json' },
    body: JSON.stringify({ email: `p${seq++}@example.com` }),
    sourceIp,
  });
  const statuses = async (n: number, req: () => WebhookRequest) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await handleUnsubscribeRequest(deps, req())).statusCode);
    return out;
  };

  it('answers the (N+1)th request from one source in the window with 429, Retry-After and a JSON error', async () => {
    expect(await statuses(3, () => from('198.51.100.7'))).toEqual([202, 202, 202]);

    const res = await handleUnsubscribeRequest(deps, from('198.51.100.7'));

    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBe('30');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(res.body)).toEqual({
      error: 'too_many_requests',
      message: 'Too many requests from this source; retry after 30 seconds.',
    });
  });

  it('writes nothing on a 429: no opt-out item, no event claimed, no queue message', async () => {
    await statuses(3, () => from('198.51.100.7'));
    const items = store.itemCount();
    const sent = sender.sent.length;

    expect((await handleUnsubscribeRequest(deps, from('198.51.100.7'))).statusCode).toBe(429);

    expect(store.itemCount()).toBe(items);
    expect(sender.sent.length).toBe(sent);
  });

  it('leaves another source unaffected', async () => {
    await statuses(4, () => from('198.51.100.7'));

    expect(await statuses(3, () => from('198.51.100.8'))).toEqual([202, 202, 202]);
  });

  it('counts an IPv6 source by its /64 (another address of the same subnet is the same source)', async () => {
    await statuses(3, () => from('2001:db8:1:2::1'));

    expect((await handleUnsubscribeRequest(deps, from('2001:db8:1:2:ffff::9'))).statusCode).toBe(429);
    expect((await handleUnsubscribeRequest(deps, from('2001:db8:1:3::1'))).statusCode).toBe(202);
  });

  it('lets the source in again when the window rolls over', async () => {
    await statuses(4, () => from('198.51.100.7'));
    clock = Date.parse('2026-10-15T12:00:59.999Z');
    expect((await handleUnsubscribeRequest(deps, from('198.51.100.7'))).statusCode).toBe(429);

    clock = Date.parse('2026-10-15T12:01:00.000Z');

    expect(await statuses(3, () => from('198.51.100.7'))).toEqual([202, 202, 202]);
    expect((await handleUnsubscribeRequest(deps, from('198.51.100.7'))).statusCode).toBe(429);
  });

  it('counts refused requests too: after N wrong secrets even the right secret gets 429 (slows brute force)', async () => {
    expect(await statuses(3, () => from('203.0.113.5', 'guess'))).toEqual([401, 401, 401]);

    expect(await statuses(2, () => from('203.0.113.5', 'guess'))).toEqual([429, 429]);
    expect((await handleUnsubscribeRequest(deps, from('203.0.113.5'))).statusCode).toBe(429);
    expect(sender.sent).toEqual([]);
  });

  it('counts before the body is read: an invalid body over the limit is 429, not 400', async () => {
    await statuses(3, () => from('198.51.100.7'));

    const res = await handleUnsubscribeRequest(deps, { ...from('198.51.100.7'), body: '{"email":' });

    expect(res.statusCode).toBe(429);
  });

  it('keys the counter by a hash and logs only the masked network, never the address', async () => {
    await statuses(4, () => from('198.51.100.7'));

    expect(new Set(limiter.keys)).toEqual(new Set([sourceRef('198.51.100.7')]));
    expect(sourceRef('198.51.100.7')).toMatch(/^source#[0-9a-f]{16}$/);
    const lines = output();
    const throttled = lines.filter(
      (l) => l.message === 'Webhook throttled: too many requests from one source',
    );
    expect(throttled).toHaveLength(1);
    expect(throttled[0]).toMatchObject({ source: '198.51.100.0/24', retryAfterSeconds: 30, limit: LIMIT });
    expect(JSON.stringify(lines)).not.toContain('198.51.100.7');
  });

  it('fails open when the counter store fails: the unsubscribe is accepted and the failure logged', async () => {
    limiter.fail = Object.assign(new Error('Throughput exceeds the current capacity'), {
      name: 'ProvisionedThroughputExceededException',
    });

    const res = await handleUnsubscribeRequest(deps, from('198.51.100.7'));

    expect(res.statusCode).toBe(202);
    expect(sender.sent).toHaveLength(1);
    const failed = output().filter((l) => l.sourceLimiterFailed === true);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      level: 'ERROR',
      error: { name: 'ProvisionedThroughputExceededException' },
    });
  });

  it('does not count or throttle without the setting', async () => {
    const { sourceThrottle: _, ...unthrottled } = deps;

    for (let i = 0; i < 5; i++)
      expect((await handleUnsubscribeRequest(unthrottled, from('198.51.100.7'))).statusCode).toBe(202);
    expect(limiter.keys).toEqual([]);
  });
});

describe('source references', () => {
  it('masks IPv4 to /24 and IPv6 to /48 (IPv4-mapped addresses as IPv4)', () => {
    expect(maskedSource('192.0.2.77')).toBe('192.0.2.0/24');
    expect(maskedSource('::ffff:192.0.2.77')).toBe('192.0.2.0/24');
    expect(maskedSource('2001:db8:abcd:12::1')).toBe('2001:db8:abcd::/48');
    expect(maskedSource('::1')).toBe('0:0:0::/48');
    expect(maskedSource(undefined)).toBe('unknown');
  });

  it('gives one reference per IPv4 address and per IPv6 /64', () => {
    expect(sourceRef('192.0.2.1')).not.toBe(sourceRef('192.0.2.2'));
    expect(sourceRef('::ffff:192.0.2.1')).toBe(sourceRef('192.0.2.1'));
    expect(sourceRef('2001:db8:0:1::1')).toBe(sourceRef('2001:db8:0:1:abcd::2'));
    expect(sourceRef('2001:db8:0:1::1')).not.toBe(sourceRef('2001:db8:0:2::1'));
    expect(sourceRef('2001:db8::1')).toBe(sourceRef('2001:0db8:0000:0000:ffff::'));
  });
});
