/** The `log` notifier, for development: every notification is "sent" by logging it (without its address). */
import type { Logger } from '../log.ts';
import type { Notification, NotificationResult, Notifier } from './types.ts';

export class LogNotifier implements Notifier {
  constructor(private readonly log: Logger) {}

  async send(batch: readonly Notification[]): Promise<NotificationResult[]> {
    for (const n of batch) {
      this.log.info('notification (log notifier)', { idempotencyKey: n.idempotencyKey, channel: n.channel, productId: n.data.productId });
    }
    return batch.map((n) => ({ idempotencyKey: n.idempotencyKey, status: 'sent' }));
  }
}
