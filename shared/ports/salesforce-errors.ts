/** Typed Salesforce failures. Per-record failures are not errors: they come back as save results. */

export interface SalesforceErrorDetails {
  errorCode: string;
  /** HTTP status, when a response arrived. */
  status?: number;
  /** Safe to try again later (transient on the service side). */
  retryable?: boolean;
  cause?: unknown;
}

/** A Salesforce API call failed as a whole. `errorCode` is the service's (e.g. MALFORMED_QUERY). */
export class SalesforceApiError extends Error {
  readonly errorCode: string;
  readonly status: number | undefined;
  readonly retryable: boolean;

  constructor(message: string, details: SalesforceErrorDetails) {
    super(message, { cause: details.cause });
    this.name = 'SalesforceApiError';
    this.errorCode = details.errorCode;
    this.status = details.status;
    this.retryable = details.retryable ?? false;
  }
}

/**
 * The org's daily API request allocation is spent (403 REQUEST_LIMIT_EXCEEDED). Never retried:
 * stop Salesforce work and resume after the rolling 24-hour window frees capacity.
 */
export class SalesforceApiLimitError extends SalesforceApiError {
  readonly used: number | undefined;
  readonly limit: number | undefined;

  constructor(message: string, details: SalesforceErrorDetails & { used?: number; limit?: number }) {
    super(message, { ...details, retryable: false });
    this.name = 'SalesforceApiLimitError';
    this.used = details.used;
    this.limit = details.limit;
  }
}

/**
 * Authentication refused: bad client id/secret, app not allowed, or a fresh token rejected too.
 * A configuration problem: fix the Connected / External Client App, do not retry.
 */
export class SalesforceAuthError extends SalesforceApiError {
  constructor(message: string, details: SalesforceErrorDetails) {
    super(message, { ...details, retryable: false });
    this.name = 'SalesforceAuthError';
  }
}

/**
 * A non-idempotent write (create) may or may not have been applied: the connection broke or
 * the service failed before answering. Not retried here; the caller must find out (e.g. query
 * by its own key) before writing again.
 */
export class SalesforceUnknownOutcomeError extends SalesforceApiError {
  constructor(message: string, details: SalesforceErrorDetails) {
    super(message, details);
    this.name = 'SalesforceUnknownOutcomeError';
  }
}

/** A Bulk API 2.0 job failed, was aborted, or did not finish in time. Resume with `resumeJobId`. */
export class SalesforceBulkJobError extends SalesforceApiError {
  readonly jobId: string;
  readonly state: string | undefined;

  constructor(message: string, details: SalesforceErrorDetails & { jobId: string; state?: string }) {
    super(message, details);
    this.name = 'SalesforceBulkJobError';
    this.jobId = details.jobId;
    this.state = details.state;
  }
}
