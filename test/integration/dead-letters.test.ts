import { afterEach, describe, expect, it } from 'vitest';
import {
  type DeadLetterView,
  type DlqContext,
  dlqContextFromEnv,
  dlqContextFromLocal,
  runDlqCommand,
} from '../../cli/commands/dlq.js';
import { runVerifyCommand } from '../../cli/commands/verify.js';
import { fault } from '../../sandboxes/marketo/fault-controller.js';
import { DynamoDbFailureStore } from '../../shared/adapters/dynamodb/failure-store.js';
import { QUEUES } from '../../shared/adapters/sqs/queue-definitions.js';
import {
  type Embedded,
  expectedTasks,
  reconcile,
  startEmbedded,
  tasksByActivity,
} from '../helpers/embedded.js';

let e: Embedded | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

const clean = { missing: 0, duplicates: 0, wrongWho: 0, unexpected: 0 };
const crash = (what: string) => async () => {
  throw new Error(`simulated crash ${what}`);
};

/**
 * A cycle whose every write message fails: Marketo refuses the write step's lead look-up (1003)
 * until the returned function is called. Returns the environment and that switch.
 */
async function cycleIntoDeadLetters(): Promise<{ env: Embedded; heal: () => void }> {
  const env = await startEmbedded({ world: { people: 80, activities: 500 }, visibilitySeconds: 3 });
  const heal = env.local.marketoSandbox!.faults.inject({
    fault: fault.code('1003', 'Invalid lead filter'),
    endpoint: 'leads.json',
    probability: 1,
  });
  const run = await env.runCycle();
  expect(run.deadLetters.write).toBeGreaterThan(1);
  return { env, heal };
}

function context(env: Embedded, hooks?: DlqContext['hooks']): DlqContext {
  return { ...dlqContextFromLocal(env.local), visibilitySeconds: PEEK_SECONDS, ...(hooks ? { hooks } : {}) };
}

/** Short, so a simulated crash's hidden dead letters come back quickly. */
const PEEK_SECONDS = 2;

const messagesOf = (summary: Record<string, unknown>) => summary.messages as DeadLetterView[];

describe('dead letters on the embedded default', () => {
  // One scenario (a cycle into the DLQ costs 5 receives x the visibility timeout): the message
  // that failed 5 times, peeking it, then redriving it through crashes, twice.
  it('keeps why a message failed 5 times, peeks without consuming, and redrives crash-safely without a duplicate Task', async () => {
    const dead = await cycleIntoDeadLetters();
    e = dead.env;
    const ctx = context(e);
    const depth = (await e.local.queueDepth('write')).dlq;

    // 1. Why each message failed, kept by message id; list and show only peek.
    const first = await runDlqCommand(ctx, ['list']);
    const again = await runDlqCommand(ctx, ['list'], { queue: 'write' });

    const listed = messagesOf(first.summary);
    expect(first.summary).toMatchObject({
      command: 'dlq list',
      total: depth,
      byQueue: { write: depth, fetch: 0 },
    });
    expect(
      messagesOf(again.summary)
        .map((m) => m.messageId)
        .sort(),
    ).toEqual(listed.map((m) => m.messageId).sort());
    expect((await e.local.queueDepth('write')).dlq).toBe(depth);
    for (const m of listed) {
      expect(m).toMatchObject({
        queue: 'write',
        attempts: QUEUES.write.maxReceiveCount,
        vendorCode: '1003',
        requestId: expect.stringMatching(/^\w+#\w+$/),
        error: {
          name: 'MarketoApiError',
          message: 'GET /rest/v1/leads.json failed with 1003: Invalid lead filter',
        },
        body: { kind: 'writeTasks', activities: expect.any(Number) },
        firstFailedAt: expect.any(String),
      });
      expect(Date.parse(m.lastFailedAt!)).toBeGreaterThan(Date.parse(m.firstFailedAt!));
    }
    expect(first.lines[0]).toMatch(new RegExp(`^Dead letters: ${depth} \\(fetch 0, write ${depth}, `));

    const id = listed[0]!.messageId;
    const shown = await runDlqCommand(ctx, ['show', id]);
    expect(shown.exitCode).toBe(0);
    expect(shown.summary).toMatchObject({
      found: true,
      inDeadLetterQueue: true,
      messageId: id,
      record: { failures: QUEUES.write.maxReceiveCount },
      body: { kind: 'writeTasks', activities: expect.any(Array) },
    });
    const text = JSON.stringify(shown.summary) + shown.lines.join('\n');
    for (const lead of e.world.leads) expect(text).not.toContain(lead.email);
    expect((await e.local.queueDepth('write')).dlq).toBe(depth);

    const unknown = await runDlqCommand(ctx, ['show', 'no-such-message']);
    expect(unknown.exitCode).toBe(1);
    await expect(runDlqCommand(ctx, ['list'], { queue: 'bogus' })).rejects.toMatchObject({
      name: 'UsageError',
    });
    await expect(runDlqCommand(ctx, ['list'], { since: 'yesterday' })).rejects.toMatchObject({
      name: 'UsageError',
    });

    // 2. Redrive: --since selects, a crash at either step is recovered, a second run does nothing.
    const future = new Date(Date.now() + 3600_000).toISOString();

    const notYet = await runDlqCommand(context(e), ['redrive'], { since: future });
    // Crash after SendMessage, before noting it: the next run cannot know, and sends again.
    await expect(runDlqCommand(context(e, { afterSend: crash('after send') }), ['redrive'])).rejects.toThrow(
      'after send',
    );
    await new Promise((r) => setTimeout(r, PEEK_SECONDS * 1000 + 300));
    // Crash after noting the send, before deleting from the DLQ: the next run only deletes.
    await expect(
      runDlqCommand(context(e, { afterRecord: crash('before DLQ delete') }), ['redrive']),
    ).rejects.toThrow('before DLQ delete');
    await new Promise((r) => setTimeout(r, PEEK_SECONDS * 1000 + 300));
    const finished = await runDlqCommand(context(e), ['redrive']);

    expect(notYet.summary).toMatchObject({ redriven: 0, skipped: depth });
    expect((await e.local.queueDepth('write')).dlq).toBe(0);
    const after = finished.summary as {
      redriven: number;
      alreadySent: number;
      resentAfterUnknownOutcome: number;
    };
    expect(after.alreadySent).toBe(1);
    // The crashed-after-send message went out twice (once per run); everything else once.
    const write = await e.local.queueDepth('write');
    expect(write.visible + write.inFlight).toBe(depth + 1);
    const records = new DynamoDbFailureStore(e.local.platform.doc, e.local.platform.tables.failures);
    for (const m of finished.summary.messages as { messageId: string; newMessageId: string }[])
      expect((await records.get('write', m.messageId))?.redrive).toMatchObject({
        state: 'sent',
        newMessageId: m.newMessageId,
      });

    dead.heal();
    const rerun = await e.runCycle();
    const twice = await runDlqCommand(context(e), ['redrive']);

    const expected = expectedTasks(e);
    expect(reconcile(expected, tasksByActivity(e))).toEqual({ expected: expected.size, ...clean });
    expect(rerun.deadLetters.write).toBe(0);
    expect(twice.summary).toMatchObject({ redriven: 0, alreadySent: 0 });
    expect((await runVerifyCommand(e.local)).exitCode).toBe(0);
  }, 150_000);

  it('finds the deployed dead-letter queues from the stack outputs (queue URL env vars, redrive policy)', async () => {
    e = await startEmbedded({ world: { people: 20, activities: 50 } });
    const { platform, dlqUrls } = e.local;
    const saved = { ...process.env };
    try {
      // Credentials and region from the standard chain, as for any AWS tool.
      Object.assign(process.env, {
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
      });
      const endpoint = async (c: typeof platform.sqs | typeof platform.doc) => {
        const u = await c.config.endpoint!();
        return `${u.protocol}//${u.hostname}:${u.port}`;
      };
      // What an operator exports from the stack outputs, plus the endpoints of the servers.
      const ctx = await dlqContextFromEnv({
        AWS_ENDPOINT_URL_SQS: await endpoint(platform.sqs),
        AWS_ENDPOINT_URL_DYNAMODB: await endpoint(platform.doc),
        WRITE_QUEUE_URL: platform.queueUrls.write,
        UNSUBSCRIBE_QUEUE_URL: platform.queueUrls.unsubscribe,
        FAILURES_TABLE: platform.tables.failures,
      });

      expect(ctx?.queues.map((q) => [q.key, new URL(q.dlqUrl).pathname])).toEqual([
        ['write', new URL(dlqUrls.write!).pathname],
        ['unsubscribe', new URL(dlqUrls.unsubscribe!).pathname],
      ]);
      expect((await runDlqCommand(ctx!, ['list'])).summary).toMatchObject({ total: 0 });
      expect(await dlqContextFromEnv({})).toBeUndefined();
    } finally {
      process.env = saved;
    }
  });
});
