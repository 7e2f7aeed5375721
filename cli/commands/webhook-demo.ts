import { join } from 'node:path';
import { normaliseEmail } from '../../shared/domain/email.js';
import { parseTarget } from '../../shared/domain/opt-out-state.js';
import { WEBHOOK_PATH } from '../../shared/optouts/webhook-request.js';
import { staticWebhookSecrets } from '../../shared/optouts/webhook-secrets.js';
import { failureRecorderFor } from '../../shared/runtime/failure-recorder.js';
import type { LocalEnvironment } from '../embedded/local-environment.js';
import { LOCAL_WEBHOOK_SECRET_FILE, localWebhookSecret } from '../embedded/local-webhook-secret.js';
import { optOutDepsFromLocal } from './optouts.js';
import { type RunningServer, runServeCommand } from './serve.js';

/**
 * The webhook part of `npm start`: one sample `curl` for the local webhook (its real URL, the
 * locally generated secret, a body) and what it did, tried once against `serve`'s handler and
 * local consumer. On the sandboxes only; with real vendors it prints the command without running it.
 */

/** The port `npm run sync -- serve` listens on by default. */
const SERVE_PORT = 8787;
/** The sample request, as a shell command (single-quoted: the values hold no quote). */
export function sampleCurl(url: string, secret: string, email: string): string[] {
  return [
    `curl -sS -X POST '${url}${WEBHOOK_PATH}' \\`,
    `    -H 'Content-Type: application/json' -H 'X-Webhook-Secret: ${secret}' \\`,
    `    -d '${JSON.stringify({ email, reason: 'Unsubscribed via email link' })}'`,
  ];
}

/** A subscribed sandbox person with a Salesforce record: the demo's unsubscriber. */
function demoPerson(local: LocalEnvironment): string | undefined {
  const sf = local.salesforceSandbox?.state;
  const lead = local.world?.leads.find((l) => {
    const id = l.sfdcContactId ?? l.sfdcLeadId;
    const rec = id ? (sf?.contacts.get(id) ?? sf?.leads.get(id)) : undefined;
    return (
      !l.unsubscribed && l.email !== '' && l.email === l.email.trim() && rec?.HasOptedOutOfEmail === false
    );
  });
  return lead?.email;
}

async function listen(local: LocalEnvironment, secret: string): Promise<RunningServer> {
  const options = {
    secrets: staticWebhookSecrets(secret),
    sqsClient: local.platform.sqs,
    failureRecorder: failureRecorderFor(local.platform.doc, local.platform.tables),
  };
  const deps = optOutDepsFromLocal(local);
  try {
    return await runServeCommand(deps, { ...options, port: SERVE_PORT });
  } catch {
    // 8787 taken (a `serve` already running): any free port shows the same.
    return runServeCommand(deps, { ...options, port: 0 });
  }
}

export interface WebhookDemoOutcome {
  status: number;
  /** Records written by the consumer, by system. */
  written: { salesforce: number; marketo: number };
  ms: number;
}

/** Runs the sample once and returns the lines to print (the command, then its effect). */
export async function runWebhookDemo(
  local: LocalEnvironment,
  dataDir: string,
): Promise<{ lines: string[]; outcome?: WebhookDemoOutcome }> {
  const secret = localWebhookSecret(dataDir);
  const email = local.marketoSandbox && local.salesforceSandbox ? demoPerson(local) : undefined;
  const header = 'Real-time unsubscribe webhook (the same handler as the Lambda):';
  if (!email) {
    return {
      lines: [
        header,
        ...sampleCurl(`http://127.0.0.1:${SERVE_PORT}`, secret, 'someone@example.com'),
        '  (not sent: real vendors are configured; start `npm run sync -- serve` and send it yourself)',
      ],
    };
  }
  const server = await listen(local, secret);
  try {
    const deps = optOutDepsFromLocal(local);
    const started = Date.now();
    const res = await fetch(`${server.url}${WEBHOOK_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-webhook-secret': secret },
      body: JSON.stringify({ email, reason: 'Unsubscribed via email link' }),
    });
    await res.arrayBuffer();
    const key = normaliseEmail(email);
    const written = { salesforce: 0, marketo: 0 };
    const targets: string[] = [];
    while (res.status === 202 && Date.now() - started < 20_000) {
      const history = await deps.store.history(key);
      const writes = history.flatMap((e) => (e.kind === 'written' ? [e.target] : []));
      const systems = new Set(writes.map((t) => parseTarget(t).system));
      if (systems.has('salesforce') && systems.has('marketo')) {
        targets.push(...writes);
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const ms = Date.now() - started;
    const field = local.platform.settings.optOuts.salesforceField;
    const described = targets.map((t) => {
      const p = parseTarget(t);
      written[p.system]++;
      return p.system === 'marketo'
        ? `Marketo lead ${p.leadId} unsubscribed`
        : `Salesforce ${p.sobject} ${p.id} ${field} = true`;
    });
    return {
      lines: [
        header,
        ...sampleCurl(server.url, secret, email),
        `  → ${res.status}${res.status === 202 ? ' accepted' : ''}; ${
          described.length ? `${ms} ms later: ${described.join('; ')}` : 'no write seen within 20 s'
        }`,
        `  (\`npm run sync -- serve\` keeps it listening on port ${SERVE_PORT}; the secret is in ${join(dataDir, LOCAL_WEBHOOK_SECRET_FILE)} or WEBHOOK_SECRET)`,
      ],
      outcome: { status: res.status, written, ms },
    };
  } finally {
    await server.close();
  }
}
