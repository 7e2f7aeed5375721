import type { MessageSender, SendOptions } from '../../../../shared/ports/message-sender.js';

/** A MessageSender that records what was sent (and can fail on demand, like a queue outage). */
export class RecordingSender implements MessageSender {
  readonly sent: { queueUrl: string; body: unknown; options?: SendOptions }[] = [];
  failNext = 0;

  async send(queueUrl: string, bodies: unknown[], options?: SendOptions): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('queue unavailable (injected)');
    }
    // A real queue holds a serialised copy.
    for (const body of bodies)
      this.sent.push({ queueUrl, body: JSON.parse(JSON.stringify(body)), ...(options ? { options } : {}) });
  }
}
