import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { World } from '../../sandboxes/world.js';
import type { Platform } from '../../shared/runtime/activity-runtime.js';

/**
 * Notes for a scenario that found a problem, so a failure can be understood from the output:
 * why messages failed repeatedly (the product's own failure records), and which activities are
 * missing (date, type, lead).
 */
export async function diagnose(
  platform: Platform,
  options: { world?: World; missing?: readonly string[] } = {},
): Promise<string[]> {
  const notes: string[] = [];
  const out = await platform.doc.send(new ScanCommand({ TableName: platform.tables.failures }));
  for (const i of out.Items ?? []) {
    if (Number(i.failures) < 3) continue;
    notes.push(
      `${String(i.queue)} message failed ×${String(i.failures)}: ${String(i.error?.name)}: ${String(i.error?.message).slice(0, 160)}`,
    );
  }
  if (options.world && options.missing?.length) {
    const byGuid = new Map(options.world.activities.map((a) => [a.marketoGUID, a]));
    notes.push(
      `missing: ${options.missing
        .slice(0, 10)
        .map((g) => {
          const a = byGuid.get(g);
          return `${a?.activityDate} type ${a?.activityTypeId} lead ${a?.leadId}`;
        })
        .join(', ')}`,
    );
  }
  return notes;
}
