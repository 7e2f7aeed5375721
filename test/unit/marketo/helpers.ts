import {
  type MarketoSandbox,
  type MarketoSandboxOptions,
  startMarketoSandbox,
} from '../../../sandboxes/marketo/marketo-sandbox.js';
import { createWorld, DEFAULT_WORLD_NOW, type World } from '../../../sandboxes/world.js';
import { type CallGovernor, InMemoryCallGovernor } from '../../../shared/adapters/marketo/call-governor.js';
import {
  MarketoClient,
  type MarketoClientOptions,
  type MarketoLogger,
} from '../../../shared/adapters/marketo/marketo-client.js';

export const silentLogger: MarketoLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** A small world shared by tests that only read it (generation is deterministic). */
let smallWorld: World | undefined;
export function freshSmallWorld(): World {
  return createWorld({ seed: 7, people: 400, activities: 3000, days: 30 });
}
export function sharedSmallWorld(): World {
  smallWorld ??= freshSmallWorld();
  return smallWorld;
}

export interface Harness {
  sandbox: MarketoSandbox;
  client: MarketoClient;
  /** Client + sandbox business clock (ms); tests move it. */
  now: { value: number };
  /** Delays the client asked to sleep (resolved at once unless `realSleep`). */
  sleeps: number[];
  governor: CallGovernor;
}

export async function startHarness(
  options: {
    sandbox?: MarketoSandboxOptions;
    client?: Partial<MarketoClientOptions>;
    realSleep?: boolean;
    governor?: CallGovernor;
  } = {},
): Promise<Harness> {
  const now = { value: DEFAULT_WORLD_NOW };
  const sandbox = await startMarketoSandbox({
    world: options.sandbox?.world ?? freshSmallWorld(),
    paging: { shortPageProbability: 0, emptyPageProbability: 0 },
    clock: () => now.value,
    ...options.sandbox,
  });
  const sleeps: number[] = [];
  const governor = options.governor ?? new InMemoryCallGovernor({ callsPerWindow: 1000, maxConcurrent: 50 });
  const client = new MarketoClient({
    baseUrl: sandbox.baseUrl,
    clientId: sandbox.credentials.clientId,
    clientSecret: sandbox.credentials.clientSecret,
    clock: () => now.value,
    sleep: async (ms) => {
      sleeps.push(ms);
      if (options.realSleep) await new Promise((r) => setTimeout(r, ms));
    },
    random: () => 0.5,
    logger: silentLogger,
    governor,
    ...options.client,
  });
  return { sandbox, client, now, sleeps, governor };
}
