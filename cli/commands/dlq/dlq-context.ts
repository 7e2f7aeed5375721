import { GetQueueAttributesCommand, GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDbFailureStore } from '../../../shared/adapters/dynamodb/failure-store.js';
import { tableNamesFromEnv } from '../../../shared/adapters/dynamodb/table-definitions.js';
import { QUEUES, type QueueKey } from '../../../shared/adapters/sqs/queue-definitions.js';
import type { FailureStore } from '../../../shared/ports/failure-store.js';
import { createDocumentClient, createSqsClient } from '../../../shared/runtime/aws-clients.js';
import type { LocalEnvironment } from '../../embedded/local-environment.js';

export interface DlqQueue {
  key: QueueKey;
  /** The source queue: where a redrive sends the message back to. */
  url: string;
  dlqUrl: string;
}

export interface DlqContext {
  sqs: SQSClient;
  queues: DlqQueue[];
  failures: FailureStore;
  /** Seconds a dead letter stays hidden while looked at (default PEEK_VISIBILITY_SECONDS). */
  visibilitySeconds?: number;
  /** Test hooks: simulate a crash at a step of a redrive. */
  hooks?: {
    afterSend?: (messageId: string) => Promise<void>;
    afterRecord?: (messageId: string) => Promise<void>;
  };
}

/** Seconds a peeked or redriven message stays hidden if this process dies before handing it back. */
export const PEEK_VISIBILITY_SECONDS = 120;

/** The embedded default (or AWS_ENDPOINT_URL_* servers) as the CLI started it. */
export function dlqContextFromLocal(local: LocalEnvironment): DlqContext {
  const queues: DlqQueue[] = [];
  for (const key of Object.keys(QUEUES) as QueueKey[]) {
    const url = local.platform.queueUrls[key];
    const dlqUrl = local.dlqUrls[key];
    if (url && dlqUrl) queues.push({ key, url, dlqUrl });
  }
  return {
    sqs: local.platform.sqs,
    queues,
    failures: new DynamoDbFailureStore(local.platform.doc, local.platform.tables.failures),
  };
}

/**
 * The deployed queues, when the environment names them as the functions see them
 * (FETCH_QUEUE_URL, WRITE_QUEUE_URL, UNSUBSCRIBE_QUEUE_URL: the stack outputs) plus FAILURES_TABLE.
 * Each dead-letter queue is found from its source queue's redrive policy. Credentials and region
 * come from the standard AWS configuration (AWS_PROFILE, AWS_REGION …); AWS_ENDPOINT_URL_SQS /
 * AWS_ENDPOINT_URL_DYNAMODB point at other servers.
 * Undefined when no queue URL is set: the CLI then uses the embedded default.
 */
export async function dlqContextFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): Promise<DlqContext | undefined> {
  const named = (Object.keys(QUEUES) as QueueKey[]).filter((k) => env[QUEUES[k].envVar]);
  if (named.length === 0) return undefined;
  // The SDK's own AWS_ENDPOINT_URL_* convention; with an endpoint set, queue URLs name queues only.
  const sqs = createSqsClient(
    env.AWS_ENDPOINT_URL_SQS ? { endpoint: env.AWS_ENDPOINT_URL_SQS, useQueueUrlAsEndpoint: false } : {},
  );
  const queues: DlqQueue[] = [];
  for (const key of named) {
    const url = env[QUEUES[key].envVar] as string;
    queues.push({ key, url, dlqUrl: await deadLetterQueueUrl(sqs, url, QUEUES[key].envVar) });
  }
  const doc = createDocumentClient(
    env.AWS_ENDPOINT_URL_DYNAMODB ? { endpoint: env.AWS_ENDPOINT_URL_DYNAMODB } : {},
  );
  return { sqs, queues, failures: new DynamoDbFailureStore(doc, tableNamesFromEnv(env).failures) };
}

/** The DLQ of a queue, from its RedrivePolicy (deadLetterTargetArn → GetQueueUrl). */
export async function deadLetterQueueUrl(sqs: SQSClient, queueUrl: string, label: string): Promise<string> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }),
  );
  const arn = Attributes?.RedrivePolicy
    ? (JSON.parse(Attributes.RedrivePolicy) as { deadLetterTargetArn?: string }).deadLetterTargetArn
    : undefined;
  const m = arn ? /^arn:[\w-]+:sqs:[\w-]+:(\d+):(.+)$/.exec(arn) : null;
  if (!m) {
    throw new Error(
      `${label} (${queueUrl}) has no redrive policy naming a dead-letter queue; is it the stack's queue?`,
    );
  }
  const { QueueUrl } = await sqs.send(
    new GetQueueUrlCommand({ QueueName: m[2], QueueOwnerAWSAccountId: m[1] }),
  );
  if (!QueueUrl) throw new Error(`GetQueueUrl returned nothing for the dead-letter queue ${arn}`);
  return QueueUrl;
}
