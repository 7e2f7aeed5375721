// One deployed function in its own Node process, as Lambda runs it: imports the bundle the
// template points at (argv[2]) once, then handles invocations sent over IPC one message at a time.
// Records every environment variable the code reads (process.env is wrapped before the import).
const bundle = process.argv[2];
const timeoutMs = Number(process.argv[3]) * 1000;
const read = new Set();
process.env = new Proxy(process.env, {
  get(target, key) {
    if (typeof key === 'string') read.add(key);
    return Reflect.get(target, key);
  },
  has(target, key) {
    if (typeof key === 'string') read.add(key);
    return Reflect.has(target, key);
  },
});

const errorOf = (e) => ({ name: e?.name ?? 'Error', message: String(e?.message ?? e) });
let handler;
try {
  ({ handler } = await import(bundle));
  process.send({ type: 'ready' });
} catch (e) {
  process.send({ type: 'coldStartError', error: errorOf(e) });
}

process.on('message', async (message) => {
  if (message.type === 'reads') {
    process.send({ type: 'reads', keys: [...read].sort() });
    return;
  }
  if (message.type !== 'invoke') return;
  const deadline = Date.now() + timeoutMs;
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:000000000000:function:${process.env.AWS_LAMBDA_FUNCTION_NAME}`,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: message.id,
    logGroupName: `/aws/lambda/${process.env.AWS_LAMBDA_FUNCTION_NAME}`,
    logStreamName: 'deployed-test',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  try {
    const result = await handler(message.event, context);
    process.send({ type: 'result', id: message.id, result: result ?? null });
  } catch (e) {
    process.send({ type: 'result', id: message.id, error: errorOf(e) });
  }
});
