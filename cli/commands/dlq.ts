import type { CommandResult } from './command-result.js';
import type { DlqContext, DlqQueue } from './dlq/dlq-context.js';
import { listDeadLetters } from './dlq/list-dead-letters.js';
import { redriveDeadLetters } from './dlq/redrive-dead-letters.js';
import { showDeadLetter } from './dlq/show-dead-letter.js';
import { parseSince, SinceUsageError } from './since.js';

export { type DeadLetterView, formatView, maskBody } from './dlq/dead-letter-view.js';
export {
  type DlqContext,
  type DlqQueue,
  deadLetterQueueUrl,
  dlqContextFromEnv,
  dlqContextFromLocal,
  PEEK_VISIBILITY_SECONDS,
} from './dlq/dlq-context.js';
export { LIST_LIMIT } from './dlq/list-dead-letters.js';

/**
 * `dlq list | show <messageId> | redrive [--queue fetch|write|unsubscribe] [--since T]`
 *
 * Works on any SQS API: the embedded default's fauxqs queues, or the deployed queues in AWS.
 * Peeking (list, show) receives dead letters with a short visibility timeout and hands them back
 * at once (visibility 0): nothing consumes the DLQ but this command, so a message is only hidden
 * while it is being looked at, and a crash hides it for PEEK_VISIBILITY_SECONDS at most.
 */

export class DlqUsageError extends SinceUsageError {}

export interface DlqOptions {
  queue?: string | undefined;
  since?: string | undefined;
  now?: Date;
}

const USAGE =
  'Usage: dlq list | dlq show <messageId> | dlq redrive  [--queue fetch|write|unsubscribe] [--since T]';

export async function runDlqCommand(
  ctx: DlqContext,
  args: readonly string[],
  options: DlqOptions = {},
): Promise<CommandResult> {
  const [sub, ...rest] = args;
  const queues = selectQueues(ctx, options.queue);
  const since = options.since === undefined ? undefined : parseSince(options.since, options.now);
  switch (sub) {
    case 'list':
    case undefined:
      return listDeadLetters(ctx, queues, since);
    case 'show': {
      const id = rest[0];
      if (!id) throw new DlqUsageError(`dlq show needs a message id. ${USAGE}`);
      return showDeadLetter(ctx, queues, id);
    }
    case 'redrive':
      return redriveDeadLetters(ctx, queues, since);
    default:
      throw new DlqUsageError(`Unknown dlq subcommand "${sub}". ${USAGE}`);
  }
}

function selectQueues(ctx: DlqContext, queue: string | undefined): DlqQueue[] {
  if (queue === undefined) return ctx.queues;
  const found = ctx.queues.filter((q) => q.key === queue);
  if (found.length === 0) {
    throw new DlqUsageError(
      `--queue must be one of ${ctx.queues.map((q) => q.key).join(', ')}; got "${queue}". ${USAGE}`,
    );
  }
  return found;
}
