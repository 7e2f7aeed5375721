import type { ActivityDeps } from '../activities/activity-deps.js';

interface WithRunId {
  Records?: { body: string }[];
}

/**
 * Adds the vendor API calls of one Lambda invocation to its run report. A Lambda instance runs one
 * invocation at a time, so the clients' counter deltas are exact; the calls go to the run of the
 * first record (messages of one batch almost always share a run).
 */
export function withCallAccounting<E extends WithRunId, R, C>(
  deps: Pick<ActivityDeps, 'marketo' | 'salesforce' | 'runs' | 'logger'>,
  handler: (event: E, context: C) => Promise<R>,
): (event: E, context: C) => Promise<R> {
  return async (event, context) => {
    const m = deps.marketo.callCounts().total;
    const s = deps.salesforce.callCounts().total;
    try {
      return await handler(event, context);
    } finally {
      const runId = runIdOf(event);
      if (runId) {
        await deps.runs
          .add('activities', runId, {
            'calls.marketo': deps.marketo.callCounts().total - m,
            'calls.salesforce': deps.salesforce.callCounts().total - s,
          })
          .catch((cause: unknown) =>
            deps.logger.warn('Could not add API call counts to the run report', { cause }),
          );
      }
    }
  };
}

function runIdOf(event: WithRunId): string | undefined {
  const body = event.Records?.[0]?.body;
  if (!body) return undefined;
  try {
    const runId = (JSON.parse(body) as { runId?: unknown }).runId;
    return typeof runId === 'string' ? runId : undefined;
  } catch {
    return undefined;
  }
}
