import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueNameExists,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { type BuildAppOptions, buildApp } from 'fauxqs';
import {
  dlqName,
  QUEUES,
  type QueueDefinition,
  type QueueKey,
} from '../../shared/adapters/sqs/queue-definitions.js';
import { createSqsClient } from '../../shared/runtime/aws-clients.js';

type Stores = NonNullable<BuildAppOptions['stores']>;
type SqsStore = Stores['sqsStore'];

/** The part of fauxqs's (unexported) SQLite PersistenceManager that startFauxqs itself uses. */
interface Persistence {
  load(sqsStore: SqsStore, snsStore: Stores['snsStore'], s3Store: Stores['s3Store']): void;
  close(): void;
}

interface FauxqsInternals {
  SqsStore: new () => SqsStore;
  SnsStore: new () => Stores['snsStore'];
  S3Store: new () => Stores['s3Store'];
  PersistenceManager: new (dataDir: string) => Persistence;
}

export interface QueueDepth {
  visible: number;
  inFlight: number;
  delayed: number;
  /** Messages waiting in this queue's dead-letter queue (all states). */
  dlq: number;
}

export interface LocalSqs {
  endpoint: string;
  client: SQSClient;
  queueUrls: Record<QueueKey, string>;
  dlqUrls: Record<QueueKey, string>;
  depth(key: QueueKey): Promise<QueueDepth>;
  stop(): Promise<void>;
}

export interface StartLocalSqsOptions {
  /** Persist queues and messages (SQLite) here, so a later process sees the same state. */
  dataDir?: string;
  /** Override visibility timeouts, e.g. 1–2 s in tests so redelivery is quick. */
  visibilityTimeoutSeconds?: Partial<Record<QueueKey, number>>;
}

/**
 * fauxqs's stores and persistence are not in its package exports; `startFauxqs` wires them the
 * same way but always listens on 0.0.0.0. We load them by file to listen on loopback only.
 */
async function loadFauxqsInternals(): Promise<FauxqsInternals> {
  const entry = import.meta.resolve('fauxqs');
  const load = async (path: string, name: keyof FauxqsInternals): Promise<unknown> => {
    const mod: Record<string, unknown> = await import(new URL(path, entry).href);
    const value = mod[name];
    if (typeof value !== 'function') {
      throw new Error(
        `fauxqs internals changed: ${path} no longer exports ${name}. Pin fauxqs to a 2.x version ` +
          'whose dist/ layout matches cli/embedded/local-sqs.ts, or update that file.',
      );
    }
    return value;
  };
  return {
    SqsStore: (await load('./sqs/sqsStore.js', 'SqsStore')) as FauxqsInternals['SqsStore'],
    SnsStore: (await load('./sns/snsStore.js', 'SnsStore')) as FauxqsInternals['SnsStore'],
    S3Store: (await load('./s3/s3Store.js', 'S3Store')) as FauxqsInternals['S3Store'],
    PersistenceManager: (await load(
      './persistence.js',
      'PersistenceManager',
    )) as FauxqsInternals['PersistenceManager'],
  };
}

/**
 * fauxqs 2.x writes NULL into the NOT NULL receive-count column when a message becomes visible
 * again through ChangeMessageVisibility 0 on a persisted queue, so that call fails
 * (`NOT NULL constraint failed: sqs_messages.approximate_receive_count`). Clear only the in-flight
 * columns, as its own start-up path does.
 */
function keepReceiveCountOnReady(persistence: Persistence): void {
  const p = persistence as Persistence & {
    db?: { prepare(sql: string): { run(...args: unknown[]): unknown } };
    updateMessageReady?: (messageId: string) => void;
  };
  if (typeof p.db?.prepare !== 'function' || typeof p.updateMessageReady !== 'function') {
    throw new Error(
      'fauxqs internals changed: PersistenceManager no longer has db / updateMessageReady. Pin fauxqs to a 2.x version ' +
        'whose dist/ layout matches cli/embedded/local-sqs.ts, or update that file.',
    );
  }
  const ready = p.db.prepare(
    'UPDATE sqs_messages SET receipt_handle = NULL, visibility_deadline = NULL WHERE message_id = ?',
  );
  p.updateMessageReady = (messageId) => {
    ready.run(messageId);
  };
}

/** fauxqs on 127.0.0.1 (random port); `dataDir` persists it. Returns the endpoint and a hook to stop it. */
export async function startFauxqsOnLoopback(
  options: { dataDir?: string } = {},
): Promise<{ endpoint: string; sqsStore: SqsStore; stop(): Promise<void> }> {
  const internals = await loadFauxqsInternals();
  const sqsStore = new internals.SqsStore();
  const snsStore = new internals.SnsStore();
  const s3Store = new internals.S3Store();
  const persistence = options.dataDir ? new internals.PersistenceManager(options.dataDir) : undefined;
  if (persistence) {
    keepReceiveCountOnReady(persistence);
    // Same order as startFauxqs: load first, then attach, so loading does not write back.
    persistence.load(sqsStore, snsStore, s3Store);
    const attached = persistence as unknown as SqsStore['persistence'];
    sqsStore.persistence = attached;
    snsStore.persistence = attached;
    s3Store.persistence = attached;
    for (const queue of sqsStore.allQueues()) queue.persistence = attached;
  }
  const app = buildApp({ logger: false, stores: { sqsStore, snsStore, s3Store } });
  if (persistence) app.addHook('preClose', () => persistence.close());
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    endpoint: new URL(address).origin,
    sqsStore,
    stop: () => app.close(),
  };
}

/** An SQS client that always talks to `endpoint`, whatever host the queue URLs carry. */
export function sqsClient(endpoint: string): SQSClient {
  return createSqsClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    useQueueUrlAsEndpoint: false,
    maxAttempts: 3,
  });
}

/**
 * Against fauxqs the SDK (query-compatible JSON protocol) raises the base SQSServiceException
 * named 'AWS.SimpleQueueService.QueueNameExists', not the modelled QueueNameExists class.
 */
function isQueueNameExists(err: unknown): boolean {
  return (
    err instanceof QueueNameExists ||
    (err instanceof Error && (err.name === 'QueueNameExists' || err.name.endsWith('.QueueNameExists')))
  );
}

async function ensureQueue(
  client: SQSClient,
  name: string,
  attributes: Record<string, string>,
): Promise<string> {
  try {
    const out = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    if (!out.QueueUrl) throw new Error(`CreateQueue ${name} returned no QueueUrl`);
    return out.QueueUrl;
  } catch (err) {
    // Exists with other attributes (e.g. a persisted queue, new visibility override): converge.
    if (!isQueueNameExists(err)) throw err;
    const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: name }));
    if (!QueueUrl) throw new Error(`GetQueueUrl ${name} returned no QueueUrl`, { cause: err });
    await client.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: attributes }));
    return QueueUrl;
  }
}

/** The queue's ARN (GetQueueAttributes QueueArn). */
export async function queueArn(client: SQSClient, queueUrl: string): Promise<string> {
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  const arn = Attributes?.QueueArn;
  if (!arn) throw new Error(`GetQueueAttributes returned no QueueArn for ${queueUrl}`);
  return arn;
}

/** Creates every queue in QUEUES and its DLQ (idempotent: existing queues are updated to match). */
export async function createQueues(
  client: SQSClient,
  visibilityOverrides: Partial<Record<QueueKey, number>> = {},
  endpoint?: string,
): Promise<{ queueUrls: Record<QueueKey, string>; dlqUrls: Record<QueueKey, string> }> {
  const queueUrls = {} as Record<QueueKey, string>;
  const dlqUrls = {} as Record<QueueKey, string>;
  // A persisted queue keeps the URL (and port) of the process that created it; fauxqs looks
  // queues up by region and name only, so show the current port to avoid confusing anyone.
  const withPort = (url: string): string => {
    if (!endpoint) return url;
    const u = new URL(url);
    u.port = new URL(endpoint).port;
    return u.toString();
  };
  for (const [key, def] of Object.entries(QUEUES) as [QueueKey, QueueDefinition][]) {
    const dlqUrl = await ensureQueue(client, dlqName(def), { MessageRetentionPeriod: '1209600' });
    const deadLetterTargetArn = await queueArn(client, dlqUrl);
    dlqUrls[key] = withPort(dlqUrl);
    queueUrls[key] = withPort(
      await ensureQueue(client, def.localName, {
        VisibilityTimeout: String(visibilityOverrides[key] ?? def.visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn, maxReceiveCount: def.maxReceiveCount }),
      }),
    );
  }
  return { queueUrls, dlqUrls };
}

const DEPTH_ATTRIBUTES = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
] as const;

/** Visible / in-flight / delayed counts of one queue, from GetQueueAttributes. */
export async function queueCounts(
  client: SQSClient,
  queueUrl: string,
): Promise<{ visible: number; inFlight: number; delayed: number }> {
  const { Attributes = {} } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: [...DEPTH_ATTRIBUTES] }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0),
  };
}

/** fauxqs on loopback with every queue and DLQ (tests and the embedded default). */
export async function startLocalSqs(options: StartLocalSqsOptions = {}): Promise<LocalSqs> {
  const server = await startFauxqsOnLoopback(options.dataDir ? { dataDir: options.dataDir } : {});
  const client = sqsClient(server.endpoint);
  try {
    const { queueUrls, dlqUrls } = await createQueues(
      client,
      options.visibilityTimeoutSeconds,
      server.endpoint,
    );
    return {
      endpoint: server.endpoint,
      client,
      queueUrls,
      dlqUrls,
      async depth(key) {
        // fauxqs moves expired in-flight / delayed messages only when polled; settle them first
        // so the split between visible, in-flight and delayed is current.
        server.sqsStore.processAllTimers();
        const main = await queueCounts(client, queueUrls[key]);
        const dlq = await queueCounts(client, dlqUrls[key]);
        return { ...main, dlq: dlq.visible + dlq.inFlight + dlq.delayed };
      },
      async stop() {
        client.destroy();
        await server.stop();
      },
    };
  } catch (err) {
    client.destroy();
    await server.stop();
    throw err;
  }
}
