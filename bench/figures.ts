/**
 * The benchmark's arithmetic, pure so that it is unit-tested (test/unit/bench/figures.test.ts):
 * ceilings and floors from the vendor limits, ratios, SQS/Lambda billing units and the cost model.
 */
import { type Architecture, PRICES } from './pricing.js';

/** Marketo's largest page (activities per activities.json call). */
export const MARKETO_PAGE_SIZE = 300;
/** Records per sObject Collections call. */
export const SALESFORCE_COLLECTION_SIZE = 200;
/** SQS bills each 64 KB chunk of a request's payload as one request. */
export const SQS_BILLING_CHUNK_BYTES = 64 * 1024;

/**
 * Read-rate ceiling (activities/s): every call of the budget a full page,
 * `budget_calls_per_window / window_s × page size` (50 / 20 s × 300 = 750/s).
 */
export function readCeiling(callsPerWindow: number, windowMs: number, pageSize = MARKETO_PAGE_SIZE): number {
  return (callsPerWindow / (windowMs / 1000)) * pageSize;
}

/**
 * The shortest span in which `calls` calls fit a sliding-window budget of `callsPerWindow` per
 * `windowMs`, the first at 0: a read phase this long was bound by the budget alone.
 */
export function minSpanUnderBudget(calls: number, callsPerWindow: number, windowMs: number): number {
  return calls > 0 ? Math.floor((calls - 1) / callsPerWindow) * windowMs : 0;
}

/** Calls per 1,000 items; 0 items gives 0 (nothing to divide). */
export function perThousand(calls: number, items: number): number {
  return items > 0 ? (calls * 1000) / items : 0;
}

/** The fewest calls a perfect client needs per 1,000 items at `perCall` items per call. */
export function floorPerThousand(perCall: number): number {
  return 1000 / perCall;
}

export function ratio(value: number, reference: number): number {
  return reference > 0 ? value / reference : Number.NaN;
}

/** Items per second over `ms`; NaN for an empty span. */
export function ratePerSecond(items: number, ms: number): number {
  return ms > 0 ? (items * 1000) / ms : Number.NaN;
}

/** Billed SQS requests for one API action carrying `payloadBytes` (at least one). */
export function sqsBilledRequests(payloadBytes: number): number {
  return Math.max(1, Math.ceil(payloadBytes / SQS_BILLING_CHUNK_BYTES));
}

/** Lambda compute for invocations of `durationsMs` at `memoryMb` (each billed to the next 1 ms). */
export function lambdaGbSeconds(durationsMs: readonly number[], memoryMb: number): number {
  const ms = durationsMs.reduce((sum, d) => sum + Math.max(1, Math.ceil(d)), 0);
  return (ms / 1000) * (memoryMb / 1024);
}

/** What one benchmark run consumed on the AWS side (as it would in a deployment). */
export interface AwsUsage {
  lambda: { function: string; invocations: number; gbSeconds: number; architecture: Architecture }[];
  sqsBilledRequests: number;
  dynamodb: { readUnits: number; writeUnits: number };
}

export interface CostBreakdown {
  lambdaRequests: number;
  lambdaCompute: number;
  sqs: number;
  dynamodbReads: number;
  dynamodbWrites: number;
  total: number;
}

/** Cost of the usage at the list prices, in USD. */
export function costOf(usage: AwsUsage, prices = PRICES): CostBreakdown {
  const invocations = usage.lambda.reduce((s, f) => s + f.invocations, 0);
  const lambdaRequests = (invocations / 1e6) * prices.lambda.requestsPerMillion;
  const lambdaCompute = usage.lambda.reduce(
    (s, f) => s + f.gbSeconds * prices.lambda.gbSecond[f.architecture],
    0,
  );
  const sqs = (usage.sqsBilledRequests / 1e6) * prices.sqs.requestsPerMillion;
  const dynamodbReads = (usage.dynamodb.readUnits / 1e6) * prices.dynamodb.readUnitsPerMillion;
  const dynamodbWrites = (usage.dynamodb.writeUnits / 1e6) * prices.dynamodb.writeUnitsPerMillion;
  return {
    lambdaRequests,
    lambdaCompute,
    sqs,
    dynamodbReads,
    dynamodbWrites,
    total: lambdaRequests + lambdaCompute + sqs + dynamodbReads + dynamodbWrites,
  };
}

/** A cost measured over `activities`, scaled linearly to `per` activities (default 1M). */
export function scaleCost(cost: CostBreakdown, activities: number, per = 1_000_000): CostBreakdown {
  const k = activities > 0 ? per / activities : Number.NaN;
  return {
    lambdaRequests: cost.lambdaRequests * k,
    lambdaCompute: cost.lambdaCompute * k,
    sqs: cost.sqs * k,
    dynamodbReads: cost.dynamodbReads * k,
    dynamodbWrites: cost.dynamodbWrites * k,
    total: cost.total * k,
  };
}

/** Median of a sample (NaN when empty). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export interface Target {
  figure: string;
  value: number;
  /** Human-readable target, e.g. "≥ 90 %". */
  target: string;
  met: boolean;
}

export interface TargetInputs {
  readRatePctOfCeiling: number;
  marketoRatioToFloor: number;
  /** Undefined when the run wrote no Tasks through collections. */
  salesforceCollectionsRatioToFloor?: number;
  /** Undefined when the run used no Bulk API 2.0. */
  salesforceBulkCallsPer100k?: number;
  rejected606: number;
  rejected615: number;
  costPerMillion: number;
}

/** The targets, evaluated against one run. */
export function evaluateTargets(t: TargetInputs): Target[] {
  const out: Target[] = [
    {
      figure: 'back-fill read rate, % of ceiling',
      value: t.readRatePctOfCeiling,
      target: '≥ 90 %',
      met: t.readRatePctOfCeiling >= 90,
    },
    {
      figure: 'Marketo calls / floor',
      value: t.marketoRatioToFloor,
      target: '≤ 1.10',
      met: t.marketoRatioToFloor <= 1.1,
    },
  ];
  if (t.salesforceCollectionsRatioToFloor !== undefined)
    out.push({
      figure: 'Salesforce calls / floor (collections)',
      value: t.salesforceCollectionsRatioToFloor,
      target: '≤ 1.05',
      met: t.salesforceCollectionsRatioToFloor <= 1.05,
    });
  if (t.salesforceBulkCallsPer100k !== undefined)
    out.push({
      figure: 'Salesforce calls / 100k Tasks (Bulk)',
      value: t.salesforceBulkCallsPer100k,
      target: '≤ 20',
      met: t.salesforceBulkCallsPer100k <= 20,
    });
  out.push(
    { figure: '606 provoked', value: t.rejected606, target: '0', met: t.rejected606 === 0 },
    { figure: '615 provoked', value: t.rejected615, target: '0', met: t.rejected615 === 0 },
    {
      figure: 'AWS cost per 1M activities (USD)',
      value: t.costPerMillion,
      target: '< 1.00',
      met: t.costPerMillion < 1,
    },
  );
  return out;
}
