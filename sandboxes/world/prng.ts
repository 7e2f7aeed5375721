/** mulberry32: a tiny, fast, seedable PRNG (returns floats in [0, 1)). The sandboxes' one PRNG. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws a value from `[value, weight]` pairs. */
export function pickWeighted(rand: () => number, mix: readonly [number, number][]): number {
  const total = mix.reduce((s, [, w]) => s + w, 0);
  let r = rand() * total;
  for (const [v, w] of mix) {
    r -= w;
    if (r < 0) return v;
  }
  return mix[mix.length - 1]![0];
}
