import { describe, expect, it } from 'vitest';
import {
  costOf,
  evaluateBundleTargets,
  evaluateTargets,
  floorPerThousand,
  lambdaGbSeconds,
  median,
  minSpanUnderBudget,
  perThousand,
  ratePerSecond,
  ratio,
  readCeiling,
  scaleCost,
  sqsBilledRequests,
} from '../../../bench/figures.js';
import { PRICES } from '../../../bench/pricing.js';

describe('benchmark figures', () => {
  it('puts the read ceiling at budget / window × 300 (50 / 20 s → 750 activities/s)', () => {
    expect(readCeiling(50, 20_000)).toBe(750);
    expect(readCeiling(50, 2_000)).toBe(7_500);
    expect(readCeiling(100, 20_000, 200)).toBe(1_000);
  });

  it('states the floors: 1,000 / 300 Marketo pages and 1,000 / 200 collection calls per 1,000', () => {
    expect(floorPerThousand(300)).toBeCloseTo(3.333, 3);
    expect(floorPerThousand(200)).toBe(5);
    expect(perThousand(367, 100_000)).toBeCloseTo(3.67, 2);
    expect(ratio(perThousand(367, 100_000), floorPerThousand(300))).toBeCloseTo(1.101, 3);
    expect(perThousand(5, 0)).toBe(0);
    expect(ratio(1, 0)).toBeNaN();
    expect(ratePerSecond(750, 1_000)).toBe(750);
    expect(ratePerSecond(1, 0)).toBeNaN();
  });

  it('gives the shortest span a sliding-window budget allows for N calls (first call at 0)', () => {
    expect(minSpanUnderBudget(0, 50, 20_000)).toBe(0);
    expect(minSpanUnderBudget(50, 50, 20_000)).toBe(0);
    expect(minSpanUnderBudget(51, 50, 20_000)).toBe(20_000);
    expect(minSpanUnderBudget(400, 50, 20_000)).toBe(7 * 20_000);
  });

  it('bills SQS per 64 KB chunk of payload, at least one request', () => {
    expect(sqsBilledRequests(0)).toBe(1);
    expect(sqsBilledRequests(64 * 1024)).toBe(1);
    expect(sqsBilledRequests(64 * 1024 + 1)).toBe(2);
    expect(sqsBilledRequests(256 * 1024)).toBe(4);
  });

  it('bills Lambda compute per started millisecond at the configured memory', () => {
    expect(lambdaGbSeconds([1000, 1000], 1024)).toBe(2);
    expect(lambdaGbSeconds([0.2], 1024)).toBeCloseTo(0.001, 6);
    expect(lambdaGbSeconds([999.1], 512)).toBeCloseTo(0.5, 6);
  });

  it('prices usage with the written-down list prices and scales it linearly to 1M activities', () => {
    const cost = costOf({
      lambda: [
        { function: 'a', invocations: 500_000, gbSeconds: 100, architecture: 'arm64' },
        { function: 'b', invocations: 500_000, gbSeconds: 100, architecture: 'x86_64' },
      ],
      sqsBilledRequests: 1_000_000,
      dynamodb: { readUnits: 2_000_000, writeUnits: 1_000_000 },
    });
    expect(cost.lambdaRequests).toBeCloseTo(PRICES.lambda.requestsPerMillion, 9);
    expect(cost.lambdaCompute).toBeCloseTo(100 * 0.0000133334 + 100 * 0.0000166667, 9);
    expect(cost.sqs).toBeCloseTo(0.4, 9);
    expect(cost.dynamodbReads).toBeCloseTo(0.25, 9);
    expect(cost.dynamodbWrites).toBeCloseTo(0.625, 9);
    expect(cost.total).toBeCloseTo(0.2 + 0.00300001 + 0.4 + 0.25 + 0.625, 6);

    const scaled = scaleCost(cost, 100_000);
    expect(scaled.total).toBeCloseTo(cost.total * 10, 9);
    expect(scaled.sqs).toBeCloseTo(4, 9);
  });

  it('takes the median of odd and even samples', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('evaluates the issue targets, with the Salesforce ones only for the paths the run used', () => {
    const base = {
      readRatePctOfBudgetBound: 95,
      marketoCallsPerPage: 1.05,
      rejected606: 0,
      rejected615: 0,
      costPerMillion: 0.5,
    };
    const met = evaluateTargets(base);
    expect(met.map((t) => t.figure)).toEqual([
      'back-fill read rate, % of budget-bound maximum',
      'Marketo calls / pages',
      '606 provoked',
      '615 provoked',
      'AWS cost per 1M activities (USD)',
    ]);
    expect(met.every((t) => t.met)).toBe(true);

    const missed = evaluateTargets({
      ...base,
      readRatePctOfBudgetBound: 94.9,
      marketoCallsPerPage: 1.06,
      salesforceCollectionsRatioToFloor: 1.06,
      salesforceBulkCallsPer100k: 21,
      rejected615: 1,
      costPerMillion: 0.51,
    });
    expect(missed.filter((t) => t.met).map((t) => t.figure)).toEqual(['606 provoked']);
  });

  it("evaluates the bundle targets: the webhook intake by its own size and cold import, the others at 60 % of their baseline, a new one at the others' ceiling", () => {
    const targets = evaluateBundleTargets([
      { entry: 'receive-unsubscribe-webhook', gzipKb: 300, coldImportMs: 301 },
      { entry: 'write-activity-tasks', gzipKb: 355.2, coldImportMs: 900 },
      { entry: 'fetch-activity-page', gzipKb: 355.1, coldImportMs: 900 },
      { entry: 'a-new-function', gzipKb: 1, coldImportMs: 1 },
    ]);
    expect(targets.map((t) => [t.group, t.subject, t.figure, t.limit, t.met])).toEqual([
      ['bundles', 'receive-unsubscribe-webhook', 'bundle gzip KB', 300, true],
      ['bundles', 'receive-unsubscribe-webhook', 'cold import ms', 300, false],
      ['bundles', 'write-activity-tasks', 'bundle gzip KB', 592 * 0.6, true],
      ['bundles', 'fetch-activity-page', 'bundle gzip KB', 592 * 0.6, true],
      ['bundles', 'a-new-function', 'bundle gzip KB', 355, true],
    ]);
    expect(targets[0]?.target).toBe('≤ 300 KB');
    expect(targets[2]?.target).toBe('≤ 355 KB (60 % of 592 KB)');
    expect(
      evaluateBundleTargets([{ entry: 'write-activity-tasks', gzipKb: 355.3, coldImportMs: 1 }])[0]?.met,
    ).toBe(false);
  });
});
