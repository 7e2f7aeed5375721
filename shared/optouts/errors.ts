/** Typed errors of the opt-out area. Each says what to do. */

export class InvalidUnsubscribeMessageError extends Error {
  override readonly name = 'InvalidUnsubscribeMessageError';
  constructor(issues: string, options?: { cause?: unknown }) {
    super(
      `Message on the unsubscribe queue is not valid (${issues}); it cannot be processed and will go to the dead-letter queue.`,
      options,
    );
  }
}

/** Some records could not be written yet (locked row, throttling, vendor outage): SQS retries the message. */
export class OptOutPropagationError extends Error {
  override readonly name = 'OptOutPropagationError';
  constructor(
    readonly failed: { target: string; error: string }[],
    options?: { cause?: unknown },
  ) {
    super(
      `${failed.length} opt-out write(s) failed with a retryable error (${[...new Set(failed.map((f) => f.error))].join(', ')}); the message will be retried.`,
      options,
    );
  }
}

export class WebhookSecretConfigError extends Error {
  override readonly name = 'WebhookSecretConfigError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
