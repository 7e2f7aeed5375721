import { ChangeMessageVisibilityCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import type { VisibilityDeferrer } from '../../ports/visibility-deferrer.js';

/** SQS caps a message's visibility timeout at 12 hours. */
export const MAX_VISIBILITY_SECONDS = 43_200;

/**
 * Parks a message until a vendor budget resets (Marketo 607, Salesforce REQUEST_LIMIT_EXCEEDED)
 * by extending its visibility: one receive is spent per park instead of one per retry.
 */
export class SqsVisibilityDeferrer implements VisibilityDeferrer {
  constructor(
    private readonly client: SQSClient,
    /** Queue URL by queue ARN (the record only carries the ARN). */
    private readonly queueUrlFor: (queueArn: string) => string | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  async defer(record: SQSRecord, resumeAtMs: number): Promise<void> {
    const queueUrl = this.queueUrlFor(record.eventSourceARN);
    if (!queueUrl)
      throw new Error(`No queue URL known for ${record.eventSourceARN}; cannot defer the message.`);
    const seconds = Math.max(
      1,
      Math.min(MAX_VISIBILITY_SECONDS, Math.ceil((resumeAtMs - this.now()) / 1000)),
    );
    await this.client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: record.receiptHandle,
        VisibilityTimeout: seconds,
      }),
    );
  }
}

/** `arn:aws:sqs:us-east-1:123456789012:name` → its queue URL in AWS. */
export function queueUrlFromArn(queueArn: string): string | undefined {
  const m = /^arn:(aws[\w-]*):sqs:([\w-]+):(\d+):(.+)$/.exec(queueArn);
  if (!m) return undefined;
  const [, partition, region, account, name] = m;
  const domain = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://sqs.${region}.${domain}/${account}/${name}`;
}
