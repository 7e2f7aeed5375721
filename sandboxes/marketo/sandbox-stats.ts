/** What the Marketo sandbox saw: every request with its outcome, and per-endpoint counts. */

export interface RecordedRequest {
  seq: number;
  /** Sandbox clock at arrival. */
  at: number;
  method: string;
  /** Method the request is treated as (`GET` for a POST with `_method=GET`). */
  effectiveMethod: string;
  path: string;
  /** URL query (secrets redacted). */
  query: Record<string, string>;
  /** Form parameters of a `_method=GET` POST, or the parsed JSON body. */
  body?: unknown;
  /** Request headers with Authorization/Cookie values redacted. */
  headers: Record<string, string>;
  /** Outcome: "200", an envelope code ("606"), "http500", "http414", "timeout", "drop". */
  result: string;
  /** Counted against the rate window and the daily quota. */
  counted: boolean;
}

export class SandboxStats {
  readonly requests: RecordedRequest[] = [];
  /** `${effectiveMethod} ${path}` → result → count. */
  readonly byEndpoint: Record<string, Record<string, number>> = {};
  identityCalls = 0;
  countedCalls = 0;
  maxConcurrentObserved = 0;
  maxInWindowObserved = 0;

  record(r: RecordedRequest): void {
    this.requests.push(r);
    const key = `${r.effectiveMethod} ${r.path}`;
    const bucket = this.byEndpoint[key] ?? {};
    bucket[r.result] = (bucket[r.result] ?? 0) + 1;
    this.byEndpoint[key] = bucket;
    if (r.path.startsWith('/identity/')) this.identityCalls += 1;
    if (r.counted) this.countedCalls += 1;
  }

  count(effectiveMethodAndPath: string, result?: string): number {
    const bucket = this.byEndpoint[effectiveMethodAndPath] ?? {};
    if (result) return bucket[result] ?? 0;
    return Object.values(bucket).reduce((s, n) => s + n, 0);
  }

  reset(): void {
    this.requests.length = 0;
    for (const k of Object.keys(this.byEndpoint)) delete this.byEndpoint[k];
    this.identityCalls = 0;
    this.countedCalls = 0;
    this.maxConcurrentObserved = 0;
    this.maxInWindowObserved = 0;
  }
}
