import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { optOutDepsFromLocal } from '../../../cli/commands/optouts.js';
import { runWebhookDemo } from '../../../cli/commands/webhook-demo.js';
import { type LocalEnvironment, startLocalEnvironment } from '../../../cli/embedded/local-environment.js';
import { createWorld } from '../../../sandboxes/world.js';
import { DEFAULT_SETTINGS_INPUT, parseSettings } from '../../../shared/config/settings.js';
import { createLogger } from '../../../shared/observability/logger.js';
import { reconcileOptOuts } from '../../../shared/optouts/reconcile.js';

const DAY = 86_400_000;
const WORLD = { seed: 77, people: 300, activities: 200, days: 30 };

describe('the demo world (npm start): recent opt-outs on both sides', () => {
  it('puts n Marketo unsubscribes and n Salesforce opt-outs in the last day, and leaves the rest of the world as it was', () => {
    const now = Date.now();
    const plain = createWorld({ ...WORLD, now });
    const demo = createWorld({ ...WORLD, now, recentOptOuts: 5 });

    const recentChanges = demo.activities.filter(
      (a) =>
        a.dateMs > now - DAY && a.fields?.some((f) => f.name === 'unsubscribed' && f.newValue === 'true'),
    );
    const plainRecent = plain.activities.filter(
      (a) =>
        a.dateMs > now - DAY && a.fields?.some((f) => f.name === 'unsubscribed' && f.newValue === 'true'),
    );
    expect(recentChanges.length - plainRecent.length).toBe(5);
    const sfRecent = [...demo.salesforce.leads, ...demo.salesforce.contacts].filter(
      (r) => r.LastModifiedDate && Date.parse(r.LastModifiedDate) > now - DAY,
    );
    expect(sfRecent).toHaveLength(5);
    expect(sfRecent.every((r) => r.HasOptedOutOfEmail)).toBe(true);
    // One side only: the Marketo lead of each Salesforce opt-out is still subscribed.
    for (const r of sfRecent) {
      const lead = demo.leads.find((l) => l.sfdcLeadId === r.Id || l.sfdcContactId === r.Id);
      expect(lead?.unsubscribed).toBe(false);
    }
    // Everything else as the plain world: same leads (but the 5 unsubscribed), same other activities.
    expect(demo.leads.filter((l, i) => l.unsubscribed !== plain.leads[i]?.unsubscribed)).toHaveLength(5);
    expect(demo.activities.length).toBe(plain.activities.length + 5);
  });
});

describe('npm start on the demo world: a night that does something, and the sample webhook (embedded default)', () => {
  let local: LocalEnvironment;
  const dataDir = mkdtempSync(join(tmpdir(), 'demo-world-'));

  beforeAll(async () => {
    const settings = parseSettings(DEFAULT_SETTINGS_INPUT);
    local = await startLocalEnvironment({
      settings,
      logger: createLogger('demo-it', { logLevel: 'SILENT' }),
      env: {},
      world: createWorld({ ...WORLD, now: Date.now(), recentOptOuts: 4 }),
    });
  });
  afterAll(async () => {
    await local?.stop();
  });

  it('the first night carries the recent opt-outs both ways', async () => {
    const report = await reconcileOptOuts(optOutDepsFromLocal(local));

    expect(report.changesApplied.marketoToSalesforce).toBeGreaterThanOrEqual(4);
    expect(report.changesApplied.salesforceToMarketo).toBeGreaterThanOrEqual(4);
    expect(report.writes.failed).toBe(0);
  }, 60_000);

  it('prints a curl with the real URL and the generated secret, sends it once, and reports the writes', async () => {
    const { lines, outcome } = await runWebhookDemo(local, dataDir);

    const file = join(dataDir, 'webhook-secret');
    const secret = readFileSync(file, 'utf8').trim();
    expect(secret.length).toBeGreaterThanOrEqual(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = lines.join('\n');
    expect(text).toMatch(/curl -sS -X POST 'http:\/\/127\.0\.0\.1:\d+\/webhooks\/unsubscribe'/);
    expect(text).toContain(`X-Webhook-Secret: ${secret}`);
    expect(text).toMatch(/-d '\{"email":"[^"]+@[^"]+"/);
    expect(outcome?.status).toBe(202);
    expect(outcome?.written.salesforce).toBeGreaterThanOrEqual(1);
    expect(outcome?.written.marketo).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(
      /→ 202 accepted; \d+ ms later: .*Salesforce (Lead|Contact) \w+ HasOptedOutOfEmail = true/,
    );
    // The same secret next time (npm run sync -- serve accepts what npm start printed).
    const again = await runWebhookDemo(local, dataDir);
    expect(again.lines.join('\n')).toContain(`X-Webhook-Secret: ${secret}`);
  }, 60_000);
});
