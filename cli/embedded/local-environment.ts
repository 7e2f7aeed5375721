import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from '@aws-lambda-powertools/logger';
import {
  type MarketoSandbox,
  type MarketoSandboxOptions,
  startMarketoSandbox,
} from '../../sandboxes/marketo/marketo-sandbox.js';
import { seedSalesActivity } from '../../sandboxes/salesforce/sales-activity-seed.js';
import {
  type SalesforceSandbox,
  type SalesforceSandboxOptions,
  startSalesforceSandbox,
} from '../../sandboxes/salesforce/salesforce-sandbox.js';
import { createWorld, World, type WorldOptions, type WorldSnapshot } from '../../sandboxes/world.js';
import type { TableKey } from '../../shared/adapters/dynamodb/table-definitions.js';
import type { QueueKey } from '../../shared/adapters/sqs/queue-definitions.js';
import type { Settings } from '../../shared/config/settings.js';
import type { Platform } from '../../shared/runtime/activity-runtime.js';
import { createDocumentClient } from '../../shared/runtime/aws-clients.js';
import { type Credentials, credentialsFromEnv, vendorsConfigured } from '../../shared/runtime/credentials.js';
import { createTables, dynamoClient, startDynalite } from './local-dynamodb.js';
import { createQueues, queueCounts, sqsClient, startLocalSqs } from './local-sqs.js';

export interface LocalEnvironmentOptions {
  settings: Settings;
  logger: Logger;
  /** Embedded state (DynamoDB, queues, sandboxes) lives here; undefined = in memory only (tests). */
  dataDir?: string;
  env?: NodeJS.ProcessEnv;
  /** World of a fresh embedded default (ignored when one is persisted in dataDir). */
  world?: WorldOptions | World;
  marketoSandbox?: Omit<MarketoSandboxOptions, 'world'>;
  salesforceSandbox?: Omit<SalesforceSandboxOptions, 'seed'>;
  visibilityTimeoutSeconds?: Partial<Record<QueueKey, number>>;
}

export interface LocalEnvironment {
  platform: Platform;
  credentials: Credentials;
  dlqUrls: Partial<Record<QueueKey, string>>;
  /** Present when the vendor runs on the built-in sandbox. */
  marketoSandbox?: MarketoSandbox;
  salesforceSandbox?: SalesforceSandbox;
  world?: World;
  queueDepth(key: QueueKey): Promise<{ visible: number; inFlight: number; delayed: number; dlq: number }>;
  /** Writes sandbox state to dataDir (also done by stop). */
  save(): void;
  stop(): Promise<void>;
}

/** Seeded, realistic default: 3,000 people, 30,000 activities over 90 days ending now. */
export const DEFAULT_WORLD: WorldOptions = {
  seed: 20261015,
  people: 3000,
  activities: 30_000,
  days: 90,
  // Opt-outs on both sides within the last day, so the first night of `npm start` has work.
  recentOptOuts: 12,
};

/**
 * The embedded default: DynamoDB (dynalite) and SQS (fauxqs) on loopback, unless the SDK's own
 * AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_SQS name another server; Marketo and Salesforce
 * sandboxes unless MARKETO_* / SALESFORCE_* are set. Persistent in dataDir across commands.
 */
export async function startLocalEnvironment(options: LocalEnvironmentOptions): Promise<LocalEnvironment> {
  const env = options.env ?? process.env;
  const dataDir = options.dataDir ? resolve(options.dataDir) : undefined;
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    // DynamoDB
    let dynamoEndpoint = env.AWS_ENDPOINT_URL_DYNAMODB;
    if (!dynamoEndpoint) {
      const server = await startDynalite(dataDir ? { path: join(dataDir, 'dynamodb') } : {});
      stops.push(server.stop);
      dynamoEndpoint = server.endpoint;
    }
    const dynamo = dynamoClient(dynamoEndpoint);
    stops.push(async () => dynamo.destroy());
    const tables: Record<TableKey, string> = await createTables(dynamo);

    // SQS
    let sqs: ReturnType<typeof sqsClient>;
    let queueUrls: Record<QueueKey, string>;
    let dlqUrls: Record<QueueKey, string>;
    let depthOf: LocalEnvironment['queueDepth'];
    if (env.AWS_ENDPOINT_URL_SQS) {
      sqs = sqsClient(env.AWS_ENDPOINT_URL_SQS);
      stops.push(async () => sqs.destroy());
      ({ queueUrls, dlqUrls } = await createQueues(
        sqs,
        options.visibilityTimeoutSeconds,
        env.AWS_ENDPOINT_URL_SQS,
      ));
      depthOf = async (key) => {
        const main = await queueCounts(sqs, queueUrls[key]);
        const dlq = await queueCounts(sqs, dlqUrls[key]);
        return { ...main, dlq: dlq.visible + dlq.inFlight + dlq.delayed };
      };
    } else {
      const local = await startLocalSqs({
        ...(dataDir ? { dataDir: join(dataDir, 'sqs') } : {}),
        ...(options.visibilityTimeoutSeconds
          ? { visibilityTimeoutSeconds: options.visibilityTimeoutSeconds }
          : {}),
      });
      stops.push(local.stop);
      sqs = local.client;
      queueUrls = local.queueUrls;
      dlqUrls = local.dlqUrls;
      depthOf = (key) => local.depth(key);
    }

    // Vendors: real when configured, sandboxes otherwise.
    const configured = vendorsConfigured(env);
    let world: World | undefined;
    let marketoSandbox: MarketoSandbox | undefined;
    let salesforceSandbox: SalesforceSandbox | undefined;
    const worldFile = dataDir ? join(dataDir, 'sandbox-marketo.json') : undefined;
    const salesforceFile = dataDir ? join(dataDir, 'sandbox-salesforce.json') : undefined;
    if (!configured.marketo || !configured.salesforce) {
      world = loadWorld(worldFile, options.world);
    }
    if (!configured.marketo && world) {
      marketoSandbox = await startMarketoSandbox({
        clock: () => Date.now(),
        ...options.marketoSandbox,
        world,
      });
      stops.push(marketoSandbox.stop);
    }
    if (!configured.salesforce && world) {
      const persisted =
        salesforceFile && existsSync(salesforceFile)
          ? JSON.parse(readFileSync(salesforceFile, 'utf8'))
          : undefined;
      salesforceSandbox = await startSalesforceSandbox({
        ...options.salesforceSandbox,
        seed: persisted ?? world.salesforce,
      });
      stops.push(salesforceSandbox.stop);
      // A fresh default org also holds reps' Tasks and Events (job 4's source); tests bring their own.
      if (!persisted && !(options.world instanceof World))
        seedSalesActivity(salesforceSandbox.state, { now: world.now });
    }
    // Sandbox endpoints stand in for the variables of the vendor that is not configured.
    const credentials = credentialsFromEnv({
      ...env,
      ...(marketoSandbox
        ? {
            MARKETO_BASE_URL: marketoSandbox.baseUrl,
            MARKETO_CLIENT_ID: marketoSandbox.credentials.clientId,
            MARKETO_CLIENT_SECRET: marketoSandbox.credentials.clientSecret,
          }
        : {}),
      ...(salesforceSandbox
        ? {
            SALESFORCE_LOGIN_URL: salesforceSandbox.loginUrl,
            SALESFORCE_CLIENT_ID: salesforceSandbox.clientId,
            SALESFORCE_CLIENT_SECRET: salesforceSandbox.clientSecret,
          }
        : {}),
    });

    const save = () => {
      if (worldFile && world) writeJsonAtomic(worldFile, world.toSnapshot());
      if (salesforceFile && salesforceSandbox) {
        const s = salesforceSandbox.state;
        writeJsonAtomic(salesforceFile, {
          leads: [...s.leads.values()],
          contacts: [...s.contacts.values()],
          tasks: [...s.tasks.values()],
          events: [...s.events.values()],
          campaigns: Object.fromEntries(
            Object.entries(s.campaigns).map(([k, m]) => [k, [...(m as Map<string, unknown>).values()]]),
          ),
          users: [...s.users.values()],
          history: s.history.snapshot(),
        });
      }
    };
    return {
      platform: {
        settings: options.settings,
        logger: options.logger,
        doc: createDocumentClient(dynamo),
        sqs,
        tables,
        queueUrls,
      },
      credentials,
      dlqUrls,
      ...(marketoSandbox ? { marketoSandbox } : {}),
      ...(salesforceSandbox ? { salesforceSandbox } : {}),
      ...(world ? { world } : {}),
      queueDepth: depthOf,
      save,
      async stop() {
        save();
        await stopAll();
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

function loadWorld(file: string | undefined, given: WorldOptions | World | undefined): World {
  if (given instanceof World) return given;
  if (file && existsSync(file))
    return World.fromSnapshot(JSON.parse(readFileSync(file, 'utf8')) as WorldSnapshot);
  // A fresh world ends now, so the 90-day look-back covers it.
  return createWorld({ ...DEFAULT_WORLD, now: Date.now(), ...given });
}

function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(value));
  renameSync(tmp, file);
}
