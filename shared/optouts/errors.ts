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

/** The webhook secret is missing or malformed: an operator error (503 + alarm), never a request's fault. */
export class WebhookSecretConfigError extends Error {
  override readonly name = 'WebhookSecretConfigError';
  /** The keys of the secret document that are missing or malformed (names only, never values). */
  readonly keys: readonly string[];
  constructor(message: string, options?: { cause?: unknown; keys?: readonly string[] }) {
    super(message, options);
    this.keys = options?.keys ?? [];
  }
}
