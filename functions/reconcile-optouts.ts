import { optOutDepsFromEnv } from '../shared/optouts/opt-out-runtime.js';
import { reconcileOptOuts } from '../shared/optouts/reconcile.js';

/** Nightly (EventBridge Scheduler, 20:00 America/Los_Angeles): both directions, one consent-drift report. */
const deps = optOutDepsFromEnv('reconcile-optouts');

export const handler = () => reconcileOptOuts(deps);
