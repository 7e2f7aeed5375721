import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * The one DynamoDB document client set-up (Lambda, CLI and tests alike): attributes left
 * `undefined` are dropped instead of failing the write. Endpoints follow the SDK's own
 * AWS_ENDPOINT_URL_* convention unless `config` (or a given client) says otherwise.
 */
export function createDocumentClient(
  client: DynamoDBClient | DynamoDBClientConfig = {},
): DynamoDBDocumentClient {
  const dynamo = client instanceof DynamoDBClient ? client : new DynamoDBClient(client);
  return DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });
}

/** The one SQS client set-up. */
export function createSqsClient(config: SQSClientConfig = {}): SQSClient {
  return new SQSClient(config);
}
