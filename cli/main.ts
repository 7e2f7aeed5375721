import { parseArgs } from 'node:util';
import { InvalidSettingsError, loadSettings, type Settings } from '../shared/config/settings.js';
import { createLogger } from '../shared/observability/logger.js';
import { type ActivityCycleSummary, runActivityCycle } from './commands/activities.js';
import { type CommandResult, isCommandResult } from './commands/command-result.js';
import { parseSince } from './commands/since.js';
import { type LocalEnvironment, startLocalEnvironment } from './embedded/local-environment.js';
import { printHuman } from './print.js';
import { progressWanted } from './progress.js';
import { collectStatus } from './status.js';

const USAGE = `Usage: npm run sync -- <command> [options]

Commands:
  activities              one complete activity cycle (cursor or look-back → every eligible Task written)
  activities --since T [--types a,b]
                          replay: read from T (only the named types), write what is missing; idempotent
  optouts                 one nightly unsubscribe reconciliation, both directions
  tasks                   one Salesforce → Marketo cycle: closed Tasks / ended Events → custom activities
  campaigns               one Campaign cycle: Marketo email programs → Salesforce Campaigns and member status
  optouts history <email> the opt-out history of one person
  optouts --full [--id-gap N]
                          first enable: every unsubscribed Marketo lead and opted-out Lead/Contact,
                          whatever their age, aligned; resumable (a second run continues)
  serve [--port N]        serve POST /webhooks/unsubscribe locally (same handler as the Lambda)
  status                  cursors, last runs, queue and dead-letter depths
  plan                    dry run of the next activity cycle: windows, estimated activities, calls and
                          their share of the daily quotas (reads one page per window; writes nothing)
  plan tasks|campaigns    dry run of job 4's next run: window, records, calls per vendor (writes nothing)
  verify [--since T]      read-only: Marketo activities vs ledger vs Salesforce Tasks; missing,
                          duplicate, orphan and wrong-WhoId counts with ids (exit 1 when any)
  verify tasks [--since T]
                          read-only: each eligible Task/Event has exactly one Marketo custom activity
                          (read back by the Salesforce Id); missing, duplicate, pending counts
  verify campaigns [--since T]
                          read-only: each member's status is the furthest step of their email
                          activities and the last-five field is exact
  explain <marketoGUID>   why that activity's Task went where it went (WhoId, rule), or why it has none
  dlq list|show <id>|redrive [--queue fetch|write|unsubscribe] [--since T]
                          dead letters with why they failed; redrive sends them back (idempotent)
  start                   what \`npm start\` runs: an activity cycle, an opt-out reconciliation, a tasks and a campaigns cycle

Options:
  --json                  the last line of stdout is one JSON object summarising the run
  --port N                port for serve (default 8787)
  --types a,b             activities --since: only these activity types (names as in the settings)
  --since T               ISO time with zone, a date, or a span back from now (7d, 12h)
  --queue Q               dlq: only this queue's dead letters

Environment: SYNC_SETTINGS (settings JSON path), SYNC_DATA_DIR (embedded state, default .sync-data/),
MARKETO_* / SALESFORCE_* (real services; unset = built-in sandboxes), WEBHOOK_SECRET (unset = one generated
into the data directory, file webhook-secret), LOG_LEVEL.`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      port: { type: 'string' },
      since: { type: 'string' },
      queue: { type: 'string' },
      types: { type: 'string' },
      full: { type: 'boolean', default: false },
      'id-gap': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return command || values.help ? 0 : 2;
  }
  // Settings first: a bad setting is refused before anything starts.
  const settings: Settings = loadSettings();
  const logger = createLogger('sync-cli', { logLevel: process.env.LOG_LEVEL ?? 'WARN' });
  if (command === 'dlq') {
    // Against deployed queues (FETCH_QUEUE_URL …) nothing local is started.
    const { dlqContextFromEnv, runDlqCommand } = await import('./commands/dlq.js');
    const aws = await dlqContextFromEnv(process.env);
    if (aws)
      return emit(await runDlqCommand(aws, rest, { queue: values.queue, since: values.since }), values.json);
  }
  const dataDir = process.env.SYNC_DATA_DIR ?? '.sync-data';
  const local = await startLocalEnvironment({ settings, logger, dataDir });
  const progress = progressWanted(values.json);
  try {
    const summary = await dispatch(command, rest, local, {
      dataDir,
      json: values.json,
      progress,
      full: values.full,
      idGap: values['id-gap'],
      port: values.port,
      since: values.since,
      queue: values.queue,
      types: values.types,
    });
    if (summary === undefined) return 0;
    return emit(summary, values.json);
  } finally {
    await local.stop();
  }
}

/** Prints a command's outcome: human lines (unless --json), then the JSON summary as the last line. */
function emit(outcome: Record<string, unknown> | CommandResult, json: boolean): number {
  if (isCommandResult(outcome)) {
    if (!json) for (const line of outcome.lines) process.stdout.write(`${line}\n`);
    process.stdout.write(`${JSON.stringify(outcome.summary)}\n`);
    return outcome.exitCode;
  }
  if (!json) printHuman(outcome);
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
  return 0;
}

async function dispatch(
  command: string,
  rest: string[],
  local: LocalEnvironment,
  options: {
    dataDir: string;
    json: boolean;
    progress: boolean;
    full: boolean;
    idGap: string | undefined;
    port: string | undefined;
    since: string | undefined;
    queue: string | undefined;
    types: string | undefined;
  },
): Promise<Record<string, unknown> | CommandResult | undefined> {
  switch (command) {
    case 'activities': {
      const replay = options.since
        ? {
            since: parseSince(options.since),
            ...(options.types ? { types: options.types.split(',') } : {}),
          }
        : undefined;
      if (options.types && !replay) throw new UsageError('--types goes with --since (a replay)');
      return runActivityCycle(local, {
        progress: options.progress,
        ...(replay ? { replay } : {}),
      }) as Promise<ActivityCycleSummary & Record<string, unknown>>;
    }
    case 'plan': {
      if (rest[0] === 'tasks' || rest[0] === 'campaigns') {
        const { runPlanJobCommand } = await import('./commands/plan-jobs.js');
        return runPlanJobCommand(local, rest[0]);
      }
      const { runPlanCommand } = await import('./commands/plan.js');
      return runPlanCommand(local);
    }
    case 'status':
      return collectStatus(local) as unknown as Promise<Record<string, unknown>>;
    case 'start': {
      const started = Date.now();
      const activities = await runActivityCycle(local, { progress: options.progress });
      const { runOptOutsCommand } = await import('./commands/optouts.js');
      const optouts = await runOptOutsCommand(local, []);
      // One sample request to the local webhook and what it did (sandboxes only; see README).
      const { runWebhookDemo } = await import('./commands/webhook-demo.js');
      const demo = await runWebhookDemo(local, options.dataDir);
      if (!options.json) process.stdout.write(`\n${demo.lines.join('\n')}\n\n`);
      const { runTasksCommand } = await import('./commands/tasks.js');
      const tasks = await runTasksCommand(local);
      const { runCampaignsCommand } = await import('./commands/campaigns.js');
      const campaigns = await runCampaignsCommand(local);
      return {
        command: 'start',
        activities,
        optouts,
        webhook: demo.outcome ?? { sent: false },
        tasks,
        campaigns,
        durationMs: Date.now() - started,
      };
    }
    case 'optouts': {
      if (options.full) {
        const idGap = options.idGap === undefined ? undefined : Number(options.idGap);
        if (idGap !== undefined && !(Number.isInteger(idGap) && idGap >= 300))
          throw new UsageError(
            `--id-gap must be a whole number of ids, at least 300; got "${options.idGap}"`,
          );
        const { runFullAlignmentCommand } = await import('./commands/optouts.js');
        return runFullAlignmentCommand(local, {
          progress: options.progress,
          ...(idGap !== undefined ? { idGap } : {}),
        });
      }
      const { runOptOutsCommand } = await import('./commands/optouts.js');
      return runOptOutsCommand(local, rest);
    }
    case 'tasks': {
      const { runTasksCommand } = await import('./commands/tasks.js');
      return runTasksCommand(local) as unknown as Promise<Record<string, unknown>>;
    }
    case 'campaigns': {
      const { runCampaignsCommand } = await import('./commands/campaigns.js');
      return runCampaignsCommand(local) as unknown as Promise<Record<string, unknown>>;
    }
    case 'serve': {
      const { runServeCommandLocal } = await import('./commands/optouts.js');
      const port = options.port === undefined ? 8787 : Number(options.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new UsageError(`--port must be a port number, got "${options.port}"`);
      // Locally the secret is WEBHOOK_SECRET or the one generated into the data directory.
      const { localWebhookSecret } = await import('./embedded/local-webhook-secret.js');
      const { staticWebhookSecrets } = await import('../shared/optouts/webhook-secrets.js');
      await runServeCommandLocal(local, {
        port,
        ...(process.env.WEBHOOK_SECRET_ARN
          ? {}
          : { secrets: staticWebhookSecrets(localWebhookSecret(options.dataDir)) }),
      });
      return undefined;
    }
    case 'verify': {
      if (rest[0] === 'tasks' || rest[0] === 'campaigns') {
        const { runVerifyJobCommand } = await import('./commands/verify-jobs.js');
        return runVerifyJobCommand(local, rest[0], { since: options.since });
      }
      const { runVerifyCommand } = await import('./commands/verify.js');
      return runVerifyCommand(local, { since: options.since });
    }
    case 'explain': {
      const { runExplainCommand } = await import('./commands/explain.js');
      return runExplainCommand(local, rest[0]);
    }
    case 'dlq': {
      const { dlqContextFromLocal, runDlqCommand } = await import('./commands/dlq.js');
      return runDlqCommand(dlqContextFromLocal(local), rest, { queue: options.queue, since: options.since });
    }
    default:
      throw new UsageError(`Unknown command "${command}".\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (
      err instanceof InvalidSettingsError ||
      err instanceof UsageError ||
      (err instanceof Error && err.name === 'UsageError') ||
      (err instanceof Error && err.name === 'OptOutsUsageError') ||
      // Settings name an activity type this Marketo instance lacks: a settings error, named.
      (err instanceof Error && err.name === 'UnknownActivityTypeError') ||
      // Settings campaigns.programs names a Campaign Salesforce does not hold: named.
      (err instanceof Error && err.name === 'CampaignMappingError')
    ) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`Fatal: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}\n`);
    process.exitCode = 1;
  },
);
