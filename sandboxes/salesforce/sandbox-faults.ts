import { mulberry32 } from '../world.js';
/** Switchable latency and seeded fault injection for the Salesforce sandbox. */

export type RequestKind =
  | 'oauth'
  | 'versions'
  | 'limits'
  | 'query'
  | 'queryMore'
  | 'create'
  | 'update'
  | 'upsert'
  | 'delete'
  | 'bulkCreateJob'
  | 'bulkUpload'
  | 'bulkClose'
  | 'bulkStatus'
  | 'bulkResults'
  | 'bulkDelete'
  | 'unknown';

export const WRITE_KINDS: readonly RequestKind[] = ['create', 'update', 'upsert', 'delete'];

/**
 * - `UNABLE_TO_LOCK_ROW`: per record, on collection writes and Bulk rows.
 * - `INVALID_SESSION_ID`: 401 for the request whatever its token.
 * - `HTTP_503`: 503 before anything is applied.
 * - `REQUEST_LIMIT_EXCEEDED`: 403 as if the daily limit were spent.
 * - `LOSE_RESPONSE`: the write is applied, then the socket is destroyed (no response).
 * - `BULK_JOB_FAILED`: a Bulk ingest job ends `Failed` after processing `afterRows` rows (default
 *   0: it fails as a whole); the rest are listed in `unprocessedrecords`.
 */
export type FaultKind =
  | 'UNABLE_TO_LOCK_ROW'
  | 'INVALID_SESSION_ID'
  | 'HTTP_503'
  | 'REQUEST_LIMIT_EXCEEDED'
  | 'LOSE_RESPONSE'
  | 'BULK_JOB_FAILED';

export interface FaultOptions {
  /** Fire on the next N matching requests (records, for UNABLE_TO_LOCK_ROW). */
  count?: number;
  /** Fire on each matching request (record) with this probability, from the seeded generator. */
  probability?: number;
  /** Only requests of these kinds (default: every API request; writes for UNABLE_TO_LOCK_ROW / LOSE_RESPONSE). */
  on?: RequestKind[];
  /** BULK_JOB_FAILED: rows processed before the job fails. Default 0. */
  afterRows?: number;
}

interface FaultRule {
  kind: FaultKind;
  remaining: number | undefined;
  probability: number | undefined;
  on: readonly RequestKind[] | undefined;
  afterRows: number | undefined;
}

/** The sandboxes' one seeded PRNG. */
export const seededRandom = mulberry32;

export class FaultController {
  private rules: FaultRule[] = [];
  latency = { ms: 0, jitterMs: 0 };
  /** Set by the sandbox: invalidates every issued token. */
  expireSessions: () => void = () => {};

  constructor(readonly random: () => number) {}

  /** Arm a fault. Without count or probability it fires once. */
  inject(kind: FaultKind, options: FaultOptions = {}): void {
    const defaultOn: RequestKind[] | undefined =
      kind === 'UNABLE_TO_LOCK_ROW' || kind === 'LOSE_RESPONSE'
        ? [...WRITE_KINDS, 'bulkClose']
        : kind === 'BULK_JOB_FAILED'
          ? ['bulkClose']
          : undefined;
    this.rules.push({
      kind,
      remaining: options.probability === undefined ? (options.count ?? 1) : options.count,
      probability: options.probability,
      on: options.on ?? defaultOn,
      afterRows: options.afterRows,
    });
  }

  setLatency(ms: number, jitterMs = 0): void {
    this.latency = { ms, jitterMs };
  }

  clear(): void {
    this.rules = [];
    this.latency = { ms: 0, jitterMs: 0 };
  }

  /** Faults still armed (for assertions). */
  armed(): { kind: FaultKind; remaining: number | undefined; probability: number | undefined }[] {
    return this.rules.map(({ kind, remaining, probability }) => ({ kind, remaining, probability }));
  }

  /** Does a fault of this kind fire now for this request kind? Consumes one shot if so. */
  take(kind: FaultKind, requestKind: RequestKind): boolean {
    return this.takeRule(kind, requestKind) !== undefined;
  }

  /** Like take, returning the fired rule's options. */
  takeRule(kind: FaultKind, requestKind: RequestKind): { afterRows: number | undefined } | undefined {
    for (const rule of this.rules) {
      if (rule.kind !== kind) continue;
      if (rule.on && !rule.on.includes(requestKind)) continue;
      if (rule.remaining !== undefined && rule.remaining <= 0) continue;
      if (rule.probability !== undefined && this.random() >= rule.probability) continue;
      if (rule.remaining !== undefined) rule.remaining--;
      this.rules = this.rules.filter((r) => r.remaining === undefined || r.remaining > 0);
      return { afterRows: rule.afterRows };
    }
    return undefined;
  }

  delayMs(): number {
    const { ms, jitterMs } = this.latency;
    if (ms <= 0 && jitterMs <= 0) return 0;
    return Math.max(0, ms + (this.random() * 2 - 1) * jitterMs);
  }
}
