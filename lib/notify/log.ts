/**
 * The `log` notifier, for the emulators only: every notification is "sent" by
 * logging it (without its address). It answers `sent`, so the ledger records
 * it and the subscription is deleted: outside the emulators that would lose
 * every notification for good, which is why `createNotifier` and the delivery
 * function's start refuse it there.
 */
import type { Logger } from '../log.ts';
import type { ConfirmationNotice, Confirmer, Notification, NotificationResult, Notifier } from './types.ts';

export class LogNotifier implements Notifier, Confirmer {
  constructor(private readonly log: Logger) {}

  async send(batch: readonly Notification[]): Promise<NotificationResult[]> {
    for (const n of batch) {
      this.log.info('notification (log notifier)', { idempotencyKey: n.idempotencyKey, channel: n.channel, productId: n.data.productId });
    }
    return batch.map((n) => ({ idempotencyKey: n.idempotencyKey, status: 'sent' }));
  }

  async confirm(c: ConfirmationNotice): Promise<NotificationResult> {
    // The link confirms the request: logging it would let anyone reading logs confirm for the shopper.
    this.log.info('confirmation (log notifier)', { channel: c.channel, productId: c.data.productId });
    return { idempotencyKey: c.idempotencyKey, status: 'sent' };
  }
}
