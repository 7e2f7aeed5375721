import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SALESFORCE_RETRY_POLICY,
  decideSalesforceRetry,
  salesforceBackoff,
} from '../../../shared/adapters/salesforce/salesforce-retry-policy.js';
import {
  classifyAttempt,
  SalesforceAttemptFailure,
} from '../../../shared/adapters/salesforce/salesforce-transport.js';

const policy = DEFAULT_SALESFORCE_RETRY_POLICY;
const half = () => 0.5;
const base = { idempotent: true, retries: 0, reauthenticated: false };

describe('decideSalesforceRetry (the table the call layer consults)', () => {
  it('re-authenticates once on an invalid session, then fails', () => {
    expect(decideSalesforceRetry({ ...base, type: 'session' }, policy, half)).toEqual({
      action: 'reauthenticate',
    });
    expect(decideSalesforceRetry({ ...base, type: 'session', reauthenticated: true }, policy, half)).toEqual({
      action: 'fail',
    });
  });

  it('never retries the daily limit or a fatal error', () => {
    expect(decideSalesforceRetry({ ...base, type: 'limit' }, policy, half)).toEqual({ action: 'fail' });
    expect(decideSalesforceRetry({ ...base, type: 'fatal' }, policy, half)).toEqual({ action: 'fail' });
  });

  it('backs off idempotent calls on 5xx and broken connections, up to maxRetries', () => {
    expect(decideSalesforceRetry({ ...base, type: 'transient' }, policy, half)).toEqual({
      action: 'retry',
      delayMs: 375,
    });
    expect(decideSalesforceRetry({ ...base, type: 'connection', retries: 1 }, policy, half)).toEqual({
      action: 'retry',
      delayMs: 750,
    });
    expect(
      decideSalesforceRetry({ ...base, type: 'transient', retries: policy.maxRetries }, policy, half),
    ).toEqual({
      action: 'fail',
    });
  });

  it('reports an unknown outcome instead of re-sending a non-idempotent write', () => {
    expect(decideSalesforceRetry({ ...base, type: 'connection', idempotent: false }, policy, half)).toEqual({
      action: 'unknown-outcome',
    });
  });

  it('caps the backoff at maxDelayMs (equal jitter: between half the cap and the cap)', () => {
    expect(salesforceBackoff(20, policy, () => 0)).toBe(policy.maxDelayMs / 2);
    expect(salesforceBackoff(20, policy, () => 1)).toBe(policy.maxDelayMs);
  });
});

describe('classifyAttempt', () => {
  it('classifies by status and service error code, as an Error carrying the cause', () => {
    const cause = Object.assign(new Error('Session expired'), { errorCode: 'INVALID_SESSION_ID' });
    const session = classifyAttempt(cause, 401);
    expect(session).toBeInstanceOf(SalesforceAttemptFailure);
    expect(session).toMatchObject({ type: 'session', errorCode: 'INVALID_SESSION_ID', status: 401 });
    expect(session.cause).toBe(cause);
    expect(
      classifyAttempt(Object.assign(new Error('x'), { errorCode: 'REQUEST_LIMIT_EXCEEDED' }), 403).type,
    ).toBe('limit');
    expect(classifyAttempt(new Error('bad gateway'), 502)).toMatchObject({
      type: 'transient',
      errorCode: 'HTTP_502',
    });
    expect(classifyAttempt(Object.assign(new Error('t'), { name: 'AbortError' }), undefined)).toMatchObject({
      type: 'connection',
      errorCode: 'TIMEOUT',
    });
    expect(classifyAttempt(new Error('bad'), 400).type).toBe('fatal');
  });
});
