import { fault, type MarketoFault } from '../../sandboxes/marketo/fault-controller.js';
import type { MarketoSandbox } from '../../sandboxes/marketo/marketo-sandbox.js';
import type { FaultKind, SalesforceSandbox } from '../../sandboxes/salesforce/salesforce-sandbox.js';

/**
 * Vendor faults at a rate: every Marketo REST request draws once from the sandbox's seeded PRNG
 * and, with probability `rate`, gets one fault, its kind chosen evenly among the scenario's kinds.
 * Salesforce requests draw per request-level kind (rate / kinds each); UNABLE_TO_LOCK_ROW, which
 * Salesforce reports per record, draws per record, at the probability that gives a full
 * 200-record call a lock with rate / kinds, like the other kinds. Counts come from the sandboxes.
 */

export type MarketoFaultKind =
  | '502'
  | '604'
  | '608'
  | '611'
  | '601'
  | '602'
  | '606'
  | '615'
  | 'http500'
  | 'timeout'
  | 'drop'
  | 'pagingToken';

/** 601/602 are not injected as codes: tokenChurn expires and revokes real tokens mid-run instead. */
export const MARKETO_TRANSIENT: MarketoFaultKind[] = [
  '502',
  '604',
  '608',
  '611',
  'http500',
  'timeout',
  'drop',
  'pagingToken',
];
export const MARKETO_THROTTLE: MarketoFaultKind[] = ['606', '615'];

export type SalesforceFaultKind = FaultKind;
/** Every Salesforce fault of the issue; BULK_JOB_FAILED (a Bulk ingest job failing) is added where Bulk runs. */
export const SALESFORCE_ALL: SalesforceFaultKind[] = [
  'UNABLE_TO_LOCK_ROW',
  'INVALID_SESSION_ID',
  'HTTP_503',
  'LOSE_RESPONSE',
  'REQUEST_LIMIT_EXCEEDED',
];

/** Longer than the scaled client timeouts (chaos-clients.ts): the client gives up first. */
export const HANG_MS = 4_000;
/** sObject Collections' records per call. */
const RECORDS_PER_CALL = 200;

function marketoFault(kind: MarketoFaultKind): MarketoFault {
  switch (kind) {
    case 'http500':
      return fault.http(500);
    case 'timeout':
      return fault.timeout(HANG_MS);
    case 'drop':
      return fault.drop();
    case 'pagingToken':
      return fault.pagingTokenRejected();
    default:
      return fault.code(kind);
  }
}

/**
 * Rules are tried in order, so rule i fires with (rate/k) / (1 - i·rate/k): each kind then fires
 * on exactly rate/k of the requests and some fault on exactly `rate` of them.
 */
export function armMarketo(mk: MarketoSandbox, kinds: readonly MarketoFaultKind[], rate: number): void {
  // The paging-token rule only applies to the paged activity endpoints: last, so the others' shares hold.
  const ordered = [...kinds.filter((k) => k !== 'pagingToken'), ...kinds.filter((k) => k === 'pagingToken')];
  const share = rate / ordered.length;
  ordered.forEach((kind, i) => {
    const probability = Math.min(1, share / (1 - i * share));
    if (kind === 'pagingToken') {
      mk.faults.failRandomly(probability, marketoFault(kind), '/rest/v1/activities.json');
      mk.faults.failRandomly(probability, marketoFault(kind), '/rest/v1/activities/leadchanges.json');
    } else mk.faults.failRandomly(probability, marketoFault(kind));
  });
}

/**
 * Each kind once more (on top of the rate), so that even a small run meets every kind: armed one
 * after the other once the run is in full swing (from the 5th counted call, when several callers
 * interleave), each `spacingMs` after the previous one fired, so they land on different calls
 * rather than on one call and all its retries. Returns a function that stops arming.
 */
export function armMarketoOnce(
  mk: MarketoSandbox,
  kinds: readonly MarketoFaultKind[],
  options: { spacingMs: number; pagingEndpoint: string },
): () => void {
  let stopChain: (() => void) | undefined;
  const watch = setInterval(() => {
    if (mk.stats.countedCalls < 5) return;
    clearInterval(watch);
    // The paging-token kind first: it only fires on the paged endpoint, which a small run stops
    // calling once its reads are done; the other kinds fire on any call, writes included.
    const ordered = [
      ...kinds.filter((k) => k === 'pagingToken'),
      ...kinds.filter((k) => k !== 'pagingToken'),
    ];
    stopChain = armInTurn(ordered.length, options.spacingMs, (i) => {
      const kind = ordered[i] as MarketoFaultKind;
      const f = marketoFault(kind);
      if (kind === 'pagingToken') mk.faults.failNext(1, f, options.pagingEndpoint);
      else mk.faults.failNext(1, f);
      return () => mk.faults.fired.some((x) => x.fault === f);
    });
  }, 20);
  return () => {
    clearInterval(watch);
    stopChain?.();
  };
}

/**
 * 601 / 602 mid-run, the real way: every 6 s, with probability rate × 5, the instance expires
 * (next call 602) or revokes (601) the access tokens it issued; and once each early on (after the
 * 3rd and the 10th counted call, so a token is in use), so that a small run meets both. Returns a
 * function that stops it.
 */
export function churnMarketoTokens(mk: MarketoSandbox, rate: number, random: () => number): () => void {
  const forced = [
    { afterCalls: 3, act: () => mk.expireTokens() },
    { afterCalls: 10, act: () => mk.revokeTokens() },
  ];
  const watch = setInterval(() => {
    while (forced[0] && mk.stats.countedCalls >= forced[0].afterCalls) forced.shift()?.act();
    if (forced.length === 0) clearInterval(watch);
  }, 20);
  const churn = setInterval(() => {
    if (random() >= rate * 5) return;
    if (random() < 0.5) mk.expireTokens();
    else mk.revokeTokens();
  }, 6_000);
  return () => {
    clearInterval(watch);
    clearInterval(churn);
  };
}

/** 601 / 602 the instance answered beyond the injected ones (tokens expired or revoked by churn). */
export function marketoAuthAnswers(mk: MarketoSandbox): Record<string, number> {
  const answered = (code: string) =>
    Object.values(mk.stats.byEndpoint).reduce((n, results) => n + (results[code] ?? 0), 0);
  return { 'mk 601 (token revoked)': answered('601'), 'mk 602 (token expired)': answered('602') };
}

/** Arms fault i, waits until it fired, pauses, arms i + 1 … */
function armInTurn(count: number, spacingMs: number, arm: (i: number) => () => boolean): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const step = (i: number) => {
    if (stopped || i >= count) return;
    const fired = arm(i);
    const wait = () => {
      if (stopped) return;
      if (fired()) timer = setTimeout(() => step(i + 1), spacingMs);
      else timer = setTimeout(wait, 25);
    };
    wait();
  };
  timer = setTimeout(() => step(0), spacingMs);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

const label = (f: MarketoFault): string =>
  `mk ${f.kind === 'envelope' ? f.code : f.kind === 'http' ? `http${f.status}` : f.kind}`;

/** The table's label of a Marketo fault kind (`mk 606`, `mk timeout`, `mk pagingTokenRejected`, …). */
export const marketoLabel = (kind: MarketoFaultKind): string => label(marketoFault(kind));

/** Faults the Marketo sandbox injected, by label. */
export function marketoInjected(mk: MarketoSandbox): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of mk.faults.fired) out[label(f.fault)] = (out[label(f.fault)] ?? 0) + 1;
  return out;
}

/** 606 / 615 the sandbox answered beyond the injected ones: the instance's limits broken by us. */
export function marketoLimitBreaches(mk: MarketoSandbox): { '606': number; '615': number } {
  const injected = marketoInjected(mk);
  const answered = (code: string) =>
    Object.values(mk.stats.byEndpoint).reduce((n, results) => n + (results[code] ?? 0), 0);
  return {
    '606': answered('606') - (injected['mk 606'] ?? 0),
    '615': answered('615') - (injected['mk 615'] ?? 0),
  };
}

export interface SalesforceFaultCounter {
  counts: Record<string, number>;
}

/** Arms the Salesforce sandbox and counts every fault it fires (a view over its FaultController). */
export function armSalesforce(
  sf: SalesforceSandbox,
  kinds: readonly SalesforceFaultKind[],
  rate: number,
): SalesforceFaultCounter {
  const requestKinds = kinds.filter((k) => k !== 'UNABLE_TO_LOCK_ROW');
  for (const kind of requestKinds) sf.faults.inject(kind, { probability: rate / kinds.length });
  if (kinds.includes('UNABLE_TO_LOCK_ROW'))
    sf.faults.inject('UNABLE_TO_LOCK_ROW', {
      probability: 1 - (1 - rate / kinds.length) ** (1 / RECORDS_PER_CALL),
    });
  return countSalesforceFaults(sf);
}

/** Each kind once more (three locked records), on the first requests after `delayMs`. */
export function armSalesforceOnce(
  sf: SalesforceSandbox,
  kinds: readonly SalesforceFaultKind[],
  delayMs: number,
): () => void {
  const timer = setTimeout(() => {
    for (const kind of kinds) sf.faults.inject(kind, { count: kind === 'UNABLE_TO_LOCK_ROW' ? 3 : 1 });
  }, delayMs);
  return () => clearTimeout(timer);
}

/** Counts the faults the Salesforce sandbox fires from now on, by kind (`sf HTTP_503`, …). */
export function countSalesforceFaults(sf: SalesforceSandbox): SalesforceFaultCounter {
  const counter: SalesforceFaultCounter = { counts: {} };
  // Every fault, whichever way the sandbox asks for it, goes through takeRule.
  const takeRule = sf.faults.takeRule.bind(sf.faults);
  sf.faults.takeRule = (kind, requestKind) => {
    const fired = takeRule(kind, requestKind);
    if (fired) counter.counts[`sf ${kind}`] = (counter.counts[`sf ${kind}`] ?? 0) + 1;
    return fired;
  };
  return counter;
}

/** REST requests each sandbox served (token requests excluded): what the fault rate applies to. */
export function vendorCalls(
  mk: MarketoSandbox,
  sf: SalesforceSandbox,
): { marketo: number; salesforce: number } {
  return {
    marketo: mk.stats.requests.filter((r) => !r.path.startsWith('/identity/')).length,
    salesforce: sf.stats.requests.filter((r) => r.kind !== 'oauth').length,
  };
}
