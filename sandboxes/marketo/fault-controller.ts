/**
 * Fault injection for the Marketo sandbox. Rules match an endpoint (path suffix, optional method)
 * and fire either for the next N matching calls or with a probability drawn from the sandbox's
 * seeded PRNG, so a run with the same seed and the same call sequence reproduces exactly.
 */

export type MarketoFault =
  /** A `success:false` envelope in HTTP 200 with this code (e.g. 604, 608, 611, 502, 606, 615, 607, 601, 602, 603). */
  | { kind: 'envelope'; code: string; message?: string }
  /** A bare HTTP error status (e.g. 500, 503) with a non-envelope body. */
  | { kind: 'http'; status: number }
  /** Accept the request and never answer (until `hangMs`, then the socket is destroyed). */
  | { kind: 'timeout'; hangMs?: number }
  /** Send the status line and half a body, then destroy the socket. */
  | { kind: 'drop' }
  /** Reject the request's nextPageToken as if it were invalid or expired. */
  | { kind: 'pagingTokenRejected' };

export interface FaultRule {
  fault: MarketoFault;
  /**
   * Path suffix to match, e.g. `activities.json`, `/rest/v1/leads.json`, `identity/oauth/token`.
   * Unset: every REST endpoint (never identity).
   */
  endpoint?: string;
  /** Effective HTTP method to match (after `_method=GET`); unset: any. */
  method?: 'GET' | 'POST';
  /** Fire for this many matching calls, then retire (default: unlimited when `probability` is set, else 1). */
  times?: number;
  /** Fire with this probability on each matching call (default 1). */
  probability?: number;
}

/** Convenience constructors: `fault.code('606')`, `fault.http(500)`, `fault.timeout()`, `fault.drop()`. */
export const fault = {
  code: (code: string | number, message?: string): MarketoFault => ({
    kind: 'envelope',
    code: String(code),
    ...(message ? { message } : {}),
  }),
  http: (status: number): MarketoFault => ({ kind: 'http', status }),
  timeout: (hangMs?: number): MarketoFault => ({ kind: 'timeout', ...(hangMs ? { hangMs } : {}) }),
  drop: (): MarketoFault => ({ kind: 'drop' }),
  pagingTokenRejected: (): MarketoFault => ({ kind: 'pagingTokenRejected' }),
};

interface ActiveRule extends FaultRule {
  remaining: number;
  fired: number;
}

export class FaultController {
  private rules: ActiveRule[] = [];
  /** Faults fired so far, in order (endpoint path + fault). */
  readonly fired: { path: string; method: string; fault: MarketoFault }[] = [];
  /** Probability that an activities-style page is cut short (fewer items than available). */
  shortPageProbability: number;
  /** Probability that such a page is empty while `moreResult` stays true. */
  emptyPageProbability: number;

  constructor(
    private readonly rand: () => number,
    paging: { shortPageProbability?: number; emptyPageProbability?: number } = {},
  ) {
    this.shortPageProbability = paging.shortPageProbability ?? 0.1;
    this.emptyPageProbability = paging.emptyPageProbability ?? 0.05;
  }

  /** Adds a rule; returns a function that removes it. */
  inject(rule: FaultRule): () => void {
    const active: ActiveRule = {
      ...rule,
      remaining: rule.times ?? (rule.probability !== undefined ? Number.POSITIVE_INFINITY : 1),
      fired: 0,
    };
    this.rules.push(active);
    return () => {
      this.rules = this.rules.filter((r) => r !== active);
    };
  }

  /** The next `times` matching calls fail with `f`. */
  failNext(times: number, f: MarketoFault, endpoint?: string, method?: 'GET' | 'POST'): () => void {
    return this.inject({ fault: f, times, ...(endpoint ? { endpoint } : {}), ...(method ? { method } : {}) });
  }

  /** Every matching call fails with `f` with probability `p` (seeded). */
  failRandomly(probability: number, f: MarketoFault, endpoint?: string, method?: 'GET' | 'POST'): () => void {
    return this.inject({
      fault: f,
      probability,
      ...(endpoint ? { endpoint } : {}),
      ...(method ? { method } : {}),
    });
  }

  setPaging(p: { shortPageProbability?: number; emptyPageProbability?: number }): void {
    if (p.shortPageProbability !== undefined) this.shortPageProbability = p.shortPageProbability;
    if (p.emptyPageProbability !== undefined) this.emptyPageProbability = p.emptyPageProbability;
  }

  clear(): void {
    this.rules = [];
  }

  get pending(): number {
    return this.rules.length;
  }

  /** Called by the sandbox once per request; returns the fault to apply, if any. */
  pick(method: string, path: string): MarketoFault | undefined {
    const isIdentity = path.startsWith('/identity/');
    for (const rule of this.rules) {
      if (rule.remaining <= 0) continue;
      if (rule.method && rule.method !== method) continue;
      if (rule.endpoint === undefined ? isIdentity : !matchesEndpoint(path, rule.endpoint)) continue;
      if (rule.probability !== undefined && this.rand() >= rule.probability) continue;
      rule.remaining -= 1;
      rule.fired += 1;
      this.fired.push({ path, method, fault: rule.fault });
      if (rule.remaining <= 0) this.rules = this.rules.filter((r) => r !== rule);
      return rule.fault;
    }
    return undefined;
  }

  /** Draws the size of the next page: `batchSize`, something shorter, or 0. */
  pageSize(batchSize: number): number {
    const r = this.rand();
    if (r < this.emptyPageProbability) return 0;
    if (r < this.emptyPageProbability + this.shortPageProbability)
      return Math.floor(this.rand() * Math.max(1, batchSize));
    return batchSize;
  }
}

/** Suffix match on a path-segment boundary: `leads.json` matches `/rest/v1/leads.json`, not `deletedleads.json`. */
export function matchesEndpoint(path: string, endpoint: string): boolean {
  const suffix = endpoint.startsWith('/') ? endpoint : `/${endpoint}`;
  return path === endpoint || path.endsWith(suffix);
}
