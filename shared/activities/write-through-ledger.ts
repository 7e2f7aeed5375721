import { randomUUID } from 'node:crypto';
import { mapLimit } from '../domain/map-limit.js';
import { SOQL_IN_BATCH, soql, soqlIdentifier } from '../domain/soql.js';
import type { SalesforceSaveResult } from '../ports/salesforce-api.js';
import type { ActivityDeps } from './activity-deps.js';
import type { TaskItem } from './prepare-tasks.js';

/** Longest one write attempt can run (the write function's timeout); a crashed attempt's claims expire after it. */
export const CLAIM_LEASE_MS = 120_000;
/** Ledger claims in flight at once per unit. */
const CLAIM_CONCURRENCY = 25;

/**
 * Ledger mode (the org cannot make the Activity field an External ID): claim each activity (a
 * lease), look up the Task of any activity an earlier attempt already claimed (crash, lost
 * response: the outcome is unknown), create the rest, then record the Task ids. Claims are
 * released when the attempt ends, so a retry never waits for a live attempt's lease to expire,
 * and never runs alongside one.
 */
export async function writeThroughLedger(
  deps: ActivityDeps,
  pending: TaskItem[],
): Promise<SalesforceSaveResult[]> {
  const field = deps.settings.salesforce.taskExternalIdField;
  const owner = randomUUID();
  const results = new Map<string, SalesforceSaveResult>();
  const claimed: TaskItem[] = [];
  const unknown: TaskItem[] = [];
  // Claims in parallel (a unit's 300 one after the other took seconds: long enough, with 10
  // messages per batch, for the queue to hand a message to a second attempt meanwhile).
  const claims = await mapLimit(pending, CLAIM_CONCURRENCY, (p) =>
    deps.ledger
      .claim(
        { marketoGUID: p.ref.marketoGUID, whoId: p.ref.whoId, leadId: p.ref.leadId },
        owner,
        deps.claimLeaseMs ?? CLAIM_LEASE_MS,
      )
      .then(
        (claim) => ({ ok: true as const, ...claim }),
        (error: unknown) => ({ ok: false as const, error }),
      ),
  );
  const granted = claims.flatMap((c) => (c.ok ? [c] : []));
  const refused = claims.find((c) => !c.ok);
  if (refused && !refused.ok) {
    // Release what this attempt did claim before giving up, so its retry need not wait for the lease.
    await Promise.all(
      pending.flatMap((p, i) =>
        claims[i]?.ok && claims[i].claimed ? [deps.ledger.release(p.ref.marketoGUID, owner)] : [],
      ),
    );
    throw refused.error;
  }
  // Every claim answered: granted[i] is pending[i]'s.
  for (const [i, p] of pending.entries()) {
    const claim = granted[i]!;
    if (!claim.claimed) {
      results.set(p.ref.marketoGUID, {
        success: false,
        errors: [{ statusCode: 'CLAIMED_ELSEWHERE', message: 'another attempt is writing this activity' }],
      });
      continue;
    }
    claimed.push(p);
    if (claim.hadAttempt) unknown.push(p);
  }
  try {
    for (let i = 0; i < unknown.length; i += SOQL_IN_BATCH) {
      const guids = unknown.slice(i, i + SOQL_IN_BATCH).map((p) => p.ref.marketoGUID);
      const rows = await deps.salesforce.query<Record<string, unknown>>(
        soql`SELECT Id, ${soqlIdentifier(field)} FROM Task WHERE ${soqlIdentifier(field)} IN ${guids}`,
      );
      for (const row of rows) {
        results.set(String(row[field]), { id: String(row.Id), success: true, created: false, errors: [] });
      }
    }
    const toCreate = claimed.filter((p) => !results.has(p.ref.marketoGUID));
    if (toCreate.length) {
      const created = await deps.salesforce.create(
        'Task',
        toCreate.map((p) => p.task),
      );
      toCreate.forEach((p, i) => {
        const r = created[i];
        if (r) results.set(p.ref.marketoGUID, r);
      });
    }
    return pending.map(
      (p): SalesforceSaveResult =>
        results.get(p.ref.marketoGUID) ?? {
          success: false,
          errors: [{ statusCode: 'NO_RESULT', message: 'no result returned' }],
        },
    );
  } finally {
    // Entries that reach done are no longer pending; release the rest for the next attempt.
    // (Recording results happens after this returns; a release before it is harmless: done wins.)
    await Promise.all(
      claimed
        .filter((p) => !results.get(p.ref.marketoGUID)?.success)
        .map((p) => deps.ledger.release(p.ref.marketoGUID, owner)),
    );
  }
}
