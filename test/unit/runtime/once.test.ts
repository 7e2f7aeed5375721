import { describe, expect, it } from 'vitest';
import { once } from '../../../shared/runtime/once.js';

describe('once', () => {
  it('builds on first use and keeps the value', () => {
    let builds = 0;
    const value = once(() => ({ n: ++builds }));

    expect(builds).toBe(0);
    const first = value();
    expect(value()).toBe(first);
    expect(builds).toBe(1);
  });

  it('forgets a rejected promise, so the next call builds again', async () => {
    let builds = 0;
    const value = once(async () => {
      builds += 1;
      if (builds === 1) throw new Error('secret not readable yet');
      return builds;
    });

    await expect(value()).rejects.toThrow('secret not readable yet');
    expect(await value()).toBe(2);
    expect(await value()).toBe(2);
    expect(builds).toBe(2);
  });

  it('builds again after a build that throws', () => {
    let builds = 0;
    const value = once(() => {
      builds += 1;
      if (builds === 1) throw new Error('table not bound');
      return 'store';
    });

    expect(() => value()).toThrow('table not bound');
    expect(value()).toBe('store');
  });
});
