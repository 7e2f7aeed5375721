import { afterEach, describe, expect, it } from 'vitest';
import { optOutDepsFromLocal } from '../../cli/commands/optouts.js';
import { type RunningServer, runServeCommand } from '../../cli/commands/serve.js';
import { SALESFORCE_LIMIT_PAUSE_MS } from '../../shared/ports/resume-at.js';
import { type Embedded, startEmbedded } from '../helpers/embedded.js';
import { eventually } from '../integration/optouts/harness.js';
import { observeSqs } from './sqs-observer.js';

const SECRET = 'pause-test-webhook-secret-0123';
const UI = { client: 'salesforce-ui', autoAssign: undefined, kind: 'ui' };

let e: Embedded | undefined;
let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  await e?.stop();
  server = undefined;
  e = undefined;
});

describe('unsubscribe consumer while Salesforce is out of API requests (REQUEST_LIMIT_EXCEEDED)', () => {
  it('parks the message until the limit frees up instead of burning its receives into the dead-letter queue', async () => {
    // Prepare: the webhook and its consumer as `sync serve` runs them; the unsubscribe queue retries after 1 s.
    e = await startEmbedded({ world: { people: 20, activities: 50, days: 2 }, visibilitySeconds: 1 });
    const { platform } = e.local;
    const sf = e.local.salesforceSandbox!;
    // The hour-long pause lasts 3 s here; the org stays over its limit for 2.5 s.
    const sqs = observeSqs(platform.sqs, {
      parkSeconds: (s) => (Math.abs(s - SALESFORCE_LIMIT_PAUSE_MS / 1000) <= 5 ? 3 : s),
    });
    const contact = sf.state.create('Contact', { Email: 'pause.test@example.com', LastName: 'Pause' }, UI);
    server = await runServeCommand(optOutDepsFromLocal(e.local), {
      port: 0,
      secrets: { accepted: async () => [SECRET] },
      sqsClient: platform.sqs,
      // The deployed window (2 s of a 720 s visibility timeout), scaled to this 1 s one.
      consumerBatchingWindowMs: 125,
    });
    const limit = sf.apiUsage();
    sf.setApiUsage(limit.limit, limit.limit);
    setTimeout(() => sf.setApiUsage(limit.used, limit.limit), 2_500);

    // Act: a preference centre (not Marketo) posts an unsubscribe.
    const res = await fetch(`${server.url}/webhooks/unsubscribe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-webhook-secret': SECRET },
      body: JSON.stringify({ email: 'Pause.Test@example.com' }),
    });

    // Assess: applied once the limit freed up; one refused call and one park, not a retry per second.
    expect(res.status).toBe(202);
    await eventually(() => sf.state.contacts.get(contact.id as string)?.HasOptedOutOfEmail === true, 15_000);
    const refused = sf.stats.requests.filter((r) => r.status === 403).length;
    expect(refused).toBe(1);
    expect(sqs.parks).toHaveLength(1);
    expect(sqs.parks[0]).toMatchObject({ queue: 'sync-unsubscribe', applied: 3 });
    expect(Math.abs((sqs.parks[0]?.requested ?? 0) - SALESFORCE_LIMIT_PAUSE_MS / 1000)).toBeLessThanOrEqual(
      5,
    );
    // Parked by a delayed re-send, not by visibility: no message was received twice.
    expect(sqs.maxReceives('sync-unsubscribe')).toBe(1);
    expect((await e.local.queueDepth('unsubscribe')).dlq).toBe(0);
  });
});
