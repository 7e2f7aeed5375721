import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { QueueDefinition } from '../shared/adapters/sqs/queue-definitions.js';

export interface QueueWithDeadLetterProps {
  /** Shared definition (visibility timeout, receive count) also used by the embedded default. */
  readonly definition: QueueDefinition;
  /** Overrides the definition's receive count. */
  readonly maxReceiveCount?: number;
  /** @default 4 days */
  readonly retentionPeriod?: Duration;
}

/**
 * A queue and its dead-letter queue with secure defaults: SQS-managed SSE, TLS-only access
 * policy, 14-day dead-letter retention (the maximum) so there is time to inspect and redrive.
 */
export class QueueWithDeadLetter extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly definition: QueueDefinition;
  readonly maxReceiveCount: number;

  constructor(scope: Construct, id: string, props: QueueWithDeadLetterProps) {
    super(scope, id);
    this.definition = props.definition;
    this.maxReceiveCount = props.maxReceiveCount ?? props.definition.maxReceiveCount;

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(props.definition.visibilityTimeoutSeconds),
      retentionPeriod: props.retentionPeriod ?? Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: this.maxReceiveCount },
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }
}
