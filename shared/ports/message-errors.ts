/** One serialised message (or one item packed alone) is larger than SQS accepts. */
export class MessageTooLargeError extends Error {
  override readonly name = 'MessageTooLargeError';
  constructor(
    /** Position of the offending body / item in the caller's array. */
    readonly index: number,
    readonly sizeBytes: number,
    readonly limitBytes: number,
    what = 'message body',
  ) {
    super(
      `${what} at index ${index} is ${sizeBytes} bytes once serialised to JSON (UTF-8), over the ` +
        `${limitBytes}-byte limit: split it into smaller items or store the payload elsewhere and send a reference.`,
    );
  }
}

export interface FailedEntry {
  /** Position of the body in the array passed to `send`. */
  readonly index: number;
  readonly code: string;
  readonly message: string;
  readonly senderFault: boolean;
}

/**
 * Some messages were not accepted by SQS even after retries. Messages not listed in `failures`
 * were sent; retrying the whole `send` duplicates them, so consumers must be idempotent.
 */
export class MessageSendError extends Error {
  override readonly name = 'MessageSendError';
  constructor(
    readonly queueUrl: string,
    readonly sentCount: number,
    readonly failures: readonly FailedEntry[],
    options?: { cause?: unknown; unsentCount?: number },
  ) {
    const senderFaults = failures.filter((f) => f.senderFault).length;
    const unsent = options?.unsentCount ?? 0;
    const codes = [...new Set(failures.map((f) => f.code))].join(', ');
    super(
      `SendMessageBatch to ${queueUrl}: ${sentCount} sent, ${failures.length} failed ` +
        `(${senderFaults} sender faults, ${failures.length - senderFaults} still failing after retries` +
        `${codes ? `; codes: ${codes}` : ''})${unsent ? `, ${unsent} not attempted` : ''}. ` +
        'Sender faults mean a malformed message (fix the producer); other failures are transient (retry later).',
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
  }
}
