import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createWebhookServer } from '../../cli/commands/serve.js';
import {
  type DynamoTestServer,
  dynamoClient,
  startDynamoTestServer,
} from '../../cli/embedded/local-dynamodb.js';
import { type LocalSqs, startLocalSqs } from '../../cli/embedded/local-sqs.js';
import { DynamoDbOptOutStore } from '../../shared/adapters/dynamodb/opt-out-store.js';
import { SqsMessageSender } from '../../shared/adapters/sqs/sqs-message-sender.js';
import { createLogger } from '../../shared/observability/logger.js';
import { MAX_WEBHOOK_BODY_BYTES, type WebhookDeps } from '../../shared/optouts/webhook-request.js';
import { staticWebhookSecrets } from '../../shared/optouts/webhook-secrets.js';
import {
  type Case,
  CURRENT,
  caseArb,
  expectSafeResponse,
  headersOf,
  LEAK,
  observe,
  PREVIOUS,
  STORE_WRITES,
} from './webhook-cases.js';

/**
 * The webhook as senders reach it: over node:http (`serve`, the same core) with raw-socket framing
 * tricks, and through the Lambda handler's middy stack with failing dependencies. Both on dynalite
 * and fauxqs; every refusal must leave the opt-out table untouched.
 */

const HTTP_RUNS = Number(process.env.FUZZ_HTTP_RUNS ?? 300);
const logger = createLogger('webhook-transport', { logLevel: 'SILENT' });

let db: DynamoTestServer;
let sqs: LocalSqs;
const writes: string[] = [];

function realDeps(): WebhookDeps {
  return {
    store: observe(new DynamoDbOptOutStore(db.doc, db.tables.optOuts), STORE_WRITES, (m) => writes.push(m)),
    sender: observe(new SqsMessageSender({ client: sqs.client }), new Set(['send']), (m) => writes.push(m)),
    unsubscribeQueueUrl: sqs.queueUrls.unsubscribe,
    secrets: staticWebhookSecrets(CURRENT, PREVIOUS),
    policy: { resubscribeSources: [] },
    logger,
  };
}

async function itemCount(): Promise<number> {
  const res = await db.doc.send(new ScanCommand({ TableName: db.tables.optOuts, Select: 'COUNT' }));
  return res.Count ?? 0;
}

beforeAll(async () => {
  [db, sqs] = await Promise.all([startDynamoTestServer(), startLocalSqs()]);
});
afterAll(async () => {
  await Promise.all([db?.stop(), sqs?.stop()]);
});

describe('webhook over node:http (serve)', () => {
  let url: URL;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const server = createWebhookServer(realDeps());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/unsubscribe`);
    close = () => new Promise((resolve) => server.close(() => resolve()));
  });
  afterAll(() => close());

  /** Writes raw bytes and returns the raw response (the socket may be closed by the server). */
  function raw(payload: string | Buffer, { endAfterWrite = true } = {}): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(Number(url.port), '127.0.0.1');
      let out = '';
      socket.on('data', (d) => {
        out += d.toString('latin1');
      });
      socket.on('error', (err) => (out ? resolve(out) : reject(err)));
      socket.on('close', () => resolve(out));
      socket.write(payload, () => {
        if (endAfterWrite) socket.end();
      });
      setTimeout(() => socket.destroy(), 5_000).unref();
    });
  }

  const head = (lines: string[]) => `${lines.join('\r\n')}\r\n\r\n`;

  it('answers a declared 1 GB body with 413 at once, without reading it, and writes nothing', async () => {
    const before = await itemCount();
    const res = await raw(
      head([
        'POST /webhooks/unsubscribe HTTP/1.1',
        'Host: x',
        `X-Webhook-Secret: ${CURRENT}`,
        'Content-Type: application/json',
        'Content-Length: 1000000000',
      ]),
      { endAfterWrite: false },
    );
    expect(res).toMatch(/^HTTP\/1\.1 413 /);
    expect(await itemCount()).toBe(before);
  });

  it('stops a chunked body at 16 KiB with 413 and drops the connection', async () => {
    const before = await itemCount();
    const started = Date.now();
    const chunk = `{"email":"chunked@example.com","reason":"${'x'.repeat(MAX_WEBHOOK_BODY_BYTES)}"}`;
    const res = await raw(
      `${head([
        'POST /webhooks/unsubscribe HTTP/1.1',
        'Host: x',
        `X-Webhook-Secret: ${CURRENT}`,
        'Content-Type: application/json',
        'Transfer-Encoding: chunked',
      ])}${Buffer.byteLength(chunk).toString(16)}\r\n${chunk}\r\n`,
      { endAfterWrite: false },
    );
    expect(res).toMatch(/^HTTP\/1\.1 413 /);
    expect(res).toMatch(/\r\nconnection: close\r\n/i);
    // Closed by the server, not by our 5 s guard: it does not keep reading what we stream.
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(await itemCount()).toBe(before);
  });

  it('refuses two X-Webhook-Secret headers, even two correct ones', async () => {
    const body = '{"email":"twice@example.com"}';
    const res = await raw(
      head([
        'POST /webhooks/unsubscribe HTTP/1.1',
        'Host: x',
        `X-Webhook-Secret: ${CURRENT}`,
        `X-Webhook-Secret: ${CURRENT}`,
        'Content-Type: application/json',
        `Content-Length: ${body.length}`,
        'Connection: close',
      ]) + body,
    );
    expect(res).toMatch(/^HTTP\/1\.1 401 /);
  });

  it('answers other methods and paths generically, echoing nothing from the request', async () => {
    const get = await fetch(url, { headers: { 'X-Webhook-Secret': CURRENT } });
    expect(get.status).toBe(405);
    const lost = await fetch(new URL('/webhooks/unsubscribe/someone%40example.com/../x', url), {
      method: 'POST',
    });
    expect(lost.status).toBe(404);
    const text = await lost.text();
    expect(text).not.toMatch(/someone|example|%40/);
    expect(JSON.parse(text)).toEqual({ error: 'not_found', message: 'No such route.' });
  });

  it(`keeps the response invariants over ${HTTP_RUNS} random requests over HTTP`, {
    timeout: 300_000,
  }, async () => {
    // Only requests node:http can send as given: header values it accepts, no forged Content-Length.
    const sendable = caseArb
      .map((c): Case => {
        const { contentLength: _, ...rest } = c;
        // HTTP trims a header value's surrounding whitespace, so a padded secret arrives intact.
        return {
          ...rest,
          secretValid: c.secret !== undefined && [CURRENT, PREVIOUS].includes(c.secret.trim()),
        };
      })
      .filter((c) => Object.values(headersOf(c)).every((v) => /^[\t\x20-\x7e\x80-\xff]*$/.test(v)));
    let count = 0;
    let oversizeAnswered = 0;
    await fc.assert(
      fc.asyncProperty(sendable, async (c) => {
        count++;
        const before = writes.length;
        const oversize = c.body !== undefined && Buffer.byteLength(c.body) > MAX_WEBHOOK_BODY_BYTES;
        const res = await new Promise<{ status: number; type: string | undefined; body: string }>(
          (resolve, reject) => {
            // An oversize body must be answered from its declared length, before it is read: send the
            // headers only and wait for the answer (writing the body would race the server's reset,
            // which used to let the case skip its assertions). No answer within 5 s fails the case.
            const headers = oversize
              ? { ...headersOf(c), 'Content-Length': String(Buffer.byteLength(c.body ?? '')) }
              : headersOf(c);
            const req = httpRequest(url, { method: 'POST', headers }, (r) => {
              let body = '';
              r.setEncoding('utf8');
              r.on('data', (d) => {
                body += d;
              });
              r.on('end', () => {
                resolve({ status: r.statusCode ?? 0, type: r.headers['content-type'], body });
                if (oversize) req.destroy();
              });
            });
            const timer = setTimeout(() => {
              req.destroy();
              reject(new Error(`no answer within 5 s to a ${c.kind} request (oversize: ${oversize})`));
            }, 5_000);
            req.on('close', () => clearTimeout(timer));
            req.on('error', (err) => reject(err));
            if (oversize) req.flushHeaders();
            else req.end(c.body === undefined ? undefined : Buffer.from(c.body));
          },
        );
        if (oversize) oversizeAnswered++;
        expectSafeResponse(res.status, res.type, res.body, c);
        if (res.status !== 202) expect(writes.length).toBe(before);
      }),
      { numRuns: HTTP_RUNS },
    );
    expect(count).toBe(HTTP_RUNS);
    // The oversize path was exercised, and every such case was answered and checked.
    expect(oversizeAnswered).toBeGreaterThan(0);
  });
});

describe('webhook Lambda handler (middy stack)', () => {
  const context = { getRemainingTimeInMillis: () => 10_000 } as unknown as Context;
  const event = (body: string, headers: Record<string, string> = {}, base64 = false) =>
    ({
      headers: {
        'x-webhook-secret': CURRENT,
        'content-type': 'application/json',
        ...headers,
      },
      body: base64 ? Buffer.from(body).toString('base64') : body,
      isBase64Encoded: base64,
    }) as unknown as APIGatewayProxyEventV2;

  async function lambdaFor(deps: WebhookDeps) {
    // The module builds its own deps from the environment at import; give it a valid one.
    vi.stubEnv('OPT_OUTS_TABLE', db.tables.optOuts);
    vi.stubEnv('UNSUBSCRIBE_QUEUE_URL', sqs.queueUrls.unsubscribe);
    vi.stubEnv('WEBHOOK_SECRET', CURRENT);
    const { createReceiveUnsubscribeWebhook } = await import('../../shared/runtime/opt-out-handlers.js');
    vi.unstubAllEnvs();
    return createReceiveUnsubscribeWebhook(deps);
  }

  it('accepts a base64-encoded body (API Gateway binary mode) on the real adapters', async () => {
    const handler = await lambdaFor(realDeps());
    const res = await handler(event('{"email":"b64@example.com"}', {}, true), context);
    expect(res.statusCode).toBe(202);
  });

  it('answers a DynamoDB outage with a bare 500 that names no host, port or AWS error', async () => {
    const unreachable = dynamoClient('http://127.0.0.1:9');
    const deps = {
      ...realDeps(),
      store: new DynamoDbOptOutStore(DynamoDBDocumentClient.from(unreachable), 'sync-opt-outs'),
    };
    const handler = await lambdaFor(deps);
    const res = await handler(event('{"email":"outage@example.com"}'), context);
    expect(res.statusCode).toBe(500);
    expect(JSON.parse(String(res.body))).toEqual({
      error: 'internal_error',
      message: 'Not accepted; retry later.',
    });
    expect(String(res.body)).not.toMatch(LEAK);
    unreachable.destroy();
  });

  it('never lets an error carrying its own 4xx statusCode reach the sender', async () => {
    const internal = Object.assign(
      new Error('ValidationException: arn:aws:dynamodb:eu-west-1:123456789012:table/sync-opt-outs'),
      { statusCode: 400 },
    );
    const real = realDeps();
    const store = new Proxy(real.store, {
      get: (t, p, r) =>
        p === 'claimEvent' ? () => Promise.reject(internal) : (Reflect.get(t, p, r) as unknown),
    });
    const handler = await lambdaFor({ ...real, store });
    const res = await handler(event('{"email":"fault@example.com"}'), context);
    expect(res.statusCode).toBe(500);
    expect(String(res.body)).not.toMatch(LEAK);
    expect(String(res.body)).not.toContain('123456789012');
  });

  it('answers wrong secrets and bad bodies exactly like the core, before touching DynamoDB', async () => {
    const unreachable = dynamoClient('http://127.0.0.1:9');
    const handler = await lambdaFor({
      ...realDeps(),
      store: new DynamoDbOptOutStore(DynamoDBDocumentClient.from(unreachable), 'sync-opt-outs'),
    });
    const cases: [APIGatewayProxyEventV2, number][] = [
      [event('{"email":"a@example.com"}', { 'x-webhook-secret': 'nope' }), 401],
      [event('{"email":', {}), 400],
      [event('{"email":"a@example.com"}', { 'content-type': 'text/plain' }), 415],
      [event(`{"email":"a@example.com","r":"${'x'.repeat(MAX_WEBHOOK_BODY_BYTES)}"}`, {}, true), 413],
    ];
    for (const [e, status] of cases) {
      const res = await handler(e, context);
      expect(res.statusCode).toBe(status);
      expect(String(res.body)).not.toMatch(LEAK);
    }
    unreachable.destroy();
  });
});
