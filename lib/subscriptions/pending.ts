/**
 * The PUT of a request that needs double opt-in: stored pending, one
 * confirmation message sent to the address to confirm, never notified
 * (docs/design.md promise 16).
 *
 * A repeated PUT of the same request while it is pending sends nothing
 * more; a changed request (another address) replaces it and gets a link of
 * its own (the older link then confirms nothing). Every message counts
 * against the address's limit (RESTOCK_CONFIRMATIONS_PER_ADDRESS per day,
 * lib/consent), so nobody can use the API to mail-bomb a stranger: over the
 * limit the request is not kept and the answer is 429.
 */
import { Timestamp } from '@google-cloud/firestore';
import { InvalidRequestError } from '../http/index.ts';
import type { Channel, PendingSubscriptionDoc, ProductDoc, SubscriptionDoc } from '../model.ts';
import { channelsToConfirm, consentRecordOf, sameWish } from './consent.ts';
import { ConcurrentChangeError, ProductInStockError, StoreUnavailableError, SubscriptionLimitError } from './errors.ts';
import { isLive, type PendingStore } from './pending-store.ts';
import { isInStock } from './service.ts';
import type { SubscriptionStore } from './store.ts';
import type { SubscriptionRequest } from './validation.ts';

/** The confirmation message of one pending request: what a sender needs to build and seal its link. */
export interface ConfirmationMessage {
  productId: string;
  userId: string;
  channel: Channel;
  /** The address to confirm. Personal data: never logged. */
  to: string;
  /** The pending request's `createdAtMs`: the link names it. */
  generation: number;
  locale?: string;
  productName?: string;
  productUrl?: string;
  /** When the link and the request expire. */
  expiresAtMs: number;
}

/** What a sender did with a confirmation: sent, or refused because the address had its share today. */
export type ConfirmationOutcome = { outcome: 'sent' } | { outcome: 'limited'; retryAfterMs: number };

/** Sends confirmation messages (lib/consent builds the production one). */
export interface ConfirmationSender {
  /** @throws ConfirmationUnavailableError when the message could not be handed over (503: the PUT is retried); ConfirmationRejectedError when the address is refused for good. */
  send(message: ConfirmationMessage): Promise<ConfirmationOutcome>;
}

/** The address had its share of confirmation messages in the current window (429). */
export class ConfirmationRateLimitedError extends Error {
  override readonly name = 'ConfirmationRateLimitedError';
  constructor(
    readonly channel: Channel,
    readonly retryAfterMs: number,
  ) {
    super(`this ${channel === 'email' ? 'address' : 'token'} was sent as many confirmation messages as it may receive for now; try again later`);
  }
}

/** The channel's sender refused the address for good (a 5xx at RCPT TO, an unregistered token, a gone subscription): 400 naming the field; the request is not kept. */
export class ConfirmationRejectedError extends Error {
  override readonly name = 'ConfirmationRejectedError';
  constructor(
    readonly channel: Channel,
    reason: string,
  ) {
    super(`the ${channel} sender refused this address for good: ${reason}`);
  }
}

/** The confirmation message could not be handed to its sender (SMTP, FCM, a push service or the notification service down, past its retries): 503, retry. */
export class ConfirmationUnavailableError extends Error {
  override readonly name = 'ConfirmationUnavailableError';
  constructor(options: { cause: unknown }) {
    super('The confirmation message could not be sent now; retry in a moment', options);
  }
}

export interface PendingPolicy {
  restockThreshold: number;
  /** The per-user cap, counting live pending requests beside active subscriptions. */
  maxSubscriptionsPerUser: number;
  doubleOptIn: readonly Channel[];
  confirmationTtlMs: number;
  /** The caller, as the consent record names it. */
  storefront: string;
  nowMs: number;
}

/** `pending-created`: a new request, its message sent; `pending-unchanged`: the same request again (nothing sent). */
export type PendingOutcome = 'pending-created' | 'pending-unchanged';

const ROUNDS = 5;

/**
 * A pending request whose confirmation was never recorded as sent (the send
 * failed, or its PUT died) is sent again by a repeated PUT only after this
 * long: less, and a PUT arriving while the first one is still talking to the
 * channel's sender would send a second message. Above one call of each
 * sender with the default settings (SMTP's 10 s timeouts; FCM, web push and
 * the notification service: 3 attempts of 10 s and Retry-After waits of up to
 * 5 s); raising RESTOCK_NOTIFIER_RETRIES or the timeouts far past them
 * narrows the margin.
 */
export const RESEND_AFTER_MS = 60_000;

/**
 * The PUT path with double opt-in: decides from the stored subscription
 * whether the request has an address to confirm; if not, answers undefined
 * and the caller writes the subscription as always. Otherwise stores the
 * request pending (create-if-absent, or replace-if-unchanged) and sends the
 * confirmation; a sender over the address's limit undoes the write.
 * @throws ProductInStockError when there is no subscription and the product is in stock;
 *   ConfirmationRateLimitedError; ConfirmationUnavailableError; StoreUnavailableError.
 */
export async function putPending(
  store: Pick<SubscriptionStore, 'readForPut' | 'listedFor' | 'recountSubscriptionsOfUser'>,
  pending: PendingStore,
  sender: ConfirmationSender,
  productId: string,
  userId: string,
  request: SubscriptionRequest,
  policy: PendingPolicy,
): Promise<{ outcome: PendingOutcome; pending: PendingSubscriptionDoc } | undefined> {
  const { subscription, product } = await store.readForPut(productId, userId);
  const existing = subscription?.doc;
  const toConfirm = channelsToConfirm(request, existing, policy.doubleOptIn);
  if (toConfirm.length === 0) return undefined;
  // One link proves one address: were a second confirmed with it, anyone could pair their own email with a stranger's token.
  if (toConfirm.length > 1) {
    throw new InvalidRequestError([
      {
        pointer: `#/channels/${toConfirm[1]}`,
        detail: `needs a confirmation of its own, and one address is confirmed at a time: vouch for it (consent.verified) or add it in a later PUT once ${toConfirm[0]} is confirmed`,
      },
    ]);
  }
  if (!existing && isInStock(product, policy.restockThreshold)) throw new ProductInStockError(productId, product.available);
  const channel = toConfirm[0]!;
  for (let round = 1; round <= ROUNDS; round++) {
    const stored = await pending.readPending(productId, userId);
    const same = stored !== undefined && isLive(stored.doc, policy.nowMs) && sameWish(stored.doc, request);
    // Sent, or being sent by the PUT that wrote it: nothing more goes out. Only a request whose send failed long ago is sent again.
    if (same && (stored.doc.sentAtMs !== undefined || policy.nowMs - stored.doc.createdAtMs < RESEND_AFTER_MS)) {
      return { outcome: 'pending-unchanged', pending: stored.doc };
    }
    // A new wish (no subscription, no live request for this product) takes a place under the per-user cap.
    if (!existing && !(stored && isLive(stored.doc, policy.nowMs))) await requirePlace(store, pending, userId, policy);
    const doc = newPending(productId, userId, request, existing, channel, policy);
    const version = stored ? await pending.replacePending(doc, stored.version) : await pending.createPending(doc);
    if (version === undefined) continue; // a concurrent PUT wrote it first: judge again (most often, the same request: unchanged)
    let sent: ConfirmationOutcome;
    try {
      sent = await send(sender, doc, product);
    } catch (err) {
      if (err instanceof ConfirmationRejectedError) await pending.deletePending(productId, userId, version);
      throw err;
    }
    if (sent.outcome === 'limited') {
      // Only the request this PUT wrote is undone; one written since stays.
      await pending.deletePending(productId, userId, version);
      throw new ConfirmationRateLimitedError(channel, sent.retryAfterMs);
    }
    await pending.markSent(productId, userId, doc.createdAtMs, policy.nowMs);
    return { outcome: 'pending-created', pending: { ...doc, sentAtMs: policy.nowMs } };
  }
  throw new StoreUnavailableError({ cause: new ConcurrentChangeError(productId, ROUNDS) });
}

/**
 * Refuses a new pending request when the shopper's active subscriptions and
 * live pending requests already fill the cap: without it one user id could
 * hold any number of requests, each sending a confirmation to a different
 * address. The shopper's record lists subscriptions (it may list too many,
 * as in putSubscription): only when it and the pending requests reach the
 * cap are the subscriptions counted exactly. A flood guard like the
 * subscriptions' own: concurrent requests of one user at their last place
 * may all pass or all be refused.
 * @throws SubscriptionLimitError (409 `subscription-limit-reached`)
 */
async function requirePlace(
  store: Pick<SubscriptionStore, 'listedFor' | 'recountSubscriptionsOfUser'>,
  pending: PendingStore,
  userId: string,
  policy: PendingPolicy,
): Promise<void> {
  const cap = policy.maxSubscriptionsPerUser;
  const [waiting, held] = await Promise.all([pending.countLivePendingOfUser(userId, policy.nowMs, cap), store.listedFor(userId)]);
  if (waiting >= cap) throw new SubscriptionLimitError(cap);
  if (held + waiting < cap) return;
  if ((await store.recountSubscriptionsOfUser(userId, cap)) + waiting >= cap) throw new SubscriptionLimitError(cap);
}

function newPending(productId: string, userId: string, request: SubscriptionRequest, existing: SubscriptionDoc | undefined, channel: Channel, policy: PendingPolicy): PendingSubscriptionDoc {
  return {
    userId,
    productId,
    channels: request.channels,
    ...(request.locale !== undefined ? { locale: request.locale } : {}),
    ...(request.timeZone !== undefined ? { timeZone: request.timeZone } : {}),
    consent: consentRecordOf(request, existing, policy.doubleOptIn, { nowMs: policy.nowMs, storefront: policy.storefront }),
    confirmChannel: channel,
    createdAtMs: policy.nowMs,
    expireAt: Timestamp.fromMillis(policy.nowMs + policy.confirmationTtlMs),
  };
}

function send(sender: ConfirmationSender, doc: PendingSubscriptionDoc, product: ProductDoc | undefined): Promise<ConfirmationOutcome> {
  return sender.send({
    productId: doc.productId,
    userId: doc.userId,
    channel: doc.confirmChannel,
    to: doc.channels[doc.confirmChannel]!,
    generation: doc.createdAtMs,
    ...(doc.locale !== undefined ? { locale: doc.locale } : {}),
    ...(product?.name !== undefined ? { productName: product.name } : {}),
    ...(product?.url !== undefined ? { productUrl: product.url } : {}),
    expiresAtMs: doc.expireAt.toMillis(),
  });
}
