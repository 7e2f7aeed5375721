import { afterEach, describe, expect, it } from 'vitest';
import { fault } from '../../../sandboxes/marketo/fault-controller.js';
import { InMemoryCallGovernor } from '../../../shared/adapters/marketo/call-governor.js';
import { MarketoClient } from '../../../shared/adapters/marketo/marketo-client.js';
import type { Activity } from '../../../shared/domain/activity.js';
import {
  MarketoApiError,
  MarketoAuthError,
  MarketoDailyQuotaError,
  MarketoPagingTokenError,
  MarketoParkedError,
  MarketoRequestError,
  MarketoTransportError,
} from '../../../shared/ports/marketo-errors.js';
import { type Harness, silentLogger, startHarness } from './helpers.js';

const TYPES = 'GET /rest/v1/activities/types.json';
const IDENTITY = 'GET /identity/oauth/token';
const DAY = 86_400_000;

let h: Harness | undefined;
afterEach(async () => {
  await h?.sandbox.stop();
  h = undefined;
});

async function readAll(
  harness: Harness,
  since: Date,
  typeIds: number[],
  batchSize = 300,
): Promise<{ items: Activity[]; pages: { size: number; more: boolean }[] }> {
  let token = await harness.client.getPagingToken(since);
  const items: Activity[] = [];
  const pages: { size: number; more: boolean }[] = [];
  for (;;) {
    const page = await harness.client.getActivities({
      nextPageToken: token,
      activityTypeIds: typeIds,
      batchSize,
    });
    items.push(...page.items);
    pages.push({ size: page.items.length, more: page.moreResult });
    token = page.nextPageToken;
    if (!page.moreResult) return { items, pages };
  }
}

describe('MarketoClient authentication', () => {
  it('caches the token: two calls, one identity request, Bearer header only', async () => {
    h = await startHarness();

    await h.client.getActivityTypes();
    await h.client.getActivityTypes();

    expect(h.sandbox.stats.count(IDENTITY)).toBe(1);
    expect(h.client.identityCalls()).toBe(1);
    const rest = h.sandbox.stats.requests.filter((r) => r.path.startsWith('/rest/'));
    expect(rest).toHaveLength(2);
    for (const r of rest) {
      expect(r.headers.authorization).toBe('Bearer <redacted>');
      expect(r.query).not.toHaveProperty('access_token');
    }
    expect(h.client.callCounts()).toEqual({ total: 2, byEndpoint: { [TYPES]: 2 }, errors: {} });
  });

  it('renews the token before it expires, without ever sending an expired one', async () => {
    h = await startHarness({ sandbox: { tokenLifetimeSec: 3600 } });
    await h.client.getActivityTypes();

    h.now.value += 3570_000; // 30 s of life left: inside the 60 s renewal margin
    await h.client.getActivityTypes();
    h.now.value += 31_000; // the sandbox token has now expired
    await h.client.getActivityTypes();

    expect(h.sandbox.stats.count(IDENTITY, '200')).toBe(3);
    expect(h.sandbox.stats.count(TYPES, '200')).toBe(3);
    expect(h.sandbox.stats.count(TYPES, '602')).toBe(0);
  });

  it('re-authenticates once after 602 (expired) and retries', async () => {
    h = await startHarness();
    await h.client.getActivityTypes();
    h.sandbox.expireTokens();

    const types = await h.client.getActivityTypes();

    expect(types.length).toBeGreaterThan(10);
    expect(h.sandbox.stats.count(TYPES, '602')).toBe(1);
    expect(h.sandbox.stats.count(TYPES, '200')).toBe(2);
    expect(h.sandbox.stats.count(IDENTITY)).toBe(2);
    expect(h.client.callCounts().errors).toEqual({ '602': 1 });
  });

  it('re-authenticates once after 601, and gives up with MarketoAuthError on a second 601', async () => {
    h = await startHarness();
    h.sandbox.revokeTokens();
    await h.client.getActivityTypes();
    expect(h.sandbox.stats.count(TYPES, '601')).toBe(0); // no token cached yet: first call authenticates

    h.sandbox.revokeTokens();
    await h.client.getActivityTypes();
    expect(h.sandbox.stats.count(TYPES, '601')).toBe(1);

    h.sandbox.faults.failNext(2, fault.code('601'), 'activities/types.json');
    const err = await h.client.getActivityTypes().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MarketoAuthError);
    expect((err as MarketoAuthError).code).toBe('601');
    expect(h.sandbox.stats.count(TYPES, '601')).toBe(3);
  });

  it('throws MarketoAuthError on bad client credentials (HTTP 401) without retrying', async () => {
    h = await startHarness({ client: { clientSecret: 'wrong' } });

    const err = await h.client.getActivityTypes().catch((e: unknown) => e);

    expect(err).toBeInstanceOf(MarketoAuthError);
    expect((err as MarketoAuthError).status).toBe(401);
    expect(h.sandbox.stats.count(IDENTITY, 'http401')).toBe(1);
    expect(h.client.callCounts().total).toBe(0);
  });
  it('retries an unreachable identity endpoint through the same retry table as every call', async () => {
    h = await startHarness();
    h.sandbox.faults.failNext(2, fault.http(500), 'identity/oauth/token');

    await h.client.getActivityTypes();

    expect(h.client.identityCalls()).toBe(3);
    expect(h.sandbox.stats.count(TYPES, '200')).toBe(1);
    // The transient backoff of the retry table (full jitter, random()=0.5): 0.5·500, 0.5·1000
    expect(h.sleeps).toEqual([250, 500]);
  });

  it('gives up on an unreachable identity endpoint after maxAttempts with MarketoTransportError', async () => {
    h = await startHarness({ client: { retry: { maxAttempts: 2 } } });
    h.sandbox.faults.failNext(5, fault.http(503), 'identity/oauth/token');

    const err = await h.client.getActivityTypes().catch((e: unknown) => e);

    expect(err).toBeInstanceOf(MarketoTransportError);
    expect((err as MarketoTransportError).endpoint).toBe(IDENTITY);
    expect((err as MarketoTransportError).attempts).toBe(2);
    expect(h.client.identityCalls()).toBe(2);
    expect(h.client.callCounts().total).toBe(0);
  });
});

describe('MarketoClient retry table', () => {
  it.each([
    ['502', fault.code('502')],
    ['604', fault.code('604')],
    ['608', fault.code('608')],
    ['611', fault.code('611')],
    ['614', fault.code('614')],
    ['713', fault.code('713')],
    ['http500', fault.http(500)],
    ['drop', fault.drop()],
  ])('retries transient %s with backoff and succeeds', async (result, f) => {
    h = await startHarness();
    h.sandbox.faults.failNext(2, f, 'activities/types.json');

    await h.client.getActivityTypes();

    expect(h.sandbox.stats.count(TYPES, result)).toBe(2);
    expect(h.sandbox.stats.count(TYPES, '200')).toBe(1);
    // Full jitter with random()=0.5: 0.5·500, 0.5·1000
    expect(h.sleeps).toEqual([250, 500]);
  });

  it('retries a timed-out call (hang longer than the client timeout) and succeeds', async () => {
    h = await startHarness({ client: { timeouts: { activities: 250 } } });
    h.sandbox.faults.failNext(1, fault.timeout(5_000), 'activities/types.json');

    await h.client.getActivityTypes();

    expect(h.client.callCounts().errors).toEqual({ timeout: 1 });
    expect(h.sandbox.stats.count(TYPES, '200')).toBe(1);
  });

  it('gives up after maxAttempts with a retryable MarketoApiError', async () => {
    h = await startHarness({ client: { retry: { maxAttempts: 3 } } });
    h.sandbox.faults.failNext(5, fault.code('608'), 'activities/types.json');

    const err = await h.client.getActivityTypes().catch((e: unknown) => e);

    expect(err).toBeInstanceOf(MarketoApiError);
    expect(err).toMatchObject({ code: '608', retryable: true, attempts: 3, endpoint: TYPES });
    expect(h.sandbox.stats.count(TYPES)).toBe(3);
  });

  it('waits out the 20 s window after 606 and retries', async () => {
    h = await startHarness();
    h.sandbox.faults.failNext(1, fault.code('606'), 'activities/types.json');

    await h.client.getActivityTypes();

    expect(h.sleeps).toEqual([20_000 + 1_000]); // window + 0.5 · 2 s jitter
    expect(h.sandbox.stats.count(TYPES, '200')).toBe(1);
  });

  it('survives the sandbox really enforcing 606 (rate) and 615 (concurrency)', async () => {
    h = await startHarness({
      realSleep: true,
      sandbox: { limits: { callsPerWindow: 5, windowMs: 600, maxConcurrent: 2 }, latency: { ms: 40 } },
      client: {
        retry: {
          rateLimitWindowMs: 600,
          rateLimitJitterMs: 100,
          concurrencyBaseDelayMs: 40,
          maxAttempts: 10,
        },
      },
    });

    const results = await Promise.all(Array.from({ length: 8 }, () => h!.client.getActivityTypes()));

    expect(results).toHaveLength(8);
    expect(h.sandbox.stats.count(TYPES, '200')).toBe(8);
    expect(h.sandbox.stats.count(TYPES, '606') + h.sandbox.stats.count(TYPES, '615')).toBeGreaterThan(0);
    expect(h.sandbox.stats.maxConcurrentObserved).toBeLessThanOrEqual(2);
  });

  it('on 607 throws MarketoDailyQuotaError resetting at next 00:00 America/Chicago and parks every caller', async () => {
    const now = { value: Date.parse('2026-10-15T12:00:00Z') };
    const governor = new InMemoryCallGovernor(
      { callsPerWindow: 100, maxConcurrent: 5 },
      { clock: () => now.value, maxParkWaitMs: 1_000 },
    );
    h = await startHarness({ governor, sandbox: { limits: { dailyQuota: 2 } } });
    await h.client.getActivityTypes();
    await h.client.getActivityTypes();

    const err = await h.client.getActivityTypes().catch((e: unknown) => e);

    expect(err).toBeInstanceOf(MarketoDailyQuotaError);
    // 2026-10-15 is CDT (UTC-5): midnight Chicago = 05:00Z next day.
    expect((err as MarketoDailyQuotaError).resetAt.toISOString()).toBe('2026-10-16T05:00:00.000Z');
    const parked = await governor.acquire().catch((e: unknown) => e);
    expect(parked).toBeInstanceOf(MarketoParkedError);
    expect((parked as MarketoParkedError).until.toISOString()).toBe('2026-10-16T05:00:00.000Z');
    // A second client sharing the governor makes no call at all.
    const other = new MarketoClient({
      baseUrl: h.sandbox.baseUrl,
      ...h.sandbox.credentials,
      governor,
      logger: silentLogger,
    });
    await expect(other.getActivityTypes()).rejects.toBeInstanceOf(MarketoParkedError);
    expect(h.sandbox.stats.count(TYPES)).toBe(3);
  });

  it('does not retry non-retryable errors and carries code, message and requestId', async () => {
    h = await startHarness();

    const err = await h.client
      .getLeads({ filterType: 'id', filterValues: [1000], fields: ['bogusField'] })
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(MarketoApiError);
    expect(err).toMatchObject({
      code: '1006',
      attempts: 1,
      retryable: false,
      endpoint: 'GET /rest/v1/leads.json',
    });
    expect((err as MarketoApiError).requestId).toMatch(/^[0-9a-f]{4}#[0-9a-f]+$/);
    expect((err as MarketoApiError).message).toContain("Field 'bogusField' not found");
    expect(h.sandbox.stats.count('GET /rest/v1/leads.json')).toBe(1);
  });

  it('603 (access denied) is not retried', async () => {
    h = await startHarness();
    h.sandbox.faults.failNext(1, fault.code('603'), 'activities/types.json');

    await expect(h.client.getActivityTypes()).rejects.toMatchObject({ name: 'MarketoApiError', code: '603' });
    expect(h.sandbox.stats.count(TYPES)).toBe(1);
  });

  it('does not blindly re-send Add Custom Activities after a dropped connection (no idempotency key)', async () => {
    h = await startHarness();
    h.sandbox.faults.failNext(1, fault.drop(), 'activities/external.json');

    const err = await h.client
      .addCustomActivities([
        {
          leadId: 1000,
          activityDate: '2026-10-15T10:00:00Z',
          activityTypeId: 100001,
          primaryAttributeValue: 'Zero Trust in Practice',
        },
      ])
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(MarketoTransportError);
    expect(err).toMatchObject({ failure: 'network', ambiguous: true, attempts: 1 });
    expect(h.sandbox.stats.count('POST /rest/v1/activities/external.json')).toBe(1);
  });
});

describe('MarketoClient activity paging', () => {
  it('keeps paging through short and empty pages until moreResult is false, missing nothing', async () => {
    h = await startHarness({
      sandbox: { paging: { shortPageProbability: 0.3, emptyPageProbability: 0.25 } },
    });
    const since = new Date(h.now.value - 10 * DAY);
    const types = [6, 7, 10, 11];

    const { items, pages } = await readAll(h, since, types, 100);

    const expected = h.sandbox.world
      .visibleActivities(h.now.value, types, since.getTime())
      .map((a) => a.marketoGUID);
    expect(items.map((a) => a.marketoGUID)).toEqual(expected);
    expect(pages.some((p) => p.size === 0 && p.more)).toBe(true);
    expect(pages.some((p) => p.size > 0 && p.size < 100 && p.more)).toBe(true);
    expect(pages.at(-1)?.more).toBe(false);
  });

  it('URL-encodes the paging token (it contains + / =)', async () => {
    h = await startHarness();
    const token = await h.client.getPagingToken(new Date(h.now.value - DAY));
    expect(token).toMatch(/[+/=]/);

    await h.client.getActivities({ nextPageToken: token, activityTypeIds: [6] });

    const sent = h.sandbox.stats.requests.find((r) => r.path === '/rest/v1/activities.json');
    expect(sent?.query.nextPageToken).toBe(token);
    expect(sent?.result).toBe('200');
  });

  it('late-committed Send Email appears only once visible: a re-read with overlap finds it', async () => {
    h = await startHarness();
    const lead = h.sandbox.world.leads[0]!;
    const late = h.sandbox.world.addActivity({
      leadId: lead.id,
      activityDate: new Date(h.now.value - 30 * 60_000).toISOString(),
      activityTypeId: 6,
      primaryAttributeValue: '2026-10 Newsletter.Newsletter Email',
      visibleAtMs: h.now.value + 10 * 60_000,
    });
    const since = new Date(h.now.value - 60 * 60_000);

    const first = await readAll(h, since, [6]);
    h.now.value += 15 * 60_000;
    const second = await readAll(h, since, [6]);

    expect(first.items.map((a) => a.marketoGUID)).not.toContain(late.marketoGUID);
    expect(second.items.map((a) => a.marketoGUID)).toContain(late.marketoGUID);
  });

  it('enforces at most 10 activity type ids client-side, before any request', async () => {
    h = await startHarness();

    const err = await h.client
      .getActivities({ nextPageToken: 'x', activityTypeIds: [1, 2, 3, 6, 7, 10, 11, 22, 24, 25, 39] })
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(MarketoRequestError);
    expect((err as Error).message).toContain('1 to 10');
    expect(h.sandbox.stats.requests).toHaveLength(0);
  });

  it('the sandbox itself refuses 11 type ids with 1003', async () => {
    h = await startHarness();
    const token = await h.client.getPagingToken(new Date(h.now.value - DAY));
    const res = await fetch(
      `${h.sandbox.baseUrl}/rest/v1/activities.json?activityTypeIds=1,2,3,4,5,6,7,8,9,10,11&nextPageToken=${encodeURIComponent(token)}`,
      { headers: { authorization: `Bearer ${await tokenOf(h)}` } },
    );
    expect(await res.json()).toMatchObject({ success: false, errors: [{ code: '1003' }] });
  });

  it('a refused paging token is a MarketoPagingTokenError, and a regenerated token works', async () => {
    h = await startHarness();
    const token = await h.client.getPagingToken(new Date(h.now.value - DAY));
    h.sandbox.faults.failNext(1, fault.pagingTokenRejected(), 'activities.json');

    const err = await h.client
      .getActivities({ nextPageToken: token, activityTypeIds: [6] })
      .catch((e: unknown) => e);
    const fresh = await h.client.getPagingToken(new Date(h.now.value - DAY));
    const page = await h.client.getActivities({ nextPageToken: fresh, activityTypeIds: [6] });

    expect(err).toBeInstanceOf(MarketoPagingTokenError);
    expect(err).toMatchObject({ code: '1003', attempts: 1 });
    expect(page.items.length).toBeGreaterThan(0);
  });

  it('expired paging tokens (sandbox TTL) are refused as MarketoPagingTokenError', async () => {
    h = await startHarness({
      sandbox: { paging: { shortPageProbability: 0, emptyPageProbability: 0, tokenTtlMs: 60_000 } },
    });
    const token = await h.client.getPagingToken(new Date(h.now.value - DAY));
    h.now.value += 61_000;

    await expect(
      h.client.getActivities({ nextPageToken: token, activityTypeIds: [6] }),
    ).rejects.toBeInstanceOf(MarketoPagingTokenError);
  });

  it('reads unsubscribes through lead changes, and deleted leads', async () => {
    h = await startHarness();
    const [a, b] = h.sandbox.world.leads;
    await h.client.syncLeads({
      action: 'updateOnly',
      lookupField: 'id',
      input: [{ id: a!.id, unsubscribed: true, unsubscribedReason: 'Webhook unsubscribe' }],
    });
    h.sandbox.world.deleteLead(b!.id, h.now.value);
    const token = await h.client.getPagingToken(new Date(h.now.value - 1000));

    const changes = await h.client.getLeadChanges({ nextPageToken: token, fields: ['unsubscribed'] });
    const deleted = await h.client.getDeletedLeads({ nextPageToken: token });

    expect(changes.items).toHaveLength(1);
    expect(changes.items[0]).toMatchObject({
      leadId: a!.id,
      activityTypeId: 13,
      fields: [{ name: 'unsubscribed', newValue: 'true', oldValue: 'false' }],
    });
    expect(deleted.items.map((d) => [d.leadId, d.activityTypeId])).toEqual([[b!.id, 37]]);
  });
});

describe('MarketoClient leads', () => {
  it('splits more than 300 filter values into calls of at most 300', async () => {
    h = await startHarness();
    const ids = h.sandbox.world.leads.slice(0, 350).map((l) => l.id);

    const leads = await h.client.getLeads({
      filterType: 'id',
      filterValues: ids,
      fields: ['sfdcType', 'sfdcLeadId'],
    });

    expect(leads.map((l) => l.id)).toEqual(ids);
    const calls = h.sandbox.stats.requests.filter((r) => r.path === '/rest/v1/leads.json');
    expect(calls.map((c) => c.query.filterValues?.split(',').length)).toEqual([300, 50]);
  });

  it('sends POST with _method=GET when the URI would exceed 8 KB', async () => {
    h = await startHarness();
    const emails = h.sandbox.world.leads.slice(0, 300).map((l) => l.email.trim());

    const leads = await h.client.getLeads({ filterType: 'email', filterValues: emails, fields: ['email'] });

    expect(leads.length).toBeGreaterThanOrEqual(300);
    const calls = h.sandbox.stats.requests.filter((r) => r.path === '/rest/v1/leads.json');
    expect(calls.map((c) => [c.method, c.effectiveMethod, c.result])).toEqual([['POST', 'GET', '200']]);
    expect(calls[0]?.query).toEqual({ _method: 'GET' });
  });

  it('Sync Leads returns per-item status in input order and records the unsubscribe', async () => {
    h = await startHarness();
    const lead = h.sandbox.world.leads.find((l) => !l.unsubscribed)!;

    const results = await h.client.syncLeads({
      action: 'updateOnly',
      lookupField: 'id',
      input: [
        { id: lead.id, unsubscribed: true, unsubscribedReason: 'Salesforce opt-out' },
        { id: 999_999, unsubscribed: true },
      ],
    });

    expect(results).toEqual([
      { id: lead.id, status: 'updated' },
      { status: 'skipped', reasons: [{ code: '1004', message: 'Lead not found' }] },
    ]);
    expect(h.sandbox.world.lead(lead.id)).toMatchObject({
      unsubscribed: true,
      unsubscribedReason: 'Salesforce opt-out',
    });
  });

  it('refuses more than 300 records per write before sending', async () => {
    h = await startHarness();
    const input = Array.from({ length: 301 }, (_, i) => ({ id: i, unsubscribed: true }));

    await expect(
      h.client.syncLeads({ action: 'updateOnly', lookupField: 'id', input }),
    ).rejects.toBeInstanceOf(MarketoRequestError);
    expect(h.sandbox.stats.requests).toHaveLength(0);
  });
});

async function tokenOf(harness: Harness): Promise<string> {
  const res = await fetch(
    `${harness.sandbox.baseUrl}/identity/oauth/token?grant_type=client_credentials&client_id=${harness.sandbox.credentials.clientId}&client_secret=${harness.sandbox.credentials.clientSecret}`,
  );
  return ((await res.json()) as { access_token: string }).access_token;
}
