import { DynamoDbLedgerStore } from '../../shared/adapters/dynamodb/ledger-store.js';
import type { LocalEnvironment } from '../embedded/local-environment.js';
import type { CommandResult } from './command-result.js';

/**
 * `explain <marketoGUID>`: why that activity's Task went where it went, or why it has none — the
 * ledger's record of it (status, WhoId and how it was chosen, Task Id, skip or failure reason).
 * Read-only; no vendor call.
 */
export async function runExplainCommand(
  local: LocalEnvironment,
  marketoGUID: string | undefined,
): Promise<CommandResult> {
  if (!marketoGUID) {
    const error = new Error('explain needs a marketoGUID: npm run sync -- explain <marketoGUID>');
    error.name = 'UsageError';
    throw error;
  }
  const ledger = new DynamoDbLedgerStore(local.platform.doc, local.platform.tables.ledger);
  const entry = (await ledger.getMany([marketoGUID])).get(marketoGUID);
  if (!entry) {
    return {
      exitCode: 1,
      lines: [
        `${marketoGUID}: no record of this activity.`,
        '  Not read yet, not of an enabled type, or waiting for its person to reach Salesforce',
        '  (inside its type’s look-back; `status` counts those as pending).',
      ],
      summary: { command: 'explain', marketoGUID, found: false },
    };
  }
  const about = `lead ${entry.leadId ?? '?'}, ${entry.activityTypeName ?? 'activity'} on ${entry.activityDate ?? '?'}`;
  const lines = [`${marketoGUID} (${about})`];
  if (entry.status === 'done') {
    lines.push(`  written: Task ${entry.taskId} on ${entry.whoId}`);
    lines.push(`  because: ${entry.how ?? 'the lead’s Salesforce link (recorded before reasons were kept)'}`);
  } else if (entry.status === 'skipped') lines.push(`  skipped: ${entry.reason ?? 'no reason recorded'}`);
  else if (entry.status === 'failed')
    lines.push(`  refused by Salesforce for ${entry.whoId ?? '?'}: ${entry.reason ?? 'no reason recorded'}`);
  else lines.push(`  being written (claimed by an attempt; ${entry.whoId ?? '?'})`);
  if (entry.runId) lines.push(`  run: ${entry.runId}`);
  return { exitCode: 0, lines, summary: { command: 'explain', found: true, ...entry } };
}
