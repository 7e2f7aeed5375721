import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

/** A conditional write lost (another writer got there first): by type, or by name across SDK copies. */
export function isConditionalCheckFailed(err: unknown): boolean {
  return (
    err instanceof ConditionalCheckFailedException ||
    (err as Error | undefined)?.name === 'ConditionalCheckFailedException'
  );
}
