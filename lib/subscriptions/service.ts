/**
 * The rules of subscribing: who may join a product's waiting list, and what a
 * repeated request does. Storage-agnostic: every read and write goes through
 * a {@link SubscriptionStore}.
 */
import type { ConsentRecord, ProductDoc, SubscriptionDoc } from '../model.ts';
import { sameConsent, sameWish } from './consent.ts';
import { ConcurrentChangeError, ProductInStockError, StoreUnavailableError, SubscriptionLimitError, SubscriptionNotFoundError } from './errors.ts';
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

export interface PutSubscriptionPolicy {
  restockThreshold: number;
  maxSubscriptionsPerUser: number;
  nowMs: number;
  /** The consent record a write of this request carries, given the subscription it replaces (consent.ts `consentRecordOf`). */
  consent?: (existing: SubscriptionDoc | undefined) => ConsentRecord;
}

/** `created`: new; `updated`: channels, locale or consent changed; `unchanged`: same request and consent again (nothing written). */
export type PutOutcome = 'created' | 'updated' | 'unchanged';

/**
 * What a PUT should do, judged from what was read: pure, so every rule of
 * subscribing is one function over plain data (and tested as one).
 */
export type PutPlan =
  /** The same request again, with the same consent: nothing to write. */
  | { kind: 'unchanged'; subscription: SubscriptionDoc }
  /** Channels, locale or consent record changed: replace, keeping `createdAtMs`, whatever the stock. */
  | { kind: 'replace'; subscription: SubscriptionDoc }
  /** No subscription yet and the product is not in stock: create, if the user is under the cap. */
  | { kind: 'create'; subscription: SubscriptionDoc }
  /** No subscription yet and the product is in stock: refuse. */
  | { kind: 'refuse'; error: ProductInStockError };

/** Decides a PUT from the stored subscription (if any) and product (if known). */
export function planPut(
  existing: SubscriptionDoc | undefined,
  product: ProductDoc | undefined,
  productId: string,
  userId: string,
  request: SubscriptionRequest,
  policy: PutSubscriptionPolicy,
): PutPlan {
  const fields = {
    userId,
    productId,
    channels: request.channels,
    ...(request.locale !== undefined ? { locale: request.locale } : {}),
    ...(request.timeZone !== undefined ? { timeZone: request.timeZone } : {}),
  };
  if (existing) {
    const consent = policy.consent?.(existing);
    if (sameWish(existing, request) && (consent === undefined || sameConsent(existing.consent, consent))) return { kind: 'unchanged', subscription: existing };
    return { kind: 'replace', subscription: { ...fields, createdAtMs: existing.createdAtMs, updatedAtMs: policy.nowMs, ...(consent ? { consent } : {}) } };
  }
  if (isInStock(product, policy.restockThreshold)) return { kind: 'refuse', error: new ProductInStockError(productId, product.available) };
  return { kind: 'create', subscription: newSubscription(productId, userId, request, policy) };
}

/**
 * Rounds of read-then-conditional-write before a PUT gives up with 503. A
 * round is lost only when the same shopper's subscription to the same product
 * changed between our read and our write (a concurrent PUT or DELETE of that
 * one pair, or its delivery): rare, so a few rounds are plenty.
 */
export const PUT_ROUNDS = 5;

/**
 * Creates or replaces the subscription of `userId` to `productId`.
 * Idempotent: the same request again, with the same consent, changes
 * nothing (not even `updatedAtMs`); a new consent alone (another wording, a
 * storefront now vouching for the address) replaces the consent record. A replace keeps `createdAtMs` and is allowed whatever the
 * stock. A create is refused with {@link ProductInStockError} when the
 * product is in stock and with {@link SubscriptionLimitError} when the user
 * already holds `maxSubscriptionsPerUser`.
 * @throws StoreUnavailableError when the store cannot answer, or the pair kept
 *   changing under us for {@link PUT_ROUNDS} rounds (503: retry).
 *
 * No transaction, by design (issue 12). The only thing that must be atomic
 * is "write this one document as decided from what it held", and a
 * single-document precondition says exactly that: a create succeeds only if
 * the document is absent (two identical concurrent PUTs: one 201, the other
 * finds it and answers 200), a replace only if the document still has the
 * update time we read (else we read again and decide again; a subscription
 * deleted meanwhile becomes a create, with the stock checked). Shoppers of
 * one product touch different documents, so nothing serializes them; a
 * transaction would add locks (on the Firestore emulator, pessimistic ones on
 * every document and query range read, which is what made 16 shoppers of one
 * product answer 503 after 503) and buy nothing the two checks below need.
 *
 * A storm is almost all first-time creates, so the first round writes before
 * it reads: the create-if-absent commit, then one read of the product and the
 * shopper's record (two round trips where read-decide-write-check took
 * three; the subscribe storm is CPU-bound, so a round trip saved is about a
 * third more shoppers per second). Only a create that finds the subscription
 * there reads it and decides as above (repeat, change). Both checks of a
 * create are made against what the store holds just after it:
 *
 * - The in-stock refusal. Fan-out writes `products/{productId}` (the stock
 *   state) before it pages the subscribers. If the product still reads "not
 *   in stock" after our create committed, any restock's stock write comes
 *   later, so its paging sees the new subscription: no shopper is told 201
 *   and then missed by the restock under way. If it reads "in stock", our
 *   subscription may or may not have been paged, so it is removed again (only
 *   if still as we wrote it) and the shopper is told 409, which is true. A
 *   delivery that read it before the removal sends its one notification (the
 *   ledger's dedup key keeps it to one; the product is in stock, so the news
 *   is true); one that reads it after records "unsubscribed". That is the
 *   order a transaction reading the product would give, with no lock on the
 *   product every shopper reads.
 * - The per-user cap is a flood guard, not a quota, checked from the
 *   shopper's record (`shoppers/{userId}`), which this API keeps in the
 *   commit of each create and delete. Deliveries remove subscriptions without
 *   touching it, so it can only list too many: when it says the cap is
 *   exceeded, the subscriptions are counted exactly (a collection-group
 *   query, whose price on the emulator grows with the whole database, which
 *   is why it is not run on every create), the record rewritten, and a create
 *   over the cap removed again (429). A shopper's own sequential calls meet
 *   the cap exactly; concurrent creates by one shopper at its last free place
 *   may all be refused (each sees the others), which a retry settles, as
 *   docs/api.md says.
 */
export async function putSubscription(
  store: SubscriptionStore,
  productId: string,
  userId: string,
  request: SubscriptionRequest,
  policy: PutSubscriptionPolicy,
): Promise<{ outcome: PutOutcome; subscription: SubscriptionDoc }> {
  const created = await createChecked(store, newSubscription(productId, userId, request, policy), policy);
  if (created) return { outcome: 'created', subscription: created };
  for (let round = 1; round <= PUT_ROUNDS; round++) {
    const { subscription: stored, product } = await store.readForPut(productId, userId);
    const plan = planPut(stored?.doc, product, productId, userId, request, policy);
    switch (plan.kind) {
      case 'unchanged':
        return { outcome: 'unchanged', subscription: plan.subscription };
      case 'refuse':
        throw plan.error;
      case 'replace':
        if (await store.replaceSubscription(plan.subscription, stored!.version)) return { outcome: 'updated', subscription: plan.subscription };
        continue; // changed or deleted since we read it: judge again
      case 'create':
        if (await createChecked(store, plan.subscription, policy)) return { outcome: 'created', subscription: plan.subscription };
        continue; // created meanwhile by a concurrent PUT: judge again as a repeat or a change
    }
  }
  throw new StoreUnavailableError({ cause: new ConcurrentChangeError(productId, PUT_ROUNDS) });
}

/** The subscription a first PUT of this request creates. */
function newSubscription(productId: string, userId: string, request: SubscriptionRequest, policy: Pick<PutSubscriptionPolicy, 'nowMs' | 'consent'>): SubscriptionDoc {
  const consent = policy.consent?.(undefined);
  return {
    userId,
    productId,
    channels: request.channels,
    ...(request.locale !== undefined ? { locale: request.locale } : {}),
    ...(request.timeZone !== undefined ? { timeZone: request.timeZone } : {}),
    createdAtMs: policy.nowMs,
    updatedAtMs: policy.nowMs,
    ...(consent ? { consent } : {}),
  };
}

/**
 * Creates `doc` if absent, then checks the stock and the cap against what
 * the store holds after the create (see {@link putSubscription}), removing it
 * again when either refuses.
 * @returns the created subscription, or undefined when one already existed (nothing written).
 * @throws ProductInStockError, SubscriptionLimitError (the create undone)
 */
async function createChecked(store: SubscriptionStore, doc: SubscriptionDoc, policy: PutSubscriptionPolicy): Promise<SubscriptionDoc | undefined> {
  const version = await store.createSubscription(doc);
  if (version === undefined) return undefined;
  const { product, held } = await store.readAfterCreate(doc.productId, doc.userId);
  let refusal: ProductInStockError | SubscriptionLimitError | undefined;
  if (isInStock(product, policy.restockThreshold)) {
    refusal = new ProductInStockError(doc.productId, product.available);
  } else if (held > policy.maxSubscriptionsPerUser) {
    const active = await store.recountSubscriptionsOfUser(doc.userId, policy.maxSubscriptionsPerUser + 1);
    if (active > policy.maxSubscriptionsPerUser) refusal = new SubscriptionLimitError(policy.maxSubscriptionsPerUser);
  }
  if (refusal === undefined) return doc;
  await store.deleteSubscription(doc.productId, doc.userId, version);
  throw refusal;
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
