import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { secretMatches } from '../../../shared/optouts/webhook-secrets.js';

/**
 * The secret comparison must not leak through timing: every accepted candidate is compared (no early
 * exit on a match), each comparison is node's timingSafeEqual, and both sides are hashed to 32 bytes
 * first (so neither the presented length nor a common prefix changes what is compared).
 */

const calls = vi.hoisted(() => [] as [Buffer, Buffer][]);
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  return {
    ...real,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      calls.push([
        Buffer.from(a.buffer, a.byteOffset, a.byteLength),
        Buffer.from(b.buffer, b.byteOffset, b.byteLength),
      ]);
      return real.timingSafeEqual(a, b);
    },
  };
});

const CURRENT = 'current-secret-0123456789abcdef';
const PREVIOUS = 'previous-secret-fedcba9876543210';
const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest();

describe('secretMatches (constant time)', () => {
  beforeEach(() => {
    calls.length = 0;
  });

  it('compares the hash of the presented secret with the hash of every candidate, match or not', () => {
    const presentations: [string | undefined, string[], boolean][] = [
      [CURRENT, [CURRENT, PREVIOUS], true],
      [CURRENT, [PREVIOUS, CURRENT], true],
      [PREVIOUS, [CURRENT, PREVIOUS], true],
      ['x', [CURRENT, PREVIOUS], false],
      [CURRENT.slice(0, 5), [CURRENT, PREVIOUS], false],
      [`${CURRENT}${'y'.repeat(500)}`, [CURRENT, PREVIOUS], false],
    ];
    for (const [given, accepted, expected] of presentations) {
      calls.length = 0;
      expect(secretMatches(given, accepted)).toBe(expected);
      // One timingSafeEqual per candidate, even after a match: the position of the match does not show.
      expect(calls).toHaveLength(accepted.length);
      calls.forEach(([a, b], i) => {
        expect(a.byteLength).toBe(32);
        expect(b.byteLength).toBe(32);
        expect(a.equals(sha(given ?? ''))).toBe(true);
        expect(b.equals(sha(accepted[i] ?? ''))).toBe(true);
      });
    }
  });

  it('refuses an absent or empty secret even against an empty candidate', () => {
    expect(secretMatches('', [''])).toBe(false);
    expect(secretMatches(undefined, [CURRENT])).toBe(false);
    expect(secretMatches('', [CURRENT])).toBe(false);
  });
});
