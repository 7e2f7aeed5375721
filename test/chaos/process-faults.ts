import { setTimeout as sleep } from 'node:timers/promises';
import type { SQSRecord } from 'aws-lambda';

/**
 * Process faults around a handler's dependencies (stores, queue sender, vendor clients): every
 * async call is a point where the handler can die — just before the call (the previous side
 * effect happened, this one does not) or just after it (it happened, nothing after it does) — or
 * stall for longer than the queue's visibility timeout, so SQS hands the message to a second
 * consumer while the first attempt is still running. A dying handler is an exception thrown at
 * that point: the handler's own code after it does not run (its `finally` blocks do, which a
 * real kill would skip). Draws come from the suite's seeded PRNG.
 *
 * Calibration: about `rate` of invocations meet a process fault. A call made once per invocation
 * kills at rate / 16 and stalls at rate / 32; a call made once per item (per activity, per person)
 * kills at rate / 2,000; the crash before the SQS delete hits rate / 4 of the invocations. Each
 * kind also fires once more (forceOnce), so a small run meets all of them.
 */

export class SimulatedKillError extends Error {
  override readonly name = 'SimulatedKillError';
  constructor(where: string) {
    super(`simulated kill ${where}`);
  }
}

/** Methods called once per activity or person; everything else is once per invocation. */
const PER_ITEM = new Set([
  'markDone',
  'markFailed',
  'markSkipped',
  'claim',
  'release',
  'update',
  'get',
  'getEvent',
  'history',
  'appendHistory',
  'setEventStatus',
  'claimEvent',
]);

export type ForcedKind = 'kill before' | 'kill after' | 'stall' | 'crash before delete';

export interface ProcessFaultOptions {
  rate: number;
  random: () => number;
  kill?: boolean;
  /** Stall this long (set it above the queue's visibility timeout). Unset: no stalls. */
  stallMs?: number;
}

export class ProcessFaults {
  readonly counts: Record<string, number> = {};
  /** Where each fault hit, in order (e.g. `kill after ledger.markDone`). */
  readonly log: string[] = [];
  private readonly cache = new WeakMap<object, unknown>();
  /** Faults forced on the next eligible call, whatever the draw (see forceOnce). */
  private readonly forced: ForcedKind[] = [];
  private readonly schedule: { atCall: number; kind: ForcedKind }[] = [];
  private calls = 0;

  constructor(private readonly options: ProcessFaultOptions) {}

  private bump(kind: string, where = ''): void {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
    this.log.push(`${kind}${where ? ` ${where}` : ''}`);
  }

  /** `target` with every async method faulted (a Proxy; `this` stays the real object); `noKill` methods only stall. */
  wrap<T extends object>(label: string, target: T, noKill: ReadonlySet<string> = new Set()): T {
    const cached = this.cache.get(target);
    if (cached) return cached as T;
    const proxy = new Proxy(target, {
      get: (obj, prop) => {
        const value: unknown = Reflect.get(obj, prop, obj);
        if (typeof value !== 'function' || value.constructor.name !== 'AsyncFunction') return value;
        const name = String(prop);
        const fn = value as (...args: unknown[]) => Promise<unknown>;
        return (...args: unknown[]) =>
          this.around(`${label}.${name}`, PER_ITEM.has(name), !noKill.has(name), () => fn.apply(obj, args));
      },
    });
    this.cache.set(target, proxy);
    return proxy;
  }

  /**
   * These kinds once more each, so even a small run meets every kind: the first after `afterCalls`
   * faulted calls (past the CLI's own start-up, into the handlers), the next 20 calls later, …
   */
  forceOnce(kinds: readonly ForcedKind[], afterCalls: number): void {
    for (const [i, kind] of kinds.entries()) this.schedule.push({ atCall: afterCalls + i * 20, kind });
  }

  private take(kind: ForcedKind): boolean {
    const i = this.forced.indexOf(kind);
    if (i < 0) return false;
    this.forced.splice(i, 1);
    return true;
  }

  private async around<R>(
    where: string,
    perItem: boolean,
    killable: boolean,
    call: () => Promise<R>,
  ): Promise<R> {
    const { rate, random, stallMs } = this.options;
    const kill = (this.options.kill ?? true) && killable;
    this.calls++;
    while (this.schedule[0] && this.schedule[0].atCall <= this.calls)
      this.forced.push(this.schedule.shift()!.kind);
    const p = perItem ? rate / 2_000 : rate / 16;
    const r = random();
    let fault: 'kill before' | 'kill after' | 'stall' | undefined;
    let forcedAfter = false;
    if (kill && r < p / 2) fault = 'kill before';
    else if (kill && r < p) fault = 'kill after';
    else if (stallMs !== undefined && !perItem && r >= p && r < 1.5 * p) fault = 'stall';
    else if (!perItem && kill && this.take('kill before')) fault = 'kill before';
    else if (!perItem && kill && this.take('kill after')) {
      fault = 'kill after';
      forcedAfter = true;
    } else if (!perItem && stallMs !== undefined && this.take('stall')) fault = 'stall';
    if (fault === 'kill before') {
      this.bump('kill before a call', where);
      throw new SimulatedKillError(`before ${where}`);
    }
    if (fault === 'stall') {
      this.bump('stall past visibility', where);
      await sleep(stallMs ?? 0);
    }
    let result: R;
    try {
      result = await call();
    } catch (err) {
      // The call failed on its own (an injected vendor fault): a forced kill-after did not happen, so
      // it stays owed to a later call instead of vanishing from the run.
      if (forcedAfter) this.forced.push('kill after');
      throw err;
    }
    if (fault === 'kill after') {
      this.bump('kill after a call', where);
      throw new SimulatedKillError(`after ${where}`);
    }
    return result;
  }

  /** A `beforeDelete` hook: the invocation dies after its work, before SQS deletes its messages. */
  crashBeforeDelete(): (records: SQSRecord[]) => Promise<void> {
    return async () => {
      if (this.take('crash before delete') || this.options.random() < this.options.rate / 4) {
        this.bump('kill before SQS delete');
        throw new SimulatedKillError('before the SQS delete');
      }
    };
  }
}
