import type { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mulberry32 } from '../../sandboxes/world.js';
import { DynamoDbCallGovernor } from '../../shared/adapters/marketo/dynamodb-call-governor.js';
import { MarketoClient } from '../../shared/adapters/marketo/marketo-client.js';
import { DEFAULT_RETRY_POLICY } from '../../shared/adapters/marketo/retry-policy.js';
import type { Settings } from '../../shared/config/settings.js';
import type { Credentials } from '../../shared/runtime/credentials.js';
import { TEST_WINDOW_MS } from '../helpers/embedded.js';

/**
 * The production Marketo client and call governor, with Marketo's clock scaled the way the test
 * sandbox scales it: a 20 s rate window becomes TEST_WINDOW_MS (2 s), so every wait in the retry
 * table (606 waits out the window, 615 and transient backoffs) and every timeout shrinks by the
 * same factor. The logic under test is unchanged; only the numbers are.
 */
export const TIME_SCALE = TEST_WINDOW_MS / 20_000;

/** Per-endpoint timeouts (30–300 s in production) scaled down, and capped so a hang costs seconds. */
export const SCALED_TIMEOUT_MS = 2_000;

export interface ChaosClock {
  now(): number;
}

export const realClock: ChaosClock = { now: () => Date.now() };

export function chaosGovernor(
  doc: DynamoDBDocumentClient,
  tableName: string,
  settings: Settings,
  clock: ChaosClock = realClock,
): DynamoDbCallGovernor {
  return new DynamoDbCallGovernor({
    doc,
    tableName,
    callsPerWindow: settings.marketo.callsPer20s,
    maxConcurrent: settings.marketo.maxConcurrent,
    windowMs: TEST_WINDOW_MS,
    clock: () => clock.now(),
  });
}

export function chaosMarketoClient(options: {
  credentials: Credentials;
  governor: DynamoDbCallGovernor;
  logger: Logger;
  seed: number;
  clock?: ChaosClock;
}): MarketoClient {
  const clock = options.clock ?? realClock;
  const scale = (ms: number) => Math.round(ms * TIME_SCALE);
  return new MarketoClient({
    baseUrl: options.credentials.MARKETO_BASE_URL,
    clientId: options.credentials.MARKETO_CLIENT_ID,
    clientSecret: options.credentials.MARKETO_CLIENT_SECRET,
    governor: options.governor,
    logger: options.logger,
    clock: () => clock.now(),
    random: mulberry32(options.seed),
    retry: {
      baseDelayMs: scale(DEFAULT_RETRY_POLICY.baseDelayMs),
      maxDelayMs: scale(DEFAULT_RETRY_POLICY.maxDelayMs),
      rateLimitWindowMs: TEST_WINDOW_MS,
      rateLimitJitterMs: scale(DEFAULT_RETRY_POLICY.rateLimitJitterMs),
      concurrencyBaseDelayMs: scale(DEFAULT_RETRY_POLICY.concurrencyBaseDelayMs),
    },
    timeouts: {
      identity: SCALED_TIMEOUT_MS,
      pagingToken: SCALED_TIMEOUT_MS,
      activities: SCALED_TIMEOUT_MS,
      leads: SCALED_TIMEOUT_MS,
      writes: SCALED_TIMEOUT_MS,
    },
  });
}
