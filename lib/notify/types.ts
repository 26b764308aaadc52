import type { Channel } from '../model.ts';

/** One message to one recipient on one channel. */
export interface Notification {
  /** The dedup key: the notification service delivers each key at most once. */
  idempotencyKey: string;
  channel: Channel;
  /** Email address or push token. Personal data: never logged. */
  to: string;
  /**
   * The shopper: what a direct sender names in the one-click unsubscribe link
   * of an email, and what the notification service is told (unless
   * RESTOCK_NOTIFIER_SEND_USER_ID=false, when the router strips it). Personal
   * data: never logged.
   */
  userId?: string;
  /** The subscription's generation (`createdAtMs`), for the unsubscribe link; stripped before the `http` sender. */
  subscriptionCreatedAtMs?: number;
  locale?: string;
  template: 'restock';
  data: {
    eventKey: string;
    productId: string;
    productName?: string;
    productUrl?: string;
    available: number;
    publishTimeMs?: number;
    /**
     * The tracked link (`<public function>/v1/c/{token}`, lib/clicks) that
     * stands for `productUrl` in the message, when the deployment tracks
     * clicks: it redirects to `productUrl` and counts the shopper's click.
     */
    clickUrl?: string;
  };
}

/**
 * What became of one notification: `sent`; `rejected` for good (bad address,
 * unregistered token); `retry` when it may succeed later — including when the
 * call's outcome is unknown (timeout), which is why every call carries the key.
 */
export interface NotificationResult {
  idempotencyKey: string;
  status: 'sent' | 'retry' | 'rejected';
  reason?: string;
  /**
   * With `rejected`: the address itself is dead (an unregistered push token),
   * not only this message, so it is removed from the shopper's other
   * subscriptions too.
   */
  deadAddress?: true;
}

/**
 * Sends notifications. `send` never throws for the service's failures: it
 * answers `retry` for each notification whose fate is not known.
 */
export interface Notifier {
  send(batch: readonly Notification[]): Promise<NotificationResult[]>;
}

/**
 * A double opt-in confirmation to one address (lib/consent sends it): not a
 * restock notification, so it has no event, no stock, no unsubscribe link
 * (nothing is subscribed yet), and its key is not a ledger key.
 */
export interface ConfirmationNotice {
  /**
   * 64 hex digits, the same for every send of one pending request (keyed by
   * the link key, so it does not reveal the user id): the notification
   * service's `idempotencyKey`, the email's Message-ID, the push collapse key.
   */
  idempotencyKey: string;
  channel: Channel;
  /** The address to confirm. Personal data: never logged. */
  to: string;
  /** The shopper, for the notification service (unless RESTOCK_NOTIFIER_SEND_USER_ID=false). Personal data: never logged. */
  userId?: string;
  locale?: string;
  template: 'confirmation';
  data: {
    productId: string;
    productName?: string;
    productUrl?: string;
    /** The sealed, expiring link that confirms the request: the message's one link, and a push's click target. */
    confirmUrl: string;
    expiresAtMs: number;
  };
}

/**
 * Sends one confirmation with a sender's transport, retries and error
 * classification, answering as a notification would: `sent`, `rejected` for
 * good, or `retry`. Never throws for the provider's failures.
 */
export interface Confirmer {
  confirm(notice: ConfirmationNotice): Promise<NotificationResult>;
}
