/**
 * The live progress line of a long command on a terminal (stderr, rewritten in place): windows
 * done, activities read, Tasks written, rate, ETA, Marketo budget in use. Only when stdout and
 * stderr are terminals and not --json, so piped and --json output stay clean.
 */

export interface ProgressSample {
  atMs: number;
  /** Streams started and caught up (the run report counts streams, not windows, as done). */
  streamsStarted: number;
  streamsDone: number;
  pages: number;
  read: number;
  /** Activities whose write step is over (written, skipped or failed). */
  processed: number;
  written: number;
  marketoCalls: number;
}

/** One line from the first and latest samples; the Marketo budget is the calls of the last 20 s. */
export function formatProgress(samples: readonly ProgressSample[], callsPer20s: number): string {
  const first = samples[0];
  const last = samples.at(-1);
  if (!first || !last) return '';
  const seconds = Math.max(0.001, (last.atMs - first.atMs) / 1000);
  const rate = last.processed / seconds;
  const backlog = Math.max(0, last.read - last.processed);
  const streamsOpen = last.streamsDone < last.streamsStarted;
  const eta =
    rate > 0 && !streamsOpen
      ? `${Math.ceil(backlog / rate)}s`
      : rate > 0
        ? `≥${Math.ceil(backlog / rate)}s`
        : '–';
  const past = samples.findLast((s) => s.atMs <= last.atMs - 20_000) ?? first;
  const budget = Math.round(((last.marketoCalls - past.marketoCalls) / callsPer20s) * 100);
  return [
    `${seconds.toFixed(0)}s`,
    `streams ${last.streamsDone}/${last.streamsStarted}`,
    `pages ${last.pages}`,
    `read ${last.read}`,
    `Tasks ${last.written}`,
    `${rate.toFixed(0)}/s`,
    `ETA ${eta}`,
    `Marketo ${budget} % of ${callsPer20s}/20s`,
  ].join('  ');
}

/** Whether this process may draw a progress line. */
export function progressWanted(json: boolean): boolean {
  return !json && Boolean(process.stdout.isTTY) && Boolean(process.stderr.isTTY);
}

/** The progress line of `optouts --full`: where each side's walk stands and what it did so far. */
export function formatAlignmentProgress(p: {
  elapsedMs: number;
  marketoIdsUpTo: number;
  marketoLeads: number;
  read: { marketo: number; salesforce: number };
  aligned: { marketo: number; salesforce: number };
  chunks: number;
}): string {
  return [
    `${(p.elapsedMs / 1000).toFixed(0)}s`,
    `Marketo ids ≤ ${p.marketoIdsUpTo} (${p.marketoLeads} leads)`,
    `opted out read Marketo ${p.read.marketo}, Salesforce ${p.read.salesforce}`,
    `aligned Salesforce ${p.aligned.salesforce}, Marketo ${p.aligned.marketo}`,
    `chunks ${p.chunks}`,
  ].join('  ');
}
