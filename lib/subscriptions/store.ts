/**
 * What the subscription API needs from storage, as an interface so the
 * rules (`service.ts`) are tested against an in-memory double and run
 * against Firestore (`firestore-store.ts`) unchanged.
 */
import type { ProductDoc, SubscriptionDoc } from '../model.ts';

/** Reads and writes inside one transaction: reads first, then writes, all or nothing. */
export interface SubscriptionTransaction {
  getSubscription(productId: string, userId: string): Promise<SubscriptionDoc | undefined>;
  getProduct(productId: string): Promise<ProductDoc | undefined>;
  /** Active subscriptions of a user across all products (a count aggregation). */
  countSubscriptionsOfUser(userId: string): Promise<number>;
  setSubscription(doc: SubscriptionDoc): void;
}

export interface SubscriptionStore {
  /**
   * Runs `work` in a transaction, retrying it on contention as the store sees
   * fit; `work` must therefore have no side effects outside the transaction.
   */
  transact<T>(work: (tx: SubscriptionTransaction) => Promise<T>): Promise<T>;
  getSubscription(productId: string, userId: string): Promise<SubscriptionDoc | undefined>;
  /** Removes the subscription if present; removing an absent one is not an error. */
  deleteSubscription(productId: string, userId: string): Promise<void>;
  /** Up to `limit` subscriptions of `userId`, ordered by product id, after `afterProductId` if given. */
  listSubscriptionsOfUser(userId: string, limit: number, afterProductId?: string): Promise<SubscriptionDoc[]>;
  /** How many wait for `productId` (a count aggregation: nothing is read). */
  countSubscriptionsOfProduct(productId: string): Promise<number>;
}
