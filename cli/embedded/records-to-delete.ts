import type { SQSRecord } from 'aws-lambda';

/**
 * Which records to delete, as Lambda decides with ReportBatchItemFailures: all but the reported
 * ones; a response naming an id that is not in the batch (or empty) fails the whole batch.
 */
export function recordsToDelete(records: SQSRecord[], response: unknown): SQSRecord[] | 'all-failed' {
  if (response === undefined || response === null) return records;
  const failures: unknown = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return records;
  if (!Array.isArray(failures)) return 'all-failed';
  const ids = new Set(records.map((r) => r.messageId));
  const failed = new Set<string>();
  for (const f of failures as unknown[]) {
    const id: unknown = (f as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || !ids.has(id)) return 'all-failed';
    failed.add(id);
  }
  return records.filter((r) => !failed.has(r.messageId));
}
