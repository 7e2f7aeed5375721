import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/app-function.js';
import { OptOutConflictError } from '../../shared/ports/opt-out-store.js';

/**
 * No email in any error message (SPEC: no personal data in logs; an error's message ends up in a
 * log line, a dead-letter reason or a Lambda error report). Every exported Error class of the
 * production modules is built with an email in every argument, and its message and String() must
 * not contain it. Classes whose argument *is* the message (composed by the caller from our own
 * wording) are listed: their callers are covered by the full-run scan in log-scan.test.ts.
 */

const EMAIL = 'Leaky.Person+tag@Example.com';
const PRODUCTION_DIRS = ['shared', 'cli/commands'];
/**
 * Error classes whose arguments are not person data, with the reason. Everything else is built with
 * an email in every argument; a new error class is scanned by default.
 */
const NOT_PERSON_DATA: Record<string, string> = {
  WebhookSecretConfigError: 'the finished message, our wording about configuration',
  SoqlValueError: 'the finished message, about a value kind',
  CsvParseError: 'the finished message, about CSV structure',
  OptOutsUsageError: 'the finished CLI usage message',
  SinceUsageError: 'the finished CLI usage message',
  DlqUsageError: 'the finished CLI usage message',
  InvalidUnsubscribeMessageError: 'zod issue paths and our messages, never values',
  InvalidMessageError: 'queue name and zod issue paths',
  InvalidSettingsError: 'settings issue paths',
  InvalidCredentialsConfigError: 'credential source and issue paths',
  UnknownActivityTypeError: 'activity type names',
  MissingEnvironmentError: 'environment variable names',
  UnknownTimeZoneError: 'the org time zone name read from Organization.TimeZoneSidKey',
  UnknownReplayTypeError: 'an activity type name given to --types',
  JobContinuationCursorError: 'the cursor id, a constant of ours (job4#tasks / job4#campaigns)',
  CustomActivityTypeConflictError: 'the custom activity type apiName and attribute names from settings',
  CustomActivityTypeNotReadyError: 'the custom activity type apiName from settings',
  CampaignMappingError: 'Marketo program names and Campaign Ids / names from settings campaigns.programs',
  ScheduleInputError: 'zod issue paths and messages of the scheduler input, never values',
  InvalidSourceAllowListError: 'a webhook allow-list settings entry (a CIDR)',
  VendorNotGrantedError: 'vendor and operation names',
  UnprocessedItemsError: 'DynamoDB operation and table names',
  FlushLeaseLostError: 'the lease owner (an invocation id)',
  ChainNotReadyError: 'activity chain ids and step numbers',
  MessageTooLargeError: 'queue URL and sizes',
  CallGovernorTimeoutError: 'vendor budget names',
  MarketoError: 'Marketo error codes and texts (vendor wording)',
  MarketoApiError: 'Marketo error codes and texts (vendor wording)',
  MarketoAuthError: 'Marketo error codes and texts (vendor wording)',
  MarketoPagingTokenError: 'Marketo error codes and texts (vendor wording)',
  MarketoRequestError: 'Marketo error codes and texts (vendor wording)',
  MarketoResponseValidationError: 'endpoint and schema paths',
  MarketoTransportError: 'endpoint and transport codes',
  ExportAllowanceSpentError: 'our wording about the bulk export allowance (Marketo code 1029)',
  ExportQueueFullError: 'our wording about the bulk export queue (Marketo code 1029)',
  ExportCsvError: 'our wording and zod issue messages about the export file, never a record value',
  SalesforceApiError: 'Salesforce error codes and texts (vendor wording)',
  SalesforceApiLimitError: 'Salesforce limit names',
  SalesforceAuthError: 'Salesforce error codes and texts (vendor wording)',
  SalesforceBulkJobError: 'Bulk job ids and states',
  SalesforceUnknownOutcomeError: 'sObject names and call kinds',
};

type ErrorClass = new (...args: unknown[]) => Error;

async function errorClasses(): Promise<Map<string, ErrorClass>> {
  const found = new Map<string, ErrorClass>();
  for (const dir of PRODUCTION_DIRS) {
    const files = readdirSync(join(PROJECT_ROOT, dir), { recursive: true, encoding: 'utf8' }).filter(
      (f) => f.endsWith('.ts') && !f.endsWith('.d.ts'),
    );
    for (const f of files) {
      const mod = (await import(pathToFileURL(join(PROJECT_ROOT, dir, f)).href)) as Record<string, unknown>;
      for (const [name, value] of Object.entries(mod)) {
        if (typeof value === 'function' && value.prototype instanceof Error)
          found.set(name, value as ErrorClass);
      }
    }
  }
  return found;
}

/** Builds the class with an email where callers put the person's key. */
function build(C: ErrorClass): Error[] {
  // The email where a key, id or person goes (first), counts and options after it.
  const shapes: unknown[][] = [
    [EMAIL],
    [EMAIL, 3],
    [EMAIL, 3, 3],
    [EMAIL, {}],
    [[{ target: EMAIL, error: 'UNABLE_TO_LOCK_ROW' }]],
    [{ email: EMAIL, key: EMAIL }],
  ];
  const built: Error[] = [];
  for (const args of shapes) {
    try {
      built.push(new C(...args));
    } catch {
      // This shape does not fit the constructor; another one will.
    }
  }
  return built;
}

describe('error messages carry no email', () => {
  it('finds the error classes (the scan is not vacuous)', async () => {
    const classes = await errorClasses();
    expect(classes.size).toBeGreaterThan(15);
    expect(classes.has('OptOutConflictError')).toBe(true);
  }, 60_000);

  it('no exported error class puts an email argument into its message', async () => {
    const leaks: string[] = [];
    for (const [name, C] of await errorClasses()) {
      if (name in NOT_PERSON_DATA) continue;
      for (const err of build(C)) {
        const text = `${String(err)} ${err.message}`.toLowerCase();
        if (text.includes(EMAIL.toLowerCase()) || text.includes('example.com'))
          leaks.push(`${name}: ${err.message}`);
      }
    }
    expect(leaks).toEqual([]);
  }, 60_000);

  it('OptOutConflictError names the person by reference only', () => {
    const err = new OptOutConflictError('someone@example.com', 5);
    expect(err.message).not.toContain('someone');
    expect(err.message).toMatch(/email#[0-9a-f]{16}/);
  });
});
