import { writeFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runOptOutsCommand, runServeCommandLocal } from '../../cli/commands/optouts.js';
import type { RunningServer } from '../../cli/commands/serve.js';
import { collectStatus } from '../../cli/status.js';
import { fault } from '../../sandboxes/marketo/fault-controller.js';
import { createLogger, redact } from '../../shared/observability/logger.js';
import { staticWebhookSecrets } from '../../shared/optouts/webhook-secrets.js';
import { type Embedded, startEmbedded } from '../helpers/embedded.js';

/**
 * A full local run (activity cycle, nightly opt-outs, webhook calls with their consumer, status)
 * on the embedded default with every logger at DEBUG, all process output captured (stdout and
 * stderr writes, console), then scanned for every seeded email address in any case, the vendor
 * client secrets, the webhook secrets and the access tokens the sandboxes issued.
 */

const MARKETO_SECRET = 'mkto-client-secret-3f9a1c7e5b2d4f60';
const SALESFORCE_SECRET = 'sfdc-consumer-secret-8e1b6d2a9c4f7e03';
const WEBHOOK_SECRET = 'whsec-log-scan-current-51a2b3c4d5e6f708';
const WEBHOOK_PREVIOUS = 'whsec-log-scan-previous-0f9e8d7c6b5a4321';
/** Token shapes the sandboxes issue (Marketo `uuid:xx`, Salesforce `<orgId>!…`). */
const TOKEN_SHAPES = [
  /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:[a-z]{2}/,
  /00D[0-9A-Za-z]{12}![A-Za-z0-9_-]{10,}/,
];

/** Everything written to stdout / stderr (Powertools' own Console and console.* included). */
function captureOutput(): { text: () => string; restore: () => void } {
  const chunks: string[] = [];
  const originals = { out: process.stdout.write, err: process.stderr.write };
  const tap =
    (original: typeof process.stdout.write) =>
    (chunk: unknown, ...rest: unknown[]): boolean => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      // Keep the terminal quiet; the text is kept for the scan.
      const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      callback?.();
      void original;
      return true;
    };
  process.stdout.write = tap(originals.out) as typeof process.stdout.write;
  process.stderr.write = tap(originals.err) as typeof process.stderr.write;
  const consoleSpies = (['log', 'info', 'warn', 'error', 'debug', 'trace'] as const).map((m) =>
    vi.spyOn(console, m).mockImplementation((...args: unknown[]) => {
      chunks.push(`${args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')}\n`);
    }),
  );
  return {
    text: () => chunks.join(''),
    restore: () => {
      process.stdout.write = originals.out;
      process.stderr.write = originals.err;
      for (const spy of consoleSpies) spy.mockRestore();
    },
  };
}

interface Finding {
  what: string;
  line: string;
}

/** Every secret, token and seeded email (case-insensitively) found in `text`. */
function scan(text: string, secrets: Record<string, string>, emails: Iterable<string>): Finding[] {
  const findings: Finding[] = [];
  const lines = text.split('\n');
  const lower = lines.map((l) => l.toLowerCase());
  const find = (what: string, needle: string) => {
    const i = lower.findIndex((l) => l.includes(needle.toLowerCase()));
    if (i >= 0) findings.push({ what, line: (lines[i] ?? '').slice(0, 300) });
  };
  for (const [what, value] of Object.entries(secrets)) find(what, value);
  for (const shape of TOKEN_SHAPES) {
    const line = lines.find((l) => shape.test(l));
    if (line) findings.push({ what: `token ${shape}`, line: line.slice(0, 300) });
  }
  for (const email of new Set([...emails].map((e) => e.trim().toLowerCase()))) find(`email ${email}`, email);
  return findings;
}

describe('logs of a full local run', () => {
  let e: Embedded;
  let output: ReturnType<typeof captureOutput>;
  let server: RunningServer | undefined;
  const secrets: Record<string, string> = {
    'Marketo client secret': MARKETO_SECRET,
    'Salesforce client secret': SALESFORCE_SECRET,
    'webhook secret': WEBHOOK_SECRET,
    'previous webhook secret': WEBHOOK_PREVIOUS,
  };
  const emails = new Set<string>();
  const lines = { total: 0, debug: 0, warn: 0 };

  beforeAll(async () => {
    vi.stubEnv('TEST_LOG_LEVEL', 'DEBUG');
    vi.stubEnv('LOG_LEVEL', 'DEBUG');
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'DEBUG');
    output = captureOutput();
    try {
      e = await startEmbedded({
        world: { seed: 4242, people: 80, activities: 600, days: 20 },
        marketo: { clientSecret: MARKETO_SECRET },
        salesforce: { clientSecret: SALESFORCE_SECRET },
      });
      for (const lead of e.world.leads) emails.add(lead.email);
      for (const r of [...e.world.salesforce.leads, ...e.world.salesforce.contacts]) emails.add(r.Email);

      // 1. Activities → Tasks, with vendor faults so error and retry paths log too.
      const mk = e.local.marketoSandbox?.faults;
      mk?.inject({ fault: fault.code('601'), endpoint: 'activities.json', times: 1 });
      mk?.inject({ fault: fault.code('604'), endpoint: 'activities.json', times: 1 });
      mk?.inject({ fault: fault.http(500), endpoint: 'leads.json', times: 1 });
      mk?.inject({ fault: fault.drop(), endpoint: 'activities.json', times: 1 });
      const sf = e.local.salesforceSandbox?.faults;
      sf?.inject('UNABLE_TO_LOCK_ROW', { count: 3 });
      sf?.inject('INVALID_SESSION_ID', { count: 1 });
      sf?.inject('HTTP_503', { count: 1 });
      sf?.inject('LOSE_RESPONSE', { count: 1 });
      const cycle = await e.runCycle();
      expect(cycle.written).toBeGreaterThan(0);
      // 2. Opt-outs: someone unsubscribes in Marketo, someone else in Salesforce; nightly run.
      const [a, b] = e.world.leads.filter((l) => l.sfdcType && !l.unsubscribed);
      if (!a || !b) throw new Error('world too small: need two subscribed leads with Salesforce records');
      e.world.recordLeadChange(a.id, { unsubscribed: true, at: Date.now() });
      const sfB = b.sfdcType === 'Contact' ? b.sfdcContactId : b.sfdcLeadId;
      e.local.salesforceSandbox?.state.update(
        b.sfdcType === 'Contact' ? 'Contact' : 'Lead',
        { Id: sfB, HasOptedOutOfEmail: true },
        { client: 'salesforce-ui', autoAssign: undefined, kind: 'ui' },
      );
      sf?.inject('UNABLE_TO_LOCK_ROW', { count: 1 });
      await runOptOutsCommand(e.local, [], () => undefined);
      sf?.inject('HTTP_503', { count: 1 });
      // 3. Webhooks, consumed by the local consumer: valid (odd case), lead id only, refused ones.
      server = await runServeCommandLocal(e.local, {
        port: 0,
        untilSignal: false,
        secrets: staticWebhookSecrets(WEBHOOK_SECRET, WEBHOOK_PREVIOUS),
      });
      const post = (body: string, secret = WEBHOOK_SECRET, type = 'application/json') =>
        fetch(`${server?.url}/webhooks/unsubscribe`, {
          method: 'POST',
          headers: { 'X-Webhook-Secret': secret, 'Content-Type': type },
          body,
        });
      const statuses = [
        (await post(JSON.stringify({ email: `  ${b.email.toUpperCase()} `, reason: `asked by ${b.email}` })))
          .status,
        (await post(JSON.stringify({ leadId: a.id }), WEBHOOK_PREVIOUS)).status,
        (await post(JSON.stringify({ email: a.email }), `${WEBHOOK_SECRET}x`)).status,
        (await post(`{"email": "${a.email}",`)).status,
        (await post(JSON.stringify({ email: a.email }), WEBHOOK_SECRET, 'text/plain')).status,
      ];
      expect(statuses).toEqual([202, 202, 401, 400, 415]);
      for (let i = 0; i < 100; i++) {
        const depth = await e.local.queueDepth('unsubscribe');
        if (depth.visible + depth.inFlight === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      // 4. Status, as an operator would run it.
      await collectStatus(e.local);
      // The tokens the sandboxes issued: Marketo hands out its current token again.
      const identity = await fetch(
        `${e.local.marketoSandbox?.baseUrl}/identity/oauth/token?grant_type=client_credentials&client_id=${e.local.credentials.MARKETO_CLIENT_ID}&client_secret=${MARKETO_SECRET}`,
      );
      secrets['Marketo access token'] = ((await identity.json()) as { access_token: string }).access_token;
    } finally {
      await server?.close();
      output.restore();
      vi.unstubAllEnvs();
    }
    // LOG_SCAN_DUMP=<file> keeps the captured output for a look.
    if (process.env.LOG_SCAN_DUMP) writeFileSync(process.env.LOG_SCAN_DUMP, output.text());
    for (const line of output.text().split('\n')) {
      if (!line.trim()) continue;
      lines.total++;
      if (line.includes('"level":"DEBUG"')) lines.debug++;
      if (/"level":"(WARN|ERROR)"/.test(line)) lines.warn++;
    }
  }, 300_000);

  afterAll(async () => {
    await e?.stop();
  });

  it('captured a real run at DEBUG, faults and refusals included (the scan is not vacuous)', () => {
    expect(lines.total).toBeGreaterThanOrEqual(15);
    expect(lines.debug).toBeGreaterThan(0);
    expect(lines.warn).toBeGreaterThanOrEqual(3);
    expect(emails.size).toBeGreaterThan(50);
    expect(output.text()).toMatch(/email#[0-9a-f]{16}/);
    console.info(
      `log scan: ${lines.total} lines (${lines.debug} DEBUG, ${lines.warn} WARN/ERROR), ${emails.size} seeded emails, ${Object.keys(secrets).length} secrets`,
    );
  });

  it('contains no seeded email address, client secret, webhook secret or access token', () => {
    expect(scan(output.text(), secrets, emails)).toEqual([]);
  });

  it('finds a planted email, secret and token (the scanner and the capture can fail)', () => {
    const probe = captureOutput();
    try {
      // A Powertools logger without our masking, writing through its own Console to stdout.
      const raw = new Logger({ serviceName: 'probe' });
      const email = [...emails][3] as string;
      raw.info('planted', { who: email.toUpperCase(), secret: SALESFORCE_SECRET });
      process.stderr.write(`Authorization: Bearer ${'00D000000000SBX'}!AbCdEfGhIjKlMnOpQrSt\n`);
    } finally {
      probe.restore();
    }
    const whats = scan(probe.text(), secrets, emails).map((f) => f.what);
    expect(whats).toEqual(
      expect.arrayContaining([
        'Salesforce client secret',
        expect.stringMatching(/^token /),
        expect.stringMatching(/^email /),
      ]),
    );
  });

  it('masks the same planted values when they go through our logger', () => {
    const probe = captureOutput();
    try {
      const email = [...emails][3] as string;
      createLogger('probe', { logLevel: 'DEBUG' }).debug(`failed for ${email.toUpperCase()}`, {
        who: email,
        clientSecret: SALESFORCE_SECRET,
        secrets: [WEBHOOK_SECRET, WEBHOOK_PREVIOUS],
        url: `https://x.test/identity/oauth/token?client_secret=${MARKETO_SECRET}&access_token=abc123def456`,
        header: 'Bearer 00D000000000SBX!AbCdEfGhIjKlMnOpQrSt',
      });
    } finally {
      probe.restore();
    }
    expect(probe.text()).toContain('"level":"DEBUG"');
    expect(scan(probe.text(), secrets, emails)).toEqual([]);
    expect(redact('x', 'Bearer abcdefghijkl')).toBe('Bearer [redacted]');
  });
});
