/**
 * Public on-demand list prices used by the benchmark's cost model. Region us-east-1, USD, free
 * tiers ignored. Written down from AWS's public pricing pages as they stood in 2025 (Lambda,
 * SQS, DynamoDB on-demand after the November 2024 price cut); not fetched at run time. Check
 * them against the pricing pages before quoting a figure for another region or year.
 */
export const PRICES = {
  region: 'us-east-1',
  asOf: '2025 list prices (DynamoDB on-demand after the 2024-11-01 cut), recorded 2026-11-23',
  lambda: {
    /** Per 1M invocations. */
    requestsPerMillion: 0.2,
    /** Per GB-second, first pricing tier. */
    gbSecond: { arm64: 0.0000133334, x86_64: 0.0000166667 },
  },
  sqs: {
    /** Standard queue, per 1M requests (each 64 KB chunk of a payload is one request). */
    requestsPerMillion: 0.4,
  },
  dynamodb: {
    /** On-demand, per 1M write / read request units. */
    writeUnitsPerMillion: 0.625,
    readUnitsPerMillion: 0.125,
  },
} as const;

export type Architecture = keyof (typeof PRICES)['lambda']['gbSecond'];
