/**
 * What the subscription API needs from storage, as an interface so the
 * rules (`service.ts`) are tested against an in-memory double and run
 * against Firestore (`firestore-store.ts`) unchanged.
 *
 * There is no transaction here on purpose: every write is one document,
 * guarded by a precondition (create only if absent, replace or delete only if
 * unchanged since it was read). Why that is enough is written at
 * `putSubscription` in `service.ts`.
 */
import type { ProductDoc, SubscriptionDoc } from '../model.ts';

/**
 * When a stored subscription was last written, as the store reports it
 * (Firestore's update time). Opaque: only handed back to the store as a
 * precondition.
 */
export type SubscriptionVersion = string & { readonly __brand: 'SubscriptionVersion' };

/** A subscription as stored, with the version a conditional write must match. */
export interface StoredSubscription {
  doc: SubscriptionDoc;
  version: SubscriptionVersion;
}

export interface SubscriptionStore {
  /** The subscription (if any, with its version) and the product (if known), read together in one round trip. */
  readForPut(productId: string, userId: string): Promise<{ subscription?: StoredSubscription; product?: ProductDoc }>;
  /**
   * The product (if known) and how many products the shopper's record lists
   * (`held`), read together in one round trip just after a create. The record
   * is kept by this API's own creates and deletes, so it may list
   * subscriptions that deliveries removed since (never fewer than the shopper
   * holds through the API): a cheap first look at the cap.
   */
  readAfterCreate(productId: string, userId: string): Promise<{ product?: ProductDoc; held: number }>;
  /** How many products the shopper's record lists (the same first look at the cap, without a product). */
  listedFor(userId: string): Promise<number>;
  /**
   * Active subscriptions of a user across all products, counted exactly (a
   * collection-group query) up to `upTo`, and the shopper's record rewritten to
   * what was found. Costs a query whose price on the emulator grows with the
   * whole database, so it runs only when the record says the cap is reached.
   */
  recountSubscriptionsOfUser(userId: string, upTo: number): Promise<number>;
  /** Creates the document (and lists it in the shopper's record) if none exists; `undefined` when one does (nothing written). */
  createSubscription(doc: SubscriptionDoc): Promise<SubscriptionVersion | undefined>;
  /** Replaces the document if it is still at `version`; false (nothing written) when it changed or is gone. */
  replaceSubscription(doc: SubscriptionDoc, version: SubscriptionVersion): Promise<boolean>;
  getSubscription(productId: string, userId: string): Promise<SubscriptionDoc | undefined>;
  /**
   * Removes the subscription (and its entry in the shopper's record) if present;
   * removing an absent one is not an error. With `version`, only if it is still
   * at that version (false when not).
   */
  deleteSubscription(productId: string, userId: string, version?: SubscriptionVersion): Promise<boolean>;
  /** Up to `limit` subscriptions of `userId`, ordered by product id, after `afterProductId` if given. */
  listSubscriptionsOfUser(userId: string, limit: number, afterProductId?: string): Promise<SubscriptionDoc[]>;
  /** How many wait for `productId` (a count aggregation: nothing is read). */
  countSubscriptionsOfProduct(productId: string): Promise<number>;
}
