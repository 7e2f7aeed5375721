import * as z from 'zod';
import { activitySchema } from '../domain/activity.js';
import { MARKETO_MAX_ACTIVITY_TYPE_IDS } from '../ports/vendor-limits.js';

/** Fetch one page of one window of one stream. `page` is the chain step this message owns. */
export const fetchMessageSchema = z.object({
  kind: z.literal('fetchPage'),
  runId: z.string().min(1),
  streamKey: z.string().min(1),
  types: z
    .array(z.object({ id: z.number().int(), name: z.string() }))
    .min(1)
    .max(MARKETO_MAX_ACTIVITY_TYPE_IDS),
  windowIndex: z.number().int().min(0),
  from: z.string().datetime({ offset: true }),
  until: z.string().datetime({ offset: true }).optional(),
  page: z.number().int().min(0),
});
export type FetchMessage = z.infer<typeof fetchMessageSchema>;

/**
 * One step of a back-fill window read by Marketo Bulk Activity Extract (export-activity-window.ts):
 * create/enqueue the job, poll it, or read the next range of its file. Same fetch queue.
 */
export const exportMessageSchema = fetchMessageSchema.omit({ kind: true, page: true, until: true }).extend({
  kind: z.literal('exportWindow'),
  until: z.string().datetime({ offset: true }),
  /** The stream's windows after this one, read one after another (Marketo runs two export jobs at a time). */
  later: z
    .array(
      z.object({ from: z.string().datetime({ offset: true }), until: z.string().datetime({ offset: true }) }),
    )
    .max(400),
});
export type ExportMessage = z.infer<typeof exportMessageSchema>;

/** What the fetch queue carries: REST page steps and export steps. */
export const fetchQueueMessageSchema = z.discriminatedUnion('kind', [
  fetchMessageSchema,
  exportMessageSchema,
]);

export const writeActivitySchema = activitySchema.extend({ activityTypeName: z.string().min(1) });
export type WriteActivity = z.infer<typeof writeActivitySchema>;

/** Activities to write as Tasks (many per message, packed under the 256 KB SQS limit). */
export const writeMessageSchema = z.object({
  kind: z.literal('writeTasks'),
  runId: z.string().min(1),
  activities: z.array(writeActivitySchema).min(1),
  /**
   * Where the next incremental read of this stream starts (this run's upper bound less the
   * overlap). In externalId mode only activities from here on keep a done ledger entry: older ones
   * are never re-read by a later cycle, and their upsert by External ID is idempotent on its own.
   * Absent (older messages, replays of them): every written Task is recorded, as before.
   */
  ledgerFrom: z.string().datetime({ offset: true }).optional(),
});
export type WriteMessage = z.infer<typeof writeMessageSchema>;

/** Tasks were staged for Bulk API 2.0: flush once staging has been quiet (sent delayed by the write step). */
export const flushMessageSchema = z.object({
  kind: z.literal('flushTasks'),
  runId: z.string().min(1),
});
export type FlushMessage = z.infer<typeof flushMessageSchema>;

export class InvalidMessageError extends Error {
  override readonly name = 'InvalidMessageError';
  constructor(queue: string, issues: string, options?: { cause?: unknown }) {
    super(
      `Message on the ${queue} queue is not valid (${issues}); it cannot be processed and will go to the dead-letter queue.`,
      options,
    );
  }
}

export function parseMessage<T>(schema: z.ZodType<T>, queue: string, body: string): T {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (cause) {
    throw new InvalidMessageError(queue, 'body is not JSON', { cause });
  }
  const res = schema.safeParse(json);
  if (!res.success) {
    throw new InvalidMessageError(
      queue,
      res.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '),
      { cause: res.error },
    );
  }
  return res.data;
}
