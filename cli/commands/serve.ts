import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { UNSUBSCRIBE_CONSUMER } from '../../shared/adapters/sqs/queue-definitions.js';
import { SqsVisibilityDeferrer } from '../../shared/adapters/sqs/sqs-visibility-deferrer.js';
import { type OptOutDeps, policyOf } from '../../shared/optouts/opt-out-deps.js';
import {
  handleUnsubscribeRequest,
  MAX_WEBHOOK_BODY_BYTES,
  WEBHOOK_PATH,
  type WebhookDeps,
  type WebhookResponse,
} from '../../shared/optouts/webhook-request.js';
import type { WebhookSecrets } from '../../shared/optouts/webhook-secrets.js';
import type { SourceRateLimiter } from '../../shared/ports/source-rate-limiter.js';
import type { FailureRecorder } from '../../shared/runtime/failure-recorder.js';
import { applyUnsubscribeConsumer } from '../../shared/runtime/opt-out-handlers.js';
import { sqsConsumerFor } from '../../shared/runtime/sqs-batch.js';
import { webhookSecretsFromEnv } from '../../shared/runtime/webhook-secrets-from-env.js';
import { queueArn } from '../embedded/local-sqs.js';
import { type SqsEventSource, startSqsEventSource } from '../embedded/sqs-event-source.js';

/**
 * `serve [--port N]`: the webhook endpoints on node:http, with the same core handler as the
 * Lambda. With an SQS client it also runs the unsubscribe consumer locally (what the Lambda's SQS
 * event source does in AWS), so an accepted unsubscribe reaches Salesforce within seconds.
 */

export interface ServeOptions {
  port?: number;
  /** Default 127.0.0.1: expose deliberately (e.g. behind a tunnel), never by accident. */
  host?: string;
  /** Default: WEBHOOK_SECRET (+ WEBHOOK_SECRET_PREVIOUS) or WEBHOOK_SECRET_ARN from the environment. */
  secrets?: WebhookSecrets;
  /** When given, the local unsubscribe consumer polls the queue with it. */
  sqsClient?: SQSClient;
  consumerConcurrency?: number;
  /**
   * The consumer's batching window (default: as deployed, UNSUBSCRIBE_CONSUMER). Only tests whose
   * queue visibility timeout is scaled down to seconds pass a window scaled with it: a window must
   * stay well under the visibility timeout, or a message comes back while its batch still forms.
   */
  consumerBatchingWindowMs?: number;
  /** Keeps why a consumed message failed (the failures table), as the Lambda consumer does. */
  failureRecorder?: FailureRecorder;
  /**
   * The shared per-source counters (the webhookSources table on the embedded DynamoDB, as in AWS).
   * Required when optOuts.webhookPerSourceLimit is set.
   */
  sourceLimiter?: SourceRateLimiter;
}

export class ServeSourceLimiterMissingError extends Error {
  override readonly name = 'ServeSourceLimiterMissingError';
  constructor() {
    super(
      'optOuts.webhookPerSourceLimit is set but serve was given no source limiter: start it through runServeCommandLocal (which uses the webhookSources table), or pass options.sourceLimiter.',
    );
  }
}

export interface RunningServer {
  url: string;
  server: Server;
  consumer?: SqsEventSource;
  close(): Promise<void>;
}

/**
 * Reads at most `limit + 1` bytes: enough for the core to answer 413 for a bigger body without
 * buffering it (a declared Content-Length over the limit is not read at all).
 */
async function readLimited(
  req: IncomingMessage,
  limit: number,
): Promise<{ body: Buffer; truncated: boolean }> {
  if (Number(req.headers['content-length']) > limit) return { body: Buffer.alloc(0), truncated: true };
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size > limit) return { body: Buffer.concat(chunks), truncated: true };
  }
  return { body: Buffer.concat(chunks), truncated: false };
}

/** `close`: the request body was not read to its end, so the connection cannot be reused. */
function send(res: ServerResponse, r: WebhookResponse, close = false): void {
  res.writeHead(r.statusCode, close ? { ...r.headers, connection: 'close' } : r.headers);
  res.end(r.body, close ? () => res.socket?.destroy() : undefined);
}

const jsonResponse = (statusCode: number, body: unknown, headers: Record<string, string> = {}) => ({
  statusCode,
  headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  body: JSON.stringify(body),
});

export function createWebhookServer(deps: WebhookDeps): Server {
  return createServer((req, res) => {
    // Read before the body: once an oversize body is cut off, the request has no socket any more.
    const sourceIp = req.socket?.remoteAddress;
    void (async () => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/healthz') {
        send(
          res,
          jsonResponse(req.method === 'GET' ? 200 : 405, { ok: req.method === 'GET' }, { allow: 'GET' }),
        );
        return;
      }
      if (path !== WEBHOOK_PATH) {
        send(res, jsonResponse(404, { error: 'not_found', message: 'No such route.' }));
        return;
      }
      if (req.method !== 'POST') {
        send(
          res,
          jsonResponse(405, { error: 'method_not_allowed', message: 'Use POST.' }, { allow: 'POST' }),
        );
        return;
      }
      const { body, truncated } = await readLimited(req, MAX_WEBHOOK_BODY_BYTES);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      // An oversize body is answered (401 or 413) without reading the rest: drop the connection,
      // or node would keep reading (and discarding) whatever the sender streams.
      send(
        res,
        await handleUnsubscribeRequest(deps, { headers, body, ...(sourceIp ? { sourceIp } : {}) }),
        truncated,
      );
    })().catch((err: unknown) => {
      deps.logger.error('Webhook request failed', {
        error: err instanceof Error ? { name: err.name, message: err.message } : 'unknown',
      });
      if (!res.headersSent)
        send(res, jsonResponse(500, { error: 'internal_error', message: 'Not accepted; retry later.' }));
      else res.end();
    });
  });
}

export async function runServeCommand(deps: OptOutDeps, options: ServeOptions = {}): Promise<RunningServer> {
  const limit = deps.settings.optOuts.webhookPerSourceLimit;
  if (limit && !options.sourceLimiter) throw new ServeSourceLimiterMissingError();
  const webhook: WebhookDeps = {
    store: deps.store,
    sender: deps.sender,
    unsubscribeQueueUrl: deps.unsubscribeQueueUrl,
    secrets: options.secrets ?? webhookSecretsFromEnv(),
    policy: policyOf(deps),
    logger: deps.logger,
    allowedSources: deps.settings.optOuts.webhookAllowedSources,
    ...(limit && options.sourceLimiter && { sourceThrottle: { limit, limiter: options.sourceLimiter } }),
    ...(deps.now ? { now: deps.now } : {}),
  };
  const server = createWebhookServer(webhook);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8787, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  let consumer: SqsEventSource | undefined;
  if (options.sqsClient) {
    // Salesforce out of API requests / Marketo quota spent: park the message until then (as the Lambda does).
    const arn = await queueArn(options.sqsClient, deps.unsubscribeQueueUrl);
    const deferrer = new SqsVisibilityDeferrer(options.sqsClient, (a) =>
      a === arn ? deps.unsubscribeQueueUrl : undefined,
    );
    consumer = await startSqsEventSource({
      client: options.sqsClient,
      queueUrl: deps.unsubscribeQueueUrl,
      queueArn: arn,
      handler: sqsConsumerFor(applyUnsubscribeConsumer, 'unsubscribe')(
        deps,
        deferrer,
        options.failureRecorder,
      ),
      // As deployed: batches of up to 1,000 formed over the batching window.
      batchSize: UNSUBSCRIBE_CONSUMER.batchSize,
      maxBatchingWindowMs:
        options.consumerBatchingWindowMs ?? UNSUBSCRIBE_CONSUMER.maxBatchingWindowSeconds * 1000,
      concurrency: options.consumerConcurrency ?? UNSUBSCRIBE_CONSUMER.maxConcurrency,
      logger: deps.logger,
      functionName: 'local-apply-unsubscribe',
    });
  }
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  deps.logger.info('Serving the unsubscribe webhook', {
    url: `${url}${WEBHOOK_PATH}`,
    consumer: Boolean(consumer),
  });
  return {
    url,
    server,
    ...(consumer ? { consumer } : {}),
    async close() {
      await consumer?.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
