/**
 * Marketo's error envelope: errors arrive inside HTTP 200 as
 * `{ requestId, success: false, errors: [{ code, message }] }` (shared/API-NOTES.md, "Errors arrive
 * inside HTTP 200"; codes and meanings from its table, after AdobeDocs/marketo-developer.en
 * help/rest-api/error-codes.md).
 */

/** Outcome codes that do not count against quota or rate limit (API-NOTES: 601, 602, 604, 605, 608, 611). */
export const UNCOUNTED = new Set(['601', '602', '604', '605', '608', '611']);

export const ERROR_MESSAGES: Record<string, string> = {
  '502': 'Bad Gateway',
  '601': 'Access token invalid',
  '602': 'Access token expired',
  '603': 'Access denied',
  '604': 'Request time-out',
  '605': 'HTTP Method not supported',
  '606': 'Max rate limit 100 exceeded with in 20 secs',
  '607': 'Daily quota reached',
  '608': 'API Temporarily Unavailable',
  '609': 'Invalid JSON',
  '610': 'Requested resource not found',
  '611': 'System error',
  '612': 'Invalid Content Type',
  '614': 'Invalid Subscription',
  '615': 'Concurrent access limit reached',
  '713': 'Transient Error',
};

/** Thrown by a route to answer with an error envelope (`code`, `message`). */
export class EnvelopeError extends Error {
  constructor(
    readonly code: string,
    message?: string,
  ) {
    super(message ?? ERROR_MESSAGES[code] ?? `Error ${code}`);
  }
}

export function envelopeBody(requestId: string, code: string, message?: string) {
  return {
    requestId,
    success: false,
    errors: [{ code, message: message ?? ERROR_MESSAGES[code] ?? `Error ${code}` }],
  };
}
