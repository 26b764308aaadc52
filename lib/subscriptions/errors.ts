/**
 * Conditions of the subscription domain, one class each. Their status codes
 * are in the router's problem table (`problems.ts`).
 */

/** A shopper asked to wait for a product that is in stock now (409). */
export class ProductInStockError extends Error {
  override readonly name = 'ProductInStockError';
  readonly field = 'productId';
  constructor(
    readonly productId: string,
    readonly available: number,
  ) {
    super(`Product ${JSON.stringify(productId)} is in stock (${available} available); subscribe only to sold-out products`);
  }
}

/** Creating the subscription would exceed the per-user cap (409). */
export class SubscriptionLimitError extends Error {
  override readonly name = 'SubscriptionLimitError';
  readonly field = 'userId';
  constructor(readonly limit: number) {
    super(`This user already has the maximum of ${limit} active subscriptions; remove one before adding another`);
  }
}

/** No subscription of this user to this product (404). */
export class SubscriptionNotFoundError extends Error {
  override readonly name = 'SubscriptionNotFoundError';
  readonly field = 'userId';
  constructor(readonly productId: string) {
    super(`This user has no subscription to product ${JSON.stringify(productId)}`);
  }
}

/**
 * The store could not answer now (Firestore unavailable, deadline exceeded,
 * contention): the client may retry (503 with Retry-After).
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  constructor(options: { cause: unknown }) {
    super('The subscription store is temporarily unavailable; retry in a moment', options);
  }
}

/**
 * The subscription kept changing between our read and our conditional write
 * (concurrent PUTs or DELETEs of one shopper and product). Surfaces as the
 * `cause` of a {@link StoreUnavailableError}: the client retries.
 */
export class ConcurrentChangeError extends Error {
  override readonly name = 'ConcurrentChangeError';
  constructor(
    readonly productId: string,
    readonly rounds: number,
  ) {
    super(`The subscription to product ${JSON.stringify(productId)} changed under each of ${rounds} attempts to write it`);
  }
}
