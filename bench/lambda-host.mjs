/**
 * Hosts one Lambda bundle the way the Lambda runtime does: one Node process, the bundle imported
 * once (cold start), then one invocation at a time. Forked by bench/rss-probe.ts over IPC, with
 * exactly the stack's environment variables pointed at the embedded default; it reports each
 * invocation's duration and the process's peak RSS (resourceUsage().maxRSS, kilobytes).
 *
 *   argv: <bundle index.mjs> <function name> <memory MB> <timeout s>
 */
import { randomUUID } from 'node:crypto';

const [bundle, functionName, memoryMb, timeoutSeconds] = process.argv.slice(2);
const { handler } = await import(bundle);

function context() {
  const deadline = Date.now() + Number(timeoutSeconds) * 1000;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: memoryMb,
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `bench/${randomUUID()}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

// One at a time, as a Lambda execution environment: invocations queue here in arrival order.
let queue = Promise.resolve();
process.on('message', (msg) => {
  queue = queue.then(async () => {
    const t0 = performance.now();
    let result;
    let error;
    try {
      result = await handler(msg.event, context());
    } catch (err) {
      error = { name: err?.name, message: err?.message };
    }
    process.send({
      id: msg.id,
      durationMs: performance.now() - t0,
      result: result ?? null,
      error,
      maxRssKb: process.resourceUsage().maxRSS,
    });
  });
});
process.send({ id: 'ready', maxRssKb: process.resourceUsage().maxRSS });
