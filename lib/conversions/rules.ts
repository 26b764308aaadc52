/**
 * Attribution, pure: which notification an order is credited to. The latest
 * notification of the order's product to its shopper sent within the window
 * before the order (any channel) takes it: *direct* when the shopper followed
 * a tracked link of that restock before ordering, *assisted* when they were
 * only told; none in the window (or none at all), *unattributed*. Only one
 * notification is ever credited, so a purchase counts once in the funnel.
 */
import type { Channel } from '../channels.ts';
import type { Attribution } from '../model.ts';

/** A notification sent to the shopper about the product (a `sent` ledger entry). */
export interface SentNotification {
  eventKey: string;
  channel: Channel;
  wave?: number;
  sentAtMs: number;
}

/** A recorded click of one of the shopper's links. */
export interface RecordedClick {
  eventKey: string;
  channel: Channel;
  clickedAtMs: number;
}

/** What an order is credited to. */
export interface AttributionResult {
  attribution: Attribution;
  /** The notification's restock, channel (the clicked one when direct), wave and send time; absent when unattributed. */
  eventKey?: string;
  channel?: Channel;
  wave?: number;
  notifiedAtMs?: number;
}

/**
 * The notification an order placed at `purchasedAtMs` is credited to (pure):
 * the latest sent within `windowMs` before it (ties: the first in
 * `notifications`), or none. {@link attribute} consults only the clicks of its
 * restock, so a caller reads those clicks alone.
 */
export function creditedNotification(purchasedAtMs: number, notifications: readonly SentNotification[], windowMs: number): SentNotification | undefined {
  let latest: SentNotification | undefined;
  for (const n of notifications) {
    if (n.sentAtMs > purchasedAtMs || purchasedAtMs - n.sentAtMs > windowMs) continue;
    if (!latest || n.sentAtMs > latest.sentAtMs) latest = n;
  }
  return latest;
}

/**
 * Attributes an order placed at `purchasedAtMs` (pure). A notification sent
 * after the order, or more than `windowMs` before it, is not a candidate;
 * among candidates the latest wins (ties: the first in `notifications`).
 * Direct takes the channel of the latest click of that restock made before
 * the order; a click after the order does not make it direct.
 */
export function attribute(purchasedAtMs: number, notifications: readonly SentNotification[], clicks: readonly RecordedClick[], windowMs: number): AttributionResult {
  const latest = creditedNotification(purchasedAtMs, notifications, windowMs);
  if (!latest) return { attribution: 'unattributed' };
  const clicked = clicks.filter((c) => c.eventKey === latest.eventKey && c.clickedAtMs <= purchasedAtMs).sort((a, b) => b.clickedAtMs - a.clickedAtMs)[0];
  const notification = clicked ? (notifications.find((n) => n.eventKey === latest.eventKey && n.channel === clicked.channel) ?? latest) : latest;
  return {
    attribution: clicked ? 'direct' : 'assisted',
    eventKey: latest.eventKey,
    channel: notification.channel,
    ...(notification.wave !== undefined ? { wave: notification.wave } : {}),
    notifiedAtMs: notification.sentAtMs,
  };
}
