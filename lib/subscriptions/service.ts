/**
 * The rules of subscribing: who may join a product's waiting list, and what a
 * repeated request does. Storage-agnostic: every read and write goes through
 * a {@link SubscriptionStore}.
 */
import type { ProductDoc, SubscriptionDoc } from '../model.ts';
import { ProductInStockError, SubscriptionLimitError, SubscriptionNotFoundError } from './errors.ts';
import { encodePageToken } from './page-token.ts';
import type { SubscriptionStore } from './store.ts';
import type { SubscriptionRequest } from './validation.ts';
import { isAvailable } from '../restock/index.ts';

/**
 * Whether a product is in stock for the purpose of refusing a subscription:
 * `available > threshold`, the same line fan-out uses to call a restock. An
 * unknown product (never seen by fan-out) is not in stock.
 */
export function isInStock(product: ProductDoc | undefined, restockThreshold: number): product is ProductDoc {
  return product !== undefined && typeof product.available === 'number' && isAvailable(product.available, restockThreshold);
}

function sameChoice(doc: SubscriptionDoc, request: SubscriptionRequest): boolean {
  return (
    doc.channels.email === request.channels.email &&
    doc.channels.push === request.channels.push &&
    doc.locale === request.locale
  );
}

export interface PutSubscriptionPolicy {
  restockThreshold: number;
  maxSubscriptionsPerUser: number;
  nowMs: number;
}

/** `created`: new; `updated`: channels or locale changed; `unchanged`: same request again (nothing written). */
export type PutOutcome = 'created' | 'updated' | 'unchanged';

/**
 * Creates or replaces the subscription of `userId` to `productId`, in one
 * transaction. Idempotent: the same request again changes nothing (not even
 * `updatedAtMs`). A replace keeps `createdAtMs` and is allowed whatever the
 * stock. A create is refused with {@link ProductInStockError} when the
 * product is in stock and with {@link SubscriptionLimitError} when the user
 * already holds `maxSubscriptionsPerUser`.
 *
 * The cap is counted with an aggregation inside the transaction; an
 * aggregation does not lock the range it counts, so concurrent creates by the
 * same user for different products may overshoot the cap by their number.
 * It is a guard against floods, not an exact quota.
 */
export async function putSubscription(
  store: SubscriptionStore,
  productId: string,
  userId: string,
  request: SubscriptionRequest,
  policy: PutSubscriptionPolicy,
): Promise<{ outcome: PutOutcome; subscription: SubscriptionDoc }> {
  return store.transact(async (tx) => {
    const existing = await tx.getSubscription(productId, userId);
    if (existing) {
      if (sameChoice(existing, request)) return { outcome: 'unchanged' as const, subscription: existing };
      const updated: SubscriptionDoc = {
        userId,
        productId,
        channels: request.channels,
        ...(request.locale !== undefined ? { locale: request.locale } : {}),
        createdAtMs: existing.createdAtMs,
        updatedAtMs: policy.nowMs,
      };
      tx.setSubscription(updated);
      return { outcome: 'updated' as const, subscription: updated };
    }
    const product = await tx.getProduct(productId);
    if (isInStock(product, policy.restockThreshold)) throw new ProductInStockError(productId, product.available);
    const active = await tx.countSubscriptionsOfUser(userId);
    if (active >= policy.maxSubscriptionsPerUser) throw new SubscriptionLimitError(policy.maxSubscriptionsPerUser);
    const created: SubscriptionDoc = {
      userId,
      productId,
      channels: request.channels,
      ...(request.locale !== undefined ? { locale: request.locale } : {}),
      createdAtMs: policy.nowMs,
      updatedAtMs: policy.nowMs,
    };
    tx.setSubscription(created);
    return { outcome: 'created' as const, subscription: created };
  });
}

/** The subscription, or {@link SubscriptionNotFoundError}. */
export async function getSubscription(store: SubscriptionStore, productId: string, userId: string): Promise<SubscriptionDoc> {
  const doc = await store.getSubscription(productId, userId);
  if (!doc) throw new SubscriptionNotFoundError(productId);
  return doc;
}

/** One page of a user's subscriptions and the token of the next page (null on the last). */
export async function listSubscriptionsOfUser(
  store: SubscriptionStore,
  userId: string,
  pageSize: number,
  afterProductId: string | undefined,
): Promise<{ subscriptions: SubscriptionDoc[]; nextPageToken: string | null }> {
  // One extra document tells whether another page exists, so the last page never
  // hands out a token that leads to an empty page.
  const docs = await store.listSubscriptionsOfUser(userId, pageSize + 1, afterProductId);
  const page = docs.slice(0, pageSize);
  const last = page.at(-1);
  return {
    subscriptions: page,
    nextPageToken: docs.length > pageSize && last ? encodePageToken(userId, last.productId) : null,
  };
}
