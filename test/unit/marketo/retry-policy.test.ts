import { describe, expect, it } from 'vitest';
import {
  classifyCode,
  DEFAULT_RETRY_POLICY,
  decideRetry,
  fullJitterDelay,
  nextChicagoMidnight,
  retryDelay,
} from '../../../shared/adapters/marketo/retry-policy.js';

describe('retry table', () => {
  it('classifies the documented codes', () => {
    expect(['601', '602'].map(classifyCode)).toEqual(['auth', 'auth']);
    expect(classifyCode('606')).toBe('rate');
    expect(classifyCode('615')).toBe('concurrency');
    expect(classifyCode('607')).toBe('quota');
    expect(['502', '604', '608', '611', '614', '713'].map(classifyCode)).toEqual(Array(6).fill('transient'));
    expect(['603', '609', '610', '612', '701', '1001', '1003', '1013'].map(classifyCode)).toEqual(
      Array(8).fill('fatal'),
    );
  });

  it('uses full jitter bounded by maxDelay, and waits out the 20 s window on 606', () => {
    expect(fullJitterDelay(1, 500, 30_000, () => 0.999)).toBe(499);
    expect(fullJitterDelay(10, 500, 30_000, () => 0.999)).toBe(29_970);
    expect(fullJitterDelay(3, 500, 30_000, () => 0)).toBe(0);
    expect(retryDelay('rate', 1, DEFAULT_RETRY_POLICY, () => 0)).toBe(20_000);
    expect(retryDelay('rate', 1, DEFAULT_RETRY_POLICY, () => 0.999)).toBe(21_998);
    expect(retryDelay('concurrency', 1, DEFAULT_RETRY_POLICY, () => 0)).toBe(500);
  });
});

describe('nextChicagoMidnight', () => {
  it.each([
    ['2026-10-15T12:00:00Z', '2026-10-16T05:00:00.000Z'], // CDT (UTC-5)
    ['2026-10-16T04:59:59Z', '2026-10-16T05:00:00.000Z'], // 23:59:59 Chicago
    ['2026-10-16T05:00:00Z', '2026-10-17T05:00:00.000Z'], // exactly midnight: the next one
    ['2026-12-01T03:00:00Z', '2026-12-01T06:00:00.000Z'], // CST (UTC-6), still Nov 30 in Chicago
    ['2026-11-01T12:00:00Z', '2026-11-02T06:00:00.000Z'], // DST ends 2026-11-01 02:00
    ['2026-03-08T12:00:00Z', '2026-03-09T05:00:00.000Z'], // DST starts 2026-03-08 02:00
  ])('from %s resets at %s', (now, expected) => {
    expect(new Date(nextChicagoMidnight(Date.parse(now))).toISOString()).toBe(expected);
  });
});

describe('decideRetry (the table the call layer consults)', () => {
  const base = { ambiguous: false, attempt: 1, reauthenticated: false };
  const half = () => 0.5;

  it('re-authenticates once on auth failures, then fails', () => {
    expect(decideRetry({ ...base, cls: 'auth' }, DEFAULT_RETRY_POLICY, half)).toEqual({
      action: 'reauthenticate',
    });
    expect(decideRetry({ ...base, cls: 'auth', reauthenticated: true }, DEFAULT_RETRY_POLICY, half)).toEqual({
      action: 'fail',
    });
  });

  it('parks on the daily quota and fails at once on fatal codes', () => {
    expect(decideRetry({ ...base, cls: 'quota' }, DEFAULT_RETRY_POLICY, half)).toEqual({ action: 'park' });
    expect(decideRetry({ ...base, cls: 'fatal' }, DEFAULT_RETRY_POLICY, half)).toEqual({ action: 'fail' });
  });

  it('backs off transient, rate and concurrency failures until maxAttempts', () => {
    expect(decideRetry({ ...base, cls: 'transient', attempt: 2 }, DEFAULT_RETRY_POLICY, half)).toEqual({
      action: 'retry',
      delayMs: 500,
    });
    expect(decideRetry({ ...base, cls: 'rate' }, DEFAULT_RETRY_POLICY, half)).toEqual({
      action: 'retry',
      delayMs: 21_000,
    });
    expect(
      decideRetry(
        { ...base, cls: 'concurrency', attempt: DEFAULT_RETRY_POLICY.maxAttempts },
        DEFAULT_RETRY_POLICY,
        half,
      ),
    ).toEqual({ action: 'fail' });
  });

  it('never re-sends an ambiguous write unless the policy allows it', () => {
    const failed = { ...base, cls: 'transient' as const, ambiguous: true };
    expect(decideRetry(failed, DEFAULT_RETRY_POLICY, half)).toEqual({ action: 'fail' });
    expect(decideRetry(failed, { ...DEFAULT_RETRY_POLICY, retryAmbiguousWrites: true }, half)).toEqual({
      action: 'retry',
      delayMs: 250,
    });
  });
});
