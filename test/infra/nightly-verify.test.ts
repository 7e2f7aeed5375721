import { describe, expect, it } from 'vitest';
import { TABLE_ACTIONS } from '../../infra/app-function.js';
import { DEFAULT_SETTINGS_INPUT, parseSettings } from '../../shared/config/settings.js';
import { VENDOR_SECRET_ENV } from '../../shared/runtime/credentials.js';
import { buildTestApp, grantsOfRole, logicalId } from './sync-test-app.js';

/** The schedule function's data-plane grants and timeout, with the nightly verify off or on. */
function scheduleFunction(nightly: boolean) {
  const settings = parseSettings({
    ...DEFAULT_SETTINGS_INPUT,
    activities: { ...DEFAULT_SETTINGS_INPUT.activities, verify: { nightly, days: 3 } },
  });
  const { stateless, statelessTemplate, labels } = buildTestApp({ settings });
  const fn = stateless.functions.scheduleActivitySync;
  const grants = grantsOfRole(statelessTemplate, logicalId(fn.role), labels);
  const resource = statelessTemplate.toJSON().Resources[logicalId(fn.function)] as {
    Properties: { Timeout: number; Environment: { Variables: Record<string, unknown> } };
  };
  return { grants, timeout: resource.Properties.Timeout, env: resource.Properties.Environment.Variables };
}

describe('nightly verify (settings activities.verify.nightly)', () => {
  it('is off by default: the schedule step gets neither the ledger nor the Salesforce secret', () => {
    const { grants, timeout, env } = scheduleFunction(false);

    expect(grants).not.toHaveProperty('table:ledger');
    expect(grants).not.toHaveProperty('secret:salesforce');
    expect(env).not.toHaveProperty('LEDGER_TABLE');
    expect(timeout).toBe(60);
  });

  it('when on, wires the schedule step to read the ledger by key and Salesforce, with time for it', () => {
    const { grants, timeout, env } = scheduleFunction(true);

    expect(grants['table:ledger']).toEqual([...TABLE_ACTIONS.read].sort());
    expect(grants['secret:salesforce']).toEqual(['secretsmanager:GetSecretValue']);
    expect(env).toHaveProperty('LEDGER_TABLE');
    expect(env).toHaveProperty(VENDOR_SECRET_ENV.salesforce);
    expect(timeout).toBe(600);
  });
});
