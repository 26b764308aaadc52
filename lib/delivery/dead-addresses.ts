/**
 * Dead-address cleanup: a push token FCM calls unregistered is dead for every
 * product, so it is removed from the shopper's other subscriptions too, in one
 * transaction (their reads and one commit) per chunk. Without it, each of the
 * shopper's other restocks would try the dead token again and fail.
 *
 * A subscription left with no channel is deleted; one that still has another
 * channel keeps it. The subscription whose delivery found the token dead is
 * not touched here: recording that delivery settles it (promise 6).
 */
import { FieldValue, type Firestore } from '@google-cloud/firestore';
import { CHANNELS, COLLECTIONS, type Channel, type SubscriptionDoc } from '../model.ts';
import { runTransaction } from '../transaction.ts';

/** An address found dead while delivering a notification about `productId`. */
export interface DeadAddress {
  userId: string;
  channel: Channel;
  address: string;
  /** The product whose delivery found it; its subscription is settled by the ledger. */
  productId: string;
}

/** What the cleanup changes in one subscription. */
export type Cleanup = { action: 'keep' } | { action: 'delete' } | { action: 'remove-channels'; channels: Channel[] };

/**
 * How a subscription changes when the dead addresses are removed from it
 * (pure): channels holding a dead address of its shopper go, and a
 * subscription left with none goes. The product that found an address dead is
 * skipped: its own delivery settles that subscription.
 */
export function cleanupOf(sub: Pick<SubscriptionDoc, 'userId' | 'productId' | 'channels'>, dead: readonly DeadAddress[]): Cleanup {
  const isDead = (c: Channel): boolean =>
    dead.some((d) => d.userId === sub.userId && d.productId !== sub.productId && d.channel === c && d.address === sub.channels?.[c]);
  const remove = CHANNELS.filter((c) => sub.channels?.[c] !== undefined && isDead(c));
  if (remove.length === 0) return { action: 'keep' };
  const left = CHANNELS.filter((c) => sub.channels?.[c] && !remove.includes(c));
  return left.length === 0 ? { action: 'delete' } : { action: 'remove-channels', channels: remove };
}

/**
 * Removes each dead address from its shopper's other subscriptions.
 * @returns how many subscriptions changed (deleted or narrowed).
 * @throws whatever Firestore throws, after the transaction's retries: the
 * caller fails the chunk so the cleanup is tried again, not lost.
 */
export async function forgetDeadAddresses(db: Firestore, dead: readonly DeadAddress[], nowMs: number): Promise<number> {
  if (dead.length === 0) return 0;
  const users = [...new Set(dead.map((d) => d.userId))];
  return runTransaction(db, async (tx) => {
    const snaps = await Promise.all(users.map((u) => tx.get(db.collectionGroup(COLLECTIONS.subscriptions).where('userId', '==', u))));
    let changed = 0;
    for (const doc of snaps.flatMap((s) => s.docs)) {
      const cleanup = cleanupOf(doc.data() as SubscriptionDoc, dead);
      if (cleanup.action === 'keep') continue;
      if (cleanup.action === 'delete') tx.delete(doc.ref);
      else tx.update(doc.ref, { ...Object.fromEntries(cleanup.channels.map((c) => [`channels.${c}`, FieldValue.delete()])), updatedAtMs: nowMs });
      changed++;
    }
    return changed;
  });
}
