import { InMemoryCursorStore } from '../../helpers/in-memory/cursor-store.js';
import { InMemoryFailureStore } from '../../helpers/in-memory/failure-store.js';
import { InMemoryLeadCacheStore } from '../../helpers/in-memory/lead-cache-store.js';
import { InMemoryLedgerStore } from '../../helpers/in-memory/ledger-store.js';
import { InMemoryOptOutStore } from '../../helpers/in-memory/opt-out-store.js';
import { InMemoryRunReportStore } from '../../helpers/in-memory/run-report-store.js';
import { InMemoryStagedTaskStore } from '../../helpers/in-memory/staged-task-store.js';
import { describeStoreContract } from '../../helpers/store-contract.js';

// One instance of each store for the suite, as one DynamoDB server serves the DynamoDB run.
describeStoreContract('in memory', async () => {
  const cursors = new InMemoryCursorStore();
  const ledger = new InMemoryLedgerStore();
  const runs = new InMemoryRunReportStore();
  const staging = new InMemoryStagedTaskStore();
  const optOuts = new InMemoryOptOutStore();
  return {
    stores: {
      cursors: () => cursors,
      ledger: () => ledger,
      leadCache: (ttl, now) => new InMemoryLeadCacheStore(ttl, now),
      runs: () => runs,
      staging: () => staging,
      optOuts: () => optOuts,
      failures: (now) => new InMemoryFailureStore(now),
    },
    stop: async () => {},
  };
});
