import type { SQSRecord } from 'aws-lambda';
import { type LocalEnvironment, startLocalEnvironment } from '../../../cli/embedded/local-environment.js';
import { type SqsEventSource, startSqsEventSource } from '../../../cli/embedded/sqs-event-source.js';
import { createWorld, type World, type WorldLead } from '../../../sandboxes/world.js';
import { SqsMessageSender } from '../../../shared/adapters/sqs/sqs-message-sender.js';
import {
  DEFAULT_SETTINGS_INPUT,
  parseSettings,
  type SettingsInput,
} from '../../../shared/config/settings.js';
import { createLogger } from '../../../shared/observability/logger.js';
import { applyUnsubscribe, parseUnsubscribeMessage } from '../../../shared/optouts/apply-unsubscribe.js';
import type { OptOutDeps } from '../../../shared/optouts/opt-out-deps.js';
import type { WebhookDeps } from '../../../shared/optouts/webhook-request.js';
import { staticWebhookSecrets } from '../../../shared/optouts/webhook-secrets.js';
import type { SalesforceApi } from '../../../shared/ports/salesforce-api.js';
import { vendorClients } from '../../../shared/runtime/activity-runtime.js';
import { buildOptOutDeps } from '../../../shared/runtime/opt-out-runtime.js';
import { sqsBatchHandler } from '../../../shared/runtime/sqs-batch.js';

/**
 * The embedded default for the unsubscribe sync: dynalite, fauxqs, the Marketo and Salesforce
 * sandboxes on one seeded world, and the real Marketo/Salesforce clients.
 */

export const WEBHOOK_SECRET = 'it-webhook-secret-0123456789';
export const OUR_CLIENT = 'marketo-salesforce-sync';
const UI = { client: 'salesforce-ui', autoAssign: undefined, kind: 'ui' };

export interface Harness {
  local: LocalEnvironment;
  world: World;
  deps: OptOutDeps;
  webhook: WebhookDeps;
  salesforceApi: SalesforceApi;
  /** A person: one Marketo lead, and Salesforce Leads/Contacts carrying the given email variants. */
  person(spec: { email: string; marketoEmails?: string[]; sfLeads?: string[]; sfContacts?: string[] }): {
    leads: WorldLead[];
    sfLeadIds: string[];
    sfContactIds: string[];
  };
  /** Someone ticks/unticks the opt-out (the configured `optOuts.salesforceField`) in the Salesforce UI. */
  setSalesforceOptOut(sobject: 'Lead' | 'Contact', id: string, value: boolean): void;
  /** The configured opt-out field of a record. */
  sfOptOut(sobject: 'Lead' | 'Contact', id: string): boolean;
  /** Any field of a record (e.g. the standard checkbox while a custom field is configured). */
  sfValue(sobject: 'Lead' | 'Contact', id: string, field: string): unknown;
  /**
   * Marketo's own Salesforce sync pulling one Salesforce record into the Marketo leads linked to it
   * (sfdcLeadId / sfdcContactId): its Email Opt Out becomes their Unsubscribed, dated when the
   * record last changed. Marketo's sync is bidirectional and runs every few minutes, and its default
   * field mapping pairs Email Opt Out with Unsubscribed (Experience League: "SFDC Sync: Lead Sync",
   * "SFDC Sync: Contact Sync", "Default Veeva Field Mapping" — Email Opt Out → Unsubscribed).
   * Returns the Marketo leads it changed.
   */
  crmSync(sobject: 'Lead' | 'Contact', id: string): number[];
  /** Writes our client made to a record. */
  ourSalesforceWrites(id: string): number;
  /** Starts the local unsubscribe consumer (what the Lambda's SQS event source does). */
  startConsumer(options?: {
    crashBeforeHandling?: (record: SQSRecord) => boolean;
    beforeDelete?: (records: SQSRecord[]) => Promise<void>;
    concurrency?: number;
    /** Messages per handler call (default 10); over 10 needs a batching window, as in Lambda. */
    batchSize?: number;
    maxBatchingWindowMs?: number;
  }): Promise<SqsEventSource>;
  stop(): Promise<void>;
}

let emailSeq = 0;
export const uniqueEmail = (label: string) => `${label}.${Date.now().toString(36)}.${emailSeq++}@example.com`;

export async function startHarness(
  options: {
    optOuts?: SettingsInput['optOuts'];
    people?: number;
    /** The unsubscribe queue's visibility timeout (default 1 s: retries within tests; deployed 720 s). */
    unsubscribeVisibilitySeconds?: number;
  } = {},
): Promise<Harness> {
  const settings = parseSettings({
    ...DEFAULT_SETTINGS_INPUT,
    ...(options.optOuts ? { optOuts: options.optOuts } : {}),
  });
  const logger = createLogger('optouts-it', { logLevel: process.env.IT_LOG_LEVEL ?? 'SILENT' });
  const world = createWorld({
    seed: 1001,
    people: options.people ?? 150,
    activities: 300,
    days: 5,
    now: Date.now(),
  });
  const local = await startLocalEnvironment({
    settings,
    logger,
    env: {},
    world,
    marketoSandbox: { clock: () => Date.now() },
    visibilityTimeoutSeconds: { unsubscribe: options.unsubscribeVisibilitySeconds ?? 1 },
  });
  const clients = vendorClients(local.platform, local.credentials);
  const deps = buildOptOutDeps({
    settings,
    logger,
    doc: local.platform.doc,
    tables: local.platform.tables,
    sender: new SqsMessageSender({ client: local.platform.sqs }),
    queueUrls: { unsubscribe: local.platform.queueUrls.unsubscribe as string },
    marketo: () => clients.marketo,
    salesforce: () => clients.salesforce,
  });
  const webhook: WebhookDeps = {
    store: deps.store,
    sender: deps.sender,
    unsubscribeQueueUrl: deps.unsubscribeQueueUrl,
    secrets: staticWebhookSecrets(WEBHOOK_SECRET),
    policy: { resubscribeSources: settings.optOuts.resubscribeSources },
    logger,
  };
  const sf = local.salesforceSandbox;
  if (!sf) throw new Error('the harness needs the Salesforce sandbox');
  const consumers: SqsEventSource[] = [];
  const optOutField = settings.optOuts.salesforceField;
  const sfValue = (sobject: 'Lead' | 'Contact', id: string, field: string): unknown => {
    const table = sobject === 'Lead' ? sf.state.leads : sf.state.contacts;
    return (table.get(id) as Record<string, unknown> | undefined)?.[field];
  };

  return {
    local,
    world,
    deps,
    webhook,
    salesforceApi: clients.salesforce,
    person(spec) {
      const now = Date.now();
      const sfLeadIds = (spec.sfLeads ?? []).map((email, i) => {
        const r = sf.state.create('Lead', { Email: email, LastName: `Lead${i}`, Company: 'Acme' }, UI);
        return r.id as string;
      });
      const sfContactIds = (spec.sfContacts ?? []).map((email, i) => {
        const r = sf.state.create('Contact', { Email: email, LastName: `Contact${i}` }, UI);
        return r.id as string;
      });
      const leads = (spec.marketoEmails ?? [spec.email]).map((email, i) =>
        world.createLead(
          {
            email,
            ...(i === 0 && sfContactIds[0]
              ? { sfdcType: 'Contact' as const, sfdcContactId: sfContactIds[0] }
              : i === 0 && sfLeadIds[0]
                ? { sfdcType: 'Lead' as const, sfdcLeadId: sfLeadIds[0] }
                : {}),
          },
          now,
        ),
      );
      return { leads, sfLeadIds, sfContactIds };
    },
    setSalesforceOptOut(sobject, id, value) {
      const r = sf.state.update(sobject, { Id: id, [optOutField]: value }, UI);
      if (!r.success) throw new Error(`sandbox refused the update: ${JSON.stringify(r.errors)}`);
    },
    sfOptOut(sobject, id) {
      return sfValue(sobject, id, optOutField) === true;
    },
    sfValue,
    crmSync(sobject, id) {
      const table = sobject === 'Lead' ? sf.state.leads : sf.state.contacts;
      const rec = table.get(id) as Record<string, unknown> | undefined;
      if (!rec) return [];
      const value = rec.HasOptedOutOfEmail === true;
      const at = Date.parse(String(rec.SystemModstamp));
      const linked = world.findLeads(sobject === 'Lead' ? 'sfdcLeadId' : 'sfdcContactId', id);
      return linked.flatMap((lead) =>
        world.recordLeadChange(lead.id, { unsubscribed: value, at, source: 'Salesforce sync' }).length
          ? [lead.id]
          : [],
      );
    },
    ourSalesforceWrites(id) {
      return sf.state.writeLog.filter(
        (w) => w.id === id && w.client === OUR_CLIENT && w.operation === 'update',
      ).length;
    },
    async startConsumer(opts = {}) {
      const handler = sqsBatchHandler(
        async (record) => {
          if (opts.crashBeforeHandling?.(record))
            throw new Error('simulated crash before the Salesforce write');
          return applyUnsubscribe(deps, parseUnsubscribeMessage(record.body));
        },
        { logger },
      );
      const source = await startSqsEventSource({
        client: local.platform.sqs,
        queueUrl: deps.unsubscribeQueueUrl,
        handler,
        batchSize: opts.batchSize ?? 10,
        ...(opts.maxBatchingWindowMs ? { maxBatchingWindowMs: opts.maxBatchingWindowMs } : {}),
        concurrency: opts.concurrency ?? 2,
        waitTimeSeconds: 1,
        logger,
        ...(opts.beforeDelete ? { beforeDelete: opts.beforeDelete } : {}),
      });
      consumers.push(source);
      return source;
    },
    async stop() {
      for (const c of consumers) await c.stop();
      await local.stop();
    },
  };
}

/** Polls until `check` passes or `timeoutMs` elapses. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}
