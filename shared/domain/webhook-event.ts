export type WebhookEventStatus = 'accepted' | 'queued' | 'applied' | 'unresolved' | 'superseded';

/** The order a webhook event's status moves in; it never moves back (an `applied` event stays applied). */
export const WEBHOOK_EVENT_STATUS_ORDER: readonly WebhookEventStatus[] = [
  'accepted',
  'queued',
  'unresolved',
  'superseded',
  'applied',
];

/** One accepted webhook event (a replayed event is applied once). */
export interface WebhookEventRecord {
  eventId: string;
  status: WebhookEventStatus;
  receivedAt: string;
  updatedAt: string;
  leadId?: number;
  reason?: string;
  occurredAt?: string;
  appliedAt?: string;
  /** Salesforce/Marketo records written for it. */
  written?: number;
}
