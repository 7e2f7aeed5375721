/** The durable cursor of one activity stream: a datetime watermark (tokens are only an optimisation). */
export interface StreamCursor {
  id: string;
  /** Every activity dated before this has been handed to the write queue. */
  watermark?: string;
  /** The run that currently owns the stream's chains; only it may advance them. */
  activeRunId?: string;
  /** The owning run's upper bound; becomes the watermark when all its windows are done. */
  runUntil?: string;
  windowCount?: number;
  doneWindows?: number[];
  claimedAt?: string;
  version: number;
}

/** The paging state of one window of one run of one stream. */
export interface ChainState {
  id: string;
  runId: string;
  streamKey: string;
  windowIndex: number;
  /** Next page number to fetch (the message carrying it is the only owner of this step). */
  page: number;
  token?: string;
  /** Latest activityDate handed to the write queue: where a fresh token restarts. */
  resumeFrom: string;
  done: boolean;
}

/** The id of a stream's cursor. */
export const streamId = (streamKey: string) => `activities#${streamKey}`;

/** The id of one window's paging chain. */
export const chainId = (runId: string, streamKey: string, windowIndex: number) =>
  `chain#${runId}#${streamKey}#${windowIndex}`;
