import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { fixedRateWindow, rateCounterKey, secondsUntilWindowEnds } from '../../domain/rate-window.js';
import type {
  SourceRateDecision,
  SourceRateLimit,
  SourceRateLimiter,
} from '../../ports/source-rate-limiter.js';
import { isConditionalCheckFailed } from './conditional-check.js';

/**
 * Fixed-window counters in the `webhookSources` table: one conditional UpdateItem per request
 * (ADD hits 1 while hits < limit), so concurrent Lambda instances share one count without a read.
 * A refused request fails the condition and leaves the counter at the limit. Each item expires
 * (TTL `expiresAt`) one window after its own ends; a later window is another item, so an expired
 * item that TTL has not removed yet is never read again.
 */
export class DynamoDbSourceRateLimiter implements SourceRateLimiter {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async hit(sourceKey: string, limit: SourceRateLimit, now: Date): Promise<SourceRateDecision> {
    const nowMs = now.getTime();
    const window = fixedRateWindow(nowMs, limit.perSeconds);
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: rateCounterKey(sourceKey, limit.perSeconds, window) },
          UpdateExpression: 'SET expiresAt = if_not_exists(expiresAt, :expires) ADD hits :one',
          ConditionExpression: 'attribute_not_exists(hits) OR hits < :limit',
          ExpressionAttributeValues: {
            ':one': 1,
            ':limit': limit.requests,
            ':expires': window.endSeconds + limit.perSeconds,
          },
        }),
      );
      return { allowed: true };
    } catch (err) {
      if (isConditionalCheckFailed(err))
        return { allowed: false, retryAfterSeconds: secondsUntilWindowEnds(window, nowMs) };
      throw err;
    }
  }
}
