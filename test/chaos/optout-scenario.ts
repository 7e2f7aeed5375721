import { setTimeout as sleep } from 'node:timers/promises';
import { type RunningServer, runServeCommand } from '../../cli/commands/serve.js';
import { drainUntilIdle } from '../../cli/embedded/sqs-event-source.js';
import { mulberry32, type WorldLead } from '../../sandboxes/world.js';
import { SqsMessageSender } from '../../shared/adapters/sqs/sqs-message-sender.js';
import { normaliseEmail } from '../../shared/domain/email.js';
import type { OptOutDeps } from '../../shared/optouts/opt-out-deps.js';
import { type OptOutRunReport, reconcileOptOuts } from '../../shared/optouts/reconcile.js';
import { WEBHOOK_PATH } from '../../shared/optouts/webhook-request.js';
import { staticWebhookSecrets } from '../../shared/optouts/webhook-secrets.js';
import { SALESFORCE_LIMIT_PAUSE_MS } from '../../shared/ports/resume-at.js';
import { vendorClients } from '../../shared/runtime/activity-runtime.js';
import { buildOptOutDeps } from '../../shared/runtime/opt-out-runtime.js';
import { type Embedded, startEmbedded, TEST_WINDOW_MS } from '../helpers/embedded.js';
import { LIMIT_PAUSE_SECONDS } from './activity-scenario.js';
import { chaosGovernor, chaosMarketoClient } from './chaos-clients.js';
import type { ChaosConfig } from './chaos-config.js';
import type { ScenarioRow } from './chaos-report.js';
import { diagnose } from './diagnostics.js';
import { ProcessFaults } from './process-faults.js';
import { observeSqs } from './sqs-observer.js';
import {
  armMarketo,
  armMarketoOnce,
  armSalesforce,
  armSalesforceOnce,
  churnMarketoTokens,
  MARKETO_THROTTLE,
  MARKETO_TRANSIENT,
  marketoAuthAnswers,
  marketoInjected,
  marketoLabel,
  SALESFORCE_ALL,
  vendorCalls,
} from './vendor-faults.js';

/**
 * The unsubscribe sync under faults: people with several records per email on both sides
 * (mixed-case and padded addresses), opt-outs made in Marketo, in Salesforce (Leads and Contacts)
 * and by webhook (from Marketo's "Call Webhook" step and from other senders, each delivered one
 * to three times), then resubscribe attempts that must not revert an opt-out — while the
 * webhook, its consumer and the nightly reconciliation run with vendor and process faults. The
 * nightly run is repeated (as the next night would) until it has nothing left to retry; then
 * every record of every person who opted out must carry the opt-out, and nobody else's.
 */

export interface OptOutScenario {
  name: string;
  /** Opt-out changes (Marketo unsubscribes, Salesforce ticks, webhooks). */
  changes: number;
  visibilitySeconds: number;
}

const SECRET = 'chaos-webhook-secret-0123456789';
const MARKETO_KINDS = [...MARKETO_TRANSIENT, ...MARKETO_THROTTLE];

/** The table labels of the faults this scenario injects: each fires at least once. */
export const OPT_OUT_FAULTS = [
  ...MARKETO_KINDS.map(marketoLabel),
  'mk 601 (token revoked)',
  'mk 602 (token expired)',
  ...SALESFORCE_ALL.map((k) => `sf ${k}`),
  'kill before a call',
  'kill after a call',
  'stall past visibility',
  'duplicate webhook deliveries',
];
const UI = { client: 'salesforce-ui', autoAssign: undefined, kind: 'ui' };
const MAX_NIGHTLY_RUNS = 8;

interface Person {
  email: string;
  leads: WorldLead[];
  sfLeads: string[];
  sfContacts: string[];
  optedOut: boolean;
}

export async function runOptOutScenario(
  scenario: OptOutScenario,
  config: ChaosConfig,
  seed: number,
): Promise<ScenarioRow> {
  const started = Date.now();
  const { rate } = config;
  const random = mulberry32(seed ^ 0x0907);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const e: Embedded = await startEmbedded({
    world: { seed, people: 40, activities: 100, days: 5, now: Date.now() },
    marketo: { seed, limits: { windowMs: TEST_WINDOW_MS, callsPerWindow: 100, maxConcurrent: 10 } },
    salesforce: { randomSeed: seed },
    visibilitySeconds: scenario.visibilitySeconds,
  });
  let server: RunningServer | undefined;
  const timers: NodeJS.Timeout[] = [];
  const stoppers: (() => void)[] = [];
  try {
    const { platform } = e.local;
    const mk = e.local.marketoSandbox!;
    const sf = e.local.salesforceSandbox!;
    const sqs = observeSqs(platform.sqs, {
      parkSeconds: (requested) =>
        Math.abs(requested - SALESFORCE_LIMIT_PAUSE_MS / 1000) <= 2 ? LIMIT_PAUSE_SECONDS : requested,
    });

    // People: one to two Marketo leads and one to three Salesforce Leads/Contacts per email.
    const people: Person[] = [];
    const variant = (email: string) =>
      pick([email, email.toUpperCase(), email.replace(/^./, (c) => c.toUpperCase())]);
    const total = Math.ceil(scenario.changes * 1.1);
    for (let i = 0; i < total; i++) {
      const email = `chaos.${seed}.p${i}@example.com`;
      const sfLeads: string[] = [];
      const sfContacts: string[] = [];
      const records = 1 + Math.floor(random() * 3);
      for (let r = 0; r < records; r++) {
        const isLead = random() < 0.5;
        const created = sf.state.create(
          isLead ? 'Lead' : 'Contact',
          { Email: variant(email), LastName: `Person${i}`, ...(isLead ? { Company: 'Acme' } : {}) },
          UI,
        );
        (isLead ? sfLeads : sfContacts).push(created.id as string);
      }
      const marketoEmails = random() < 0.4 ? [email, `  ${variant(email)} `] : [variant(email)];
      const leads = marketoEmails.map((m, k) =>
        e.world.createLead(
          {
            email: m,
            ...(k === 0 && sfContacts[0]
              ? { sfdcType: 'Contact' as const, sfdcContactId: sfContacts[0] }
              : k === 0 && sfLeads[0]
                ? { sfdcType: 'Lead' as const, sfdcLeadId: sfLeads[0] }
                : {}),
          },
          Date.now(),
        ),
      );
      people.push({ email, leads, sfLeads, sfContacts, optedOut: false });
    }

    // Faults from here on.
    armMarketo(mk, MARKETO_KINDS, rate);
    const sfFaults = armSalesforce(sf, SALESFORCE_ALL, rate);
    const processFaults = new ProcessFaults({
      rate,
      random: mulberry32(seed ^ 0x5eed),
      kill: true,
      stallMs: scenario.visibilitySeconds * 1000 + 700,
    });
    if (rate > 0) {
      stoppers.push(
        armMarketoOnce(mk, MARKETO_KINDS, {
          spacingMs: 100,
          pagingEndpoint: '/rest/v1/activities/leadchanges.json',
        }),
        armSalesforceOnce(sf, SALESFORCE_ALL, 150),
        churnMarketoTokens(mk, rate, mulberry32(seed ^ 0xc10c)),
      );
      processFaults.forceOnce(['kill before', 'kill after', 'stall'], 30);
    }
    const governor = chaosGovernor(platform.doc, platform.tables.governor, e.settings);
    const marketo = chaosMarketoClient({
      credentials: e.local.credentials,
      governor,
      logger: platform.logger,
      seed,
    });
    const salesforce = vendorClients(platform, e.local.credentials, governor).salesforce;
    const deps = faultOptOutDeps(
      processFaults,
      buildOptOutDeps({
        settings: e.settings,
        logger: platform.logger,
        doc: platform.doc,
        tables: platform.tables,
        sender: new SqsMessageSender({ client: platform.sqs }),
        queueUrls: { unsubscribe: platform.queueUrls.unsubscribe! },
        marketo: () => marketo,
        salesforce: () => salesforce,
      }),
    );
    server = await runServeCommand(deps, {
      port: 0,
      secrets: staticWebhookSecrets(SECRET),
      sqsClient: platform.sqs,
      consumerConcurrency: 2,
      // Batches as deployed, with the window scaled like the visibility timeout (2 s of 720 s there).
      consumerBatchingWindowMs: Math.round((scenario.visibilitySeconds * 1000) / 8),
    });
    const url = `${server.url}${WEBHOOK_PATH}`;
    const counts: Record<string, number> = {};
    const bump = (k: string, n = 1) => {
      counts[k] = (counts[k] ?? 0) + n;
    };

    /** A sender that retries on 5xx and broken connections, as a well-behaved one does. */
    const deliver = async (body: Record<string, unknown>): Promise<void> => {
      for (let attempt = 1; attempt <= 8; attempt++) {
        try {
          const res = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-webhook-secret': SECRET },
            body: JSON.stringify(body),
          });
          if (res.status === 202) return;
          if (res.status < 500) throw new Error(`webhook refused: HTTP ${res.status} ${await res.text()}`);
          bump('webhook 5xx (sender retried)');
        } catch (err) {
          if (err instanceof Error && err.message.startsWith('webhook refused')) throw err;
          bump('webhook connection failed (sender retried)');
        }
        await sleep(50 * attempt);
      }
      throw new Error('webhook never accepted after 8 attempts');
    };
    /** One to three deliveries of the same body, some at once, some later. */
    const deliveries: Promise<void>[] = [];
    const webhook = (body: Record<string, unknown>) => {
      const n = 1 + Math.floor(random() * 3);
      if (n > 1) bump('duplicate webhook deliveries', n - 1);
      for (let k = 0; k < n; k++) {
        const delay = k === 0 ? 0 : random() < 0.5 ? 0 : 200 + Math.floor(random() * 800);
        deliveries.push(sleep(delay).then(() => deliver(body)));
      }
    };

    let changes = 0;
    const optOut = (p: Person) => {
      changes++;
      p.optedOut = true;
      const r = random();
      const at = new Date().toISOString();
      if (r < 0.35) {
        const lead = pick(p.leads);
        e.world.recordLeadChange(lead.id, { unsubscribed: true, reason: 'Unsubscribed via email link' });
        bump('opt-out in Marketo');
        // Marketo's "Call Webhook" step fires for half of them (lead id and the lead's raw email).
        if (random() < 0.5) webhook({ email: lead.email, leadId: lead.id, occurredAt: at });
      } else if (r < 0.7) {
        const sobject = p.sfLeads.length && (!p.sfContacts.length || random() < 0.5) ? 'Lead' : 'Contact';
        const id = pick(sobject === 'Lead' ? p.sfLeads : p.sfContacts);
        sf.state.update(sobject, { Id: id, HasOptedOutOfEmail: true }, UI);
        bump(`opt-out in Salesforce (${sobject})`);
      } else {
        webhook({ email: variant(` ${p.email} `), reason: 'Preference centre', occurredAt: at });
        bump('opt-out by webhook (other sender)');
      }
    };

    const failedRuns: string[] = [];
    let runs = 0;
    /** Lets the webhook queue drain, then runs the nightly reconciliation until nothing is left to retry. */
    const settle = async (): Promise<OptOutRunReport | undefined> => {
      await Promise.all(deliveries.splice(0));
      await drainUntilIdle({
        client: platform.sqs,
        queues: [platform.queueUrls.unsubscribe!],
        idleMs: 500,
        timeoutMs: 120_000,
        busy: () => server?.consumer?.stats.active ?? 0,
      });
      // A Marketo kind forced once (armMarketoOnce) is armed on the next call: while one has not
      // fired yet, a clean night is followed by another (the next night's calls meet it), so the
      // coverage does not hang on how many calls the earlier steps happened to make.
      const marketoOncePending = () => {
        const injected = marketoInjected(mk);
        return rate > 0 && MARKETO_KINDS.some((k) => !injected[marketoLabel(k)]);
      };
      for (let n = 0; n < MAX_NIGHTLY_RUNS; n++) {
        runs++;
        try {
          const report = await reconcileOptOuts(deps);
          const clean = report.pendingPeople === 0 && report.writes.failed === 0;
          if (clean && (!marketoOncePending() || n === MAX_NIGHTLY_RUNS - 1)) return report;
        } catch (err) {
          failedRuns.push(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
          bump('nightly run died (rerun)');
        }
      }
      return undefined;
    };

    // Phase 1: opt-outs everywhere (a few people twice).
    const phase1 = Math.ceil(scenario.changes * 0.7);
    for (let i = 0; i < phase1; i++) optOut(people[i < phase1 * 0.9 ? i : Math.floor(random() * i)]!);
    const first = await settle();
    // Phase 2: resubscribe attempts on a third of the opted-out people, and the remaining opt-outs.
    const optedOut = people.filter((p) => p.optedOut);
    for (const p of optedOut) {
      if (random() >= 0.33) continue;
      if (p.sfContacts.length + p.sfLeads.length > 0 && random() < 0.5) {
        const sobject = p.sfLeads.length ? 'Lead' : 'Contact';
        sf.state.update(
          sobject,
          { Id: pick(sobject === 'Lead' ? p.sfLeads : p.sfContacts), HasOptedOutOfEmail: false },
          UI,
        );
        bump('resubscribe attempt in Salesforce');
      } else {
        e.world.recordLeadChange(pick(p.leads).id, { unsubscribed: false });
        bump('resubscribe attempt in Marketo');
      }
    }
    for (let i = phase1; changes < scenario.changes && i < people.length; i++) optOut(people[i]!);
    const last = await settle();

    // Ground truth, from the sandboxes: every record of an opted-out person opted out, nobody else's.
    let lost = 0;
    let falseOptOuts = 0;
    const lostDetail: string[] = [];
    for (const p of people) {
      const key = normaliseEmail(p.email);
      const values = [
        ...e.world.leads
          .filter((l) => normaliseEmail(l.email) === key)
          .map((l) => ['mk', l.unsubscribed] as const),
        ...[...sf.state.leads.values(), ...sf.state.contacts.values()]
          .filter((r) => typeof r.Email === 'string' && normaliseEmail(r.Email) === key)
          .map((r) => [r.Id, r.HasOptedOutOfEmail === true] as const),
      ];
      const wrong = values.filter(([, v]) => v !== p.optedOut);
      if (wrong.length === 0) continue;
      if (p.optedOut) {
        lost++;
        lostDetail.push(`${key}: ${wrong.map(([t]) => t).join(',')}`);
      } else falseOptOuts++;
    }
    const unsubscribeDepth = await e.local.queueDepth('unsubscribe');
    const faults: Record<string, number> = { ...marketoInjected(mk), ...marketoAuthAnswers(mk) };
    for (const [k, v] of Object.entries(sfFaults.counts)) faults[k] = v;
    for (const [k, v] of Object.entries(processFaults.counts)) faults[k] = v;
    for (const k of [
      'duplicate webhook deliveries',
      'webhook 5xx (sender retried)',
      'nightly run died (rerun)',
    ])
      if (counts[k]) faults[k] = counts[k];
    const notes = [
      `changes: ${Object.entries(counts)
        .filter(([k]) => k.startsWith('opt-out') || k.startsWith('resubscribe'))
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
      `nightly runs ${runs}; last clean: ${Boolean(last)}; first phase clean: ${Boolean(first)}`,
      `resubscribes rejected (last run): ${last?.resubscribes.rejected ?? 'n/a'}`,
      ...(failedRuns.length ? [`failed nightly runs: ${failedRuns.slice(0, 5).join(' | ')}`] : []),
      ...(lostDetail.length ? [`lost: ${lostDetail.slice(0, 10).join('; ')}`] : []),
    ];
    if (unsubscribeDepth.dlq > 0 || lost > 0) notes.push(...(await diagnose(platform)));
    sqs.restore();
    return {
      scenario: scenario.name,
      seed,
      faults,
      calls: vendorCalls(mk, sf),
      activities: 0,
      tasks: 0,
      duplicates: 0,
      missing: 0,
      wrongWho: 0,
      unexpected: 0,
      optOutChanges: changes,
      optOutsLost: lost,
      falseOptOuts,
      deadLetters: unsubscribeDepth.dlq,
      limitBreaches: 0,
      maxReceives: sqs.maxReceives('sync-unsubscribe'),
      parks: sqs.parks.length,
      durationMs: Date.now() - started,
      notes,
    };
  } finally {
    for (const t of timers) clearTimeout(t);
    for (const stop of stoppers) stop();
    await server?.close();
    await e.stop();
  }
}

/** Leaves these alone: configuration, not calls with side effects. */
const PLAIN = new Set(['settings', 'logger', 'unsubscribeQueueUrl', 'now']);

/** The unsubscribe sync's dependencies behind process faults; vendor clients too, once built. */
function faultOptOutDeps(faults: ProcessFaults, deps: OptOutDeps): OptOutDeps {
  const vendor = (key: 'marketo' | 'salesforce') => async () => faults.wrap(key, await deps[key]());
  const marketo = vendor('marketo');
  const salesforce = vendor('salesforce');
  return new Proxy(deps, {
    get(obj, prop) {
      if (prop === 'marketo') return marketo;
      if (prop === 'salesforce') return salesforce;
      const value: unknown = Reflect.get(obj, prop, obj);
      if (typeof prop !== 'string' || PLAIN.has(prop) || typeof value !== 'object' || value === null)
        return value;
      return faults.wrap(prop, value);
    },
  });
}
