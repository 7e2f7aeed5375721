import { describe, expect, it } from 'vitest';
import { TABLE_ACTIONS } from '../../infra/app-function.js';
import type { SyncStatelessStack } from '../../infra/stateless-stack.js';
import { DEFAULT_SETTINGS_INPUT, parseSettings, type SettingsInput } from '../../shared/config/settings.js';
import { buildTestApp, grantsOfRole, logicalId } from './sync-test-app.js';

type FunctionKey = keyof SyncStatelessStack['functions'];

/** The stack with or without a type whose Tasks go when their Marketo lead is deleted (onLeadDeleted: deleteTask). */
function stackWith(deleteTask: boolean, nightly = false) {
  const input = structuredClone(DEFAULT_SETTINGS_INPUT) as SettingsInput & {
    activities: { types: Record<string, unknown>[] };
  };
  if (deleteTask) input.activities.types[0]!.onLeadDeleted = 'deleteTask';
  input.activities.verify = { nightly, days: 3 };
  const { stateless, statelessTemplate, labels } = buildTestApp({ settings: parseSettings(input) });
  return (key: FunctionKey) => {
    const fn = stateless.functions[key];
    const resource = statelessTemplate.toJSON().Resources[logicalId(fn.function)] as {
      Properties: { Timeout: number; Environment: { Variables: Record<string, unknown> } };
    };
    return {
      grants: grantsOfRole(statelessTemplate, logicalId(fn.role), labels),
      timeout: resource.Properties.Timeout,
      env: resource.Properties.Environment.Variables,
    };
  };
}

const RW = [...TABLE_ACTIONS.readWrite].sort();

describe('onLeadDeleted: deleteTask wiring (the schedule step deletes the Tasks of deleted leads)', () => {
  it('binds nothing for it when no type asks for it', () => {
    const fn = stackWith(false);
    for (const key of ['scheduleActivitySync', 'writeActivityTasks', 'flushStagedTasks'] as const) {
      expect(fn(key).grants).not.toHaveProperty('table:leadTasks');
      expect(fn(key).env).not.toHaveProperty('LEAD_TASKS_TABLE');
    }
    expect(fn('scheduleActivitySync').grants).not.toHaveProperty('secret:salesforce');
    expect(fn('scheduleActivitySync').grants).not.toHaveProperty('table:ledger');
    expect(fn('scheduleActivitySync').timeout).toBe(60);
  });

  it('gives the writers and the schedule step the lead-task index, and the schedule step Salesforce and a ledger update, with minutes', () => {
    const fn = stackWith(true);
    for (const key of ['scheduleActivitySync', 'writeActivityTasks', 'flushStagedTasks'] as const) {
      expect(fn(key).grants['table:leadTasks'], key).toEqual(RW);
      expect(fn(key).env, key).toHaveProperty('LEAD_TASKS_TABLE');
    }
    const schedule = fn('scheduleActivitySync');
    // markTaskDeleted is one UpdateItem: the schedule step cannot read or put ledger entries.
    expect(schedule.grants['table:ledger']).toEqual(['dynamodb:UpdateItem']);
    expect(schedule.grants['secret:salesforce']).toEqual(['secretsmanager:GetSecretValue']);
    expect(schedule.env).toHaveProperty('LEDGER_TABLE');
    expect(schedule.timeout).toBe(300);
    // The fetch step still never sees Salesforce.
    expect(fn('fetchActivityPage').grants).not.toHaveProperty('secret:salesforce');
  });

  it('with the nightly verify as well: the ledger read and update, the Salesforce secret once', () => {
    const schedule = stackWith(true, true)('scheduleActivitySync');
    expect(schedule.grants['table:ledger']).toEqual(
      [...new Set([...TABLE_ACTIONS.read, ...TABLE_ACTIONS.update])].sort(),
    );
    expect(schedule.grants['secret:salesforce']).toEqual(['secretsmanager:GetSecretValue']);
    expect(schedule.timeout).toBe(600);
  });
});
