import * as z from 'zod';

/** One accepted webhook unsubscribe, on the `unsubscribe` queue. */
export const unsubscribeMessageSchema = z.object({
  kind: z.literal('unsubscribe'),
  eventId: z.string().min(1).max(128),
  /** Partition key of the opt-out state holding the event: the normalised email, or `lead#<id>`. */
  key: z.string().min(1),
  email: z.string().min(3).optional(),
  leadId: z.number().int().positive().optional(),
  reason: z.string().optional(),
  /** When the opt-out happened (the webhook's occurredAt, or when we received it). */
  at: z.string().datetime({ offset: true }),
  receivedAt: z.string().datetime({ offset: true }),
  /**
   * Set when the consumer parked the message (a vendor's daily budget was spent): it is re-sent,
   * delayed, until then without a vendor call, so parking never spends the original's receives.
   */
  parkedUntil: z.string().datetime({ offset: true }).optional(),
});
export type UnsubscribeMessage = z.infer<typeof unsubscribeMessageSchema>;

/** The state key of an event that names only a Marketo lead (its email is resolved by the consumer). */
export const leadKey = (leadId: number) => `lead#${leadId}`;
