import { DynamoDbLedgerStore } from '../../shared/adapters/dynamodb/ledger-store.js';
import { soql, soqlIdentifier } from '../../shared/domain/soql.js';
import { vendorClients } from '../../shared/runtime/activity-runtime.js';
import type { LocalEnvironment } from '../embedded/local-environment.js';
import type { CommandResult } from './command-result.js';

/**
 * `explain <marketoGUID>`: why that activity's Task went where it went, or why it has none — the
 * ledger's record of it (status, WhoId and how it was chosen, Task Id, skip or failure reason).
 * Read-only. In externalId mode a Task on the lead's own Salesforce link, of an activity no later
 * cycle re-reads, has no ledger entry (its upsert is idempotent by itself): it is looked up in
 * Salesforce by its activity id field (one query).
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
  if (!entry && local.platform.settings.salesforce.upsertMode === 'externalId') {
    const field = local.platform.settings.salesforce.taskExternalIdField;
    const { salesforce } = vendorClients(local.platform, local.credentials);
    const [task] = await salesforce.query<{ Id: string; WhoId?: string | null }>(
      soql`SELECT Id, WhoId FROM Task WHERE ${soqlIdentifier(field)} = ${marketoGUID} LIMIT 1`,
    );
    if (task)
      return {
        exitCode: 0,
        lines: [
          `${marketoGUID}`,
          `  written: Task ${task.Id} on ${task.WhoId ?? '?'} (found in Salesforce by ${field})`,
          '  because: the Marketo lead’s own Salesforce link (sfdcType with sfdcLeadId / sfdcContactId);',
          '  Tasks upserted by External ID keep no ledger entry outside the overlap re-read',
        ],
        summary: {
          command: 'explain',
          found: true,
          marketoGUID,
          status: 'done',
          taskId: task.Id,
          whoId: task.WhoId ?? null,
          source: 'salesforce',
        },
      };
  }
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
