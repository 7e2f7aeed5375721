/**
 * The chaos suite's knobs: CHAOS_SIZE=full (at least 20,000 activities and 500 opt-out changes;
 * anything else is the CI size), CHAOS_RATE (per-request fault probability, default 0.1) and
 * CHAOS_SEED (default: a fixed seed, so CI is reproducible; `random` draws a new one per run, printed,
 * so a failure reproduces with CHAOS_SEED=<seed>). With concurrency, which request meets which draw
 * can still vary between runs of one seed.
 */

/** The seed `npm test` and `npm run test:chaos` use unless CHAOS_SEED says otherwise. */
export const DEFAULT_SEED = 145_554_240;
export interface ChaosConfig {
  full: boolean;
  rate: number;
  seed: number;
}

export class ChaosConfigError extends Error {
  override readonly name = 'ChaosConfigError';
}

export function chaosConfig(env: NodeJS.ProcessEnv = process.env): ChaosConfig {
  const rate = env.CHAOS_RATE === undefined ? 0.1 : Number(env.CHAOS_RATE);
  if (!Number.isFinite(rate) || rate < 0 || rate > 0.5)
    throw new ChaosConfigError(`CHAOS_RATE must be a number from 0 to 0.5, got "${env.CHAOS_RATE}"`);
  const seed =
    env.CHAOS_SEED === undefined
      ? DEFAULT_SEED
      : env.CHAOS_SEED === 'random'
        ? Date.now() % 2_147_483_647
        : Number(env.CHAOS_SEED);
  if (!Number.isInteger(seed) || seed < 0)
    throw new ChaosConfigError(`CHAOS_SEED must be a non-negative integer, got "${env.CHAOS_SEED}"`);
  return { full: env.CHAOS_SIZE === 'full', rate, seed };
}

/** A scenario's own seed, derived from the run's seed and the scenario's position. */
export const scenarioSeed = (config: ChaosConfig, index: number): number =>
  (config.seed + index * 7_919) % 2_147_483_647;
