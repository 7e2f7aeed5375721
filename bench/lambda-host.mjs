/**
 * Hosts one Lambda bundle the way the Lambda runtime does: one Node process, the bundle imported
 * once (cold start), then one invocation at a time. Forked by bench/rss-probe.ts over IPC, with
 * exactly the stack's environment variables pointed at the embedded default; it reports each
 * invocation's duration and the process's peak RSS in kilobytes: VmHWM from /proc/self/status
 * (resourceUsage().maxRSS would not do: on Linux it carries the forking parent's peak over exec),
 * elsewhere the largest RSS sampled every 10 ms.
 *
 *   argv: <bundle index.mjs> <function name> <memory MB> <timeout s>
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

const [bundle, functionName, memoryMb, timeoutSeconds] = process.argv.slice(2);

let sampledKb = 0;
const sample = () => {
  sampledKb = Math.max(sampledKb, Math.round(process.memoryUsage().rss / 1024));
};
const sampler = setInterval(sample, 10);
sampler.unref();
function peakRssKb() {
  sample();
  try {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (hwm) return Number(hwm[1]);
  } catch {
    // not Linux
  }
  return sampledKb;
}

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
      maxRssKb: peakRssKb(),
    });
  });
});
process.send({ id: 'ready', maxRssKb: peakRssKb() });
