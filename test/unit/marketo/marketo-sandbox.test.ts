import { afterEach, describe, expect, it } from 'vitest';
import { fault } from '../../../sandboxes/marketo/fault-controller.js';
import { type MarketoSandbox, startMarketoSandbox } from '../../../sandboxes/marketo/marketo-sandbox.js';
import { freshSmallWorld } from './helpers.js';

let sb: MarketoSandbox | undefined;
afterEach(async () => {
  await sb?.stop();
  sb = undefined;
});

async function start(options: Parameters<typeof startMarketoSandbox>[0] = {}): Promise<MarketoSandbox> {
  sb = await startMarketoSandbox({ world: freshSmallWorld(), ...options });
  return sb;
}

function identityUrl(s: MarketoSandbox, secret = s.credentials.clientSecret): string {
  return `${s.baseUrl}/identity/oauth/token?grant_type=client_credentials&client_id=${s.credentials.clientId}&client_secret=${secret}`;
}

async function token(s: MarketoSandbox): Promise<string> {
  return ((await (await fetch(identityUrl(s))).json()) as { access_token: string }).access_token;
}

async function get(
  s: MarketoSandbox,
  path: string,
  bearer?: string,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(
    `${s.baseUrl}${path}`,
    bearer ? { headers: { authorization: `Bearer ${bearer}` } } : {},
  );
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // HTML error page
  }
  return { status: res.status, body };
}

describe('Marketo sandbox identity', () => {
  it('refuses bad credentials with HTTP 401 and a JSON error', async () => {
    const s = await start();

    const res = await fetch(identityUrl(s, 'nope'));

    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'unauthorized', error_description: 'Bad client credentials' });
  });

  it('returns the same token with its remaining life when asked again (GET or POST)', async () => {
    let now = Date.parse('2026-10-15T12:00:00Z');
    const s = await start({ clock: () => now, tokenLifetimeSec: 3600 });

    const first = (await (await fetch(identityUrl(s))).json()) as {
      access_token: string;
      expires_in: number;
    };
    now += 1000_000;
    const second = (await (await fetch(identityUrl(s), { method: 'POST' })).json()) as typeof first;

    expect(first.expires_in).toBe(3600);
    expect(second).toMatchObject({
      access_token: first.access_token,
      expires_in: 2600,
      token_type: 'bearer',
    });
  });

  it('answers an access_token query parameter with 601, and an expired token with 602, in HTTP 200', async () => {
    let now = Date.parse('2026-10-15T12:00:00Z');
    const s = await start({ clock: () => now, tokenLifetimeSec: 60 });
    const t = await token(s);

    const viaQuery = await get(s, `/rest/v1/activities/types.json?access_token=${t}`);
    const unknown = await get(s, '/rest/v1/activities/types.json', 'not-a-token');
    now += 61_000;
    const expired = await get(s, '/rest/v1/activities/types.json', t);

    expect(viaQuery).toMatchObject({ status: 200, body: { success: false, errors: [{ code: '601' }] } });
    expect(unknown).toMatchObject({ status: 200, body: { success: false, errors: [{ code: '601' }] } });
    expect(expired).toMatchObject({ status: 200, body: { success: false, errors: [{ code: '602' }] } });
    expect((expired.body as { requestId: string }).requestId).toMatch(/#/);
    expect(s.dailyUsed()).toBe(0); // 601/602 do not count
  });
});

describe('Marketo sandbox contract', () => {
  it('enforces the rolling call window with 606, counted against the quota', async () => {
    const s = await start({ limits: { callsPerWindow: 3, windowMs: 60_000 } });
    const t = await token(s);

    const codes: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await get(s, '/rest/v1/activities/types.json', t);
      codes.push((r.body as { success: boolean; errors?: { code: string }[] }).errors?.[0]?.code ?? 'ok');
    }

    expect(codes).toEqual(['ok', 'ok', 'ok', '606', '606']);
    expect(s.stats.count('GET /rest/v1/activities/types.json', '606')).toBe(2);
  });

  it('enforces the daily quota with 607 and can reset it', async () => {
    const s = await start({ limits: { dailyQuota: 1 } });
    const t = await token(s);

    await get(s, '/rest/v1/activities/types.json', t);
    const over = await get(s, '/rest/v1/activities/types.json', t);
    s.resetDailyQuota();
    const again = await get(s, '/rest/v1/activities/types.json', t);

    expect(over.body).toMatchObject({
      success: false,
      errors: [{ code: '607', message: 'Daily quota reached' }],
    });
    expect(again.body).toMatchObject({ success: true });
  });

  it('resets the daily quota at 00:00 America/Chicago on its clock when asked to', async () => {
    // 23:59:58 in Chicago (CDT, UTC-5) on 2026-10-14; other integrations used 2 of the 3 calls.
    let now = Date.parse('2026-10-15T04:59:58Z');
    const s = await start({
      clock: () => now,
      limits: { dailyQuota: 3, dailyQuotaReset: 'chicagoMidnight' },
    });
    const t = await token(s);
    s.spendDailyQuota(2);

    const last = await get(s, '/rest/v1/activities/types.json', t);
    const over = await get(s, '/rest/v1/activities/types.json', t);
    now = Date.parse('2026-10-15T05:00:00Z');
    const nextDay = await get(s, '/rest/v1/activities/types.json', t);

    expect(last.body).toMatchObject({ success: true });
    expect(over.body).toMatchObject({ success: false, errors: [{ code: '607' }] });
    expect(nextDay.body).toMatchObject({ success: true });
    expect(s.dailyUsed()).toBe(1);
  });

  it('answers URIs over 8 KB with HTTP 414 and serves POST _method=GET with a form body', async () => {
    const s = await start();
    const t = await token(s);
    const ids = s.world.leads.slice(0, 300).map((l) => l.id);
    const longFields = Array.from({ length: 1500 }, () => 'email').join(',');

    const tooLong = await get(
      s,
      `/rest/v1/leads.json?filterType=id&filterValues=${ids.join(',')}&fields=${longFields}`,
      t,
    );
    const form = await fetch(`${s.baseUrl}/rest/v1/leads.json?_method=GET`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        filterType: 'id',
        filterValues: ids.join(','),
        fields: 'email',
      }).toString(),
    });

    expect(tooLong.status).toBe(414);
    const body = (await form.json()) as { success: boolean; result: { id: number }[] };
    expect(body.success).toBe(true);
    expect(body.result.map((l) => l.id)).toEqual(ids);
  });

  it('requires activityTypeIds and fields, and refuses more than 300 filter values', async () => {
    const s = await start();
    const t = await token(s);
    const pt = (await get(s, '/rest/v1/activities/pagingtoken.json?sinceDatetime=2026-10-01T00:00:00Z', t))
      .body as {
      nextPageToken: string;
    };
    const enc = encodeURIComponent(pt.nextPageToken);

    const noTypes = await get(s, `/rest/v1/activities.json?nextPageToken=${enc}`, t);
    const noFields = await get(s, `/rest/v1/activities/leadchanges.json?nextPageToken=${enc}`, t);
    const tooMany = await get(
      s,
      `/rest/v1/leads.json?filterType=id&filterValues=${Array.from({ length: 301 }, (_, i) => i).join(',')}`,
      t,
    );
    const damaged = encodeURIComponent(`${pt.nextPageToken.slice(0, -6)}AAAA==`);
    const tampered = await get(s, `/rest/v1/activities.json?activityTypeIds=6&nextPageToken=${damaged}`, t);

    expect(noTypes.body).toMatchObject({ success: false, errors: [{ code: '701' }] });
    expect(noFields.body).toMatchObject({ success: false, errors: [{ code: '701' }] });
    expect(tooMany.body).toMatchObject({ success: false, errors: [{ code: '1003' }] });
    // A damaged token is refused as an invalid token.
    expect(tampered.body).toMatchObject({
      success: false,
      errors: [{ code: '1003', message: expect.stringMatching(/token/) }],
    });
  });

  it('reproduces probabilistic faults for the same seed and call sequence', async () => {
    const run = async () => {
      const s = await startMarketoSandbox({ world: freshSmallWorld(), seed: 99 });
      try {
        s.faults.failRandomly(0.4, fault.code('608'));
        const t = await token(s);
        const codes: string[] = [];
        for (let i = 0; i < 12; i++) {
          const r = await get(s, '/rest/v1/activities/types.json', t);
          codes.push((r.body as { errors?: { code: string }[] }).errors?.[0]?.code ?? 'ok');
        }
        return codes;
      } finally {
        await s.stop();
      }
    };

    const a = await run();
    const b = await run();

    expect(a).toEqual(b);
    expect(a).toContain('608');
    expect(a).toContain('ok');
  });

  it('adds custom activities only for approved custom types and existing leads, per item in order', async () => {
    const s = await start();
    const t = await token(s);
    const post = (path: string, body: unknown) =>
      fetch(`${s.baseUrl}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then((r) => r.json());
    const lead = s.world.leads[0]!;

    const result = (await post('/rest/v1/activities/external.json', {
      input: [
        {
          leadId: lead.id,
          activityDate: '2026-10-15T10:00:00Z',
          activityTypeId: 100001,
          primaryAttributeValue: 'Webinar',
        },
        {
          leadId: 1,
          activityDate: '2026-10-15T10:00:00Z',
          activityTypeId: 100001,
          primaryAttributeValue: 'Webinar',
        },
        {
          leadId: lead.id,
          activityDate: '2026-10-15T10:00:00Z',
          activityTypeId: 6,
          primaryAttributeValue: 'x',
        },
      ],
    })) as { result: { status: string; marketoGUID?: string; errors?: { code: string }[] }[] };

    expect(result.result.map((r) => r.status)).toEqual(['added', 'skipped', 'skipped']);
    expect(result.result[1]?.errors?.[0]?.code).toBe('1004');
    expect(s.world.activities.some((a) => a.marketoGUID === result.result[0]?.marketoGUID)).toBe(true);
  });

  it('routes by method and path: 605 for a known path with another method, 610 for an unknown path, uncounted 605', async () => {
    const s = await start();
    const t = await token(s);
    const postTypes = await fetch(`${s.baseUrl}/rest/v1/activities/types.json`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' },
      body: '{}',
    }).then((r) => r.json());
    const unknown = await get(s, '/rest/v1/nothing-here.json', t);
    const types = await get(s, '/rest/v1/activities/types.json', t);

    expect(postTypes).toMatchObject({ success: false, errors: [{ code: '605' }] });
    expect(unknown).toMatchObject({ status: 200, body: { success: false, errors: [{ code: '610' }] } });
    expect(types.body).toMatchObject({ success: true });
    expect(s.stats.count('POST /rest/v1/activities/types.json', '605')).toBe(1);
    expect(s.stats.requests.filter((r) => r.result === '605').every((r) => !r.counted)).toBe(true);
    expect(s.dailyUsed()).toBe(2);
  });
});
