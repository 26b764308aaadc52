/**
 * Consent: the rules of double opt-in, as pure functions over plain data.
 *
 * A channel named in RESTOCK_DOUBLE_OPT_IN needs its address confirmed by
 * the shopper (a link sent to that address) unless the storefront vouches
 * for it (`consent.verified` in the PUT: a logged-in customer's confirmed
 * email, a push token from its own app) or the shopper's subscription to the
 * product already holds that very address (it was consented when it was
 * written). A request with an address to confirm is kept pending
 * (`pending.ts`) and never notified; every other request is written as the
 * API always did, with its consent record.
 */
import { CHANNELS, type Channel, type ConsentMethod, type ConsentRecord, type SubscriptionDoc } from '../model.ts';
import type { SubscriptionRequest } from './validation.ts';

/** The channels whose address a request must have confirmed before anyone is notified on it, in {@link CHANNELS} order. */
export function channelsToConfirm(request: SubscriptionRequest, existing: SubscriptionDoc | undefined, doubleOptIn: readonly Channel[]): Channel[] {
  return CHANNELS.filter((c) => {
    const address = request.channels[c];
    if (address === undefined || !doubleOptIn.includes(c)) return false;
    if (request.consent?.verified?.includes(c)) return false;
    return existing?.channels[c] !== address;
  });
}

/**
 * The consent record of a request: how each of its channels is vouched for.
 * An address the existing subscription already holds keeps the method it was
 * consented by (a subscription written before consent records existed counts
 * as `not-required`: nothing was asked of it then).
 * @param confirmedAtMs set when the request is being confirmed (double opt-in done).
 */
export function consentRecordOf(
  request: SubscriptionRequest,
  existing: SubscriptionDoc | undefined,
  doubleOptIn: readonly Channel[],
  at: { nowMs: number; storefront: string; confirmedAtMs?: number },
): ConsentRecord {
  const channels: Partial<Record<Channel, ConsentMethod>> = {};
  for (const c of CHANNELS) {
    const address = request.channels[c];
    if (address === undefined) continue;
    if (request.consent?.verified?.includes(c)) channels[c] = 'storefront-verified';
    else if (existing?.channels[c] === address) channels[c] = existing.consent?.channels[c] ?? 'not-required';
    else channels[c] = doubleOptIn.includes(c) ? 'confirmed' : 'not-required';
  }
  return {
    givenAtMs: at.nowMs,
    storefront: at.storefront,
    ...(request.consent?.wording !== undefined ? { wording: request.consent.wording } : {}),
    channels,
    ...(at.confirmedAtMs !== undefined ? { confirmedAtMs: at.confirmedAtMs } : existing?.consent?.confirmedAtMs !== undefined && Object.values(channels).includes('confirmed') ? { confirmedAtMs: existing.consent.confirmedAtMs } : {}),
  };
}

/**
 * Whether two requests ask for the same thing (addresses and locale): a
 * repeated PUT while pending sends nothing, and a repeated PUT of a
 * subscription writes nothing unless its consent changed ({@link sameConsent}).
 */
export function sameWish(a: Pick<SubscriptionDoc, 'channels' | 'locale' | 'timeZone'>, b: Pick<SubscriptionDoc, 'channels' | 'locale' | 'timeZone'>): boolean {
  return CHANNELS.every((c) => a.channels[c] === b.channels[c]) && a.locale === b.locale && a.timeZone === b.timeZone;
}

/**
 * Whether `next` records the same consent as `held`: same storefront,
 * wording, method per channel and confirmation time. `givenAtMs` is not
 * compared (every request is given at its own time): a repeat of the same
 * consent is not a new one, while a new wording, a storefront now vouching
 * for an address, or another storefront asking is, and must be recorded.
 * A subscription without a record (written before records existed) has
 * consent to record.
 */
export function sameConsent(held: ConsentRecord | undefined, next: ConsentRecord): boolean {
  return (
    held !== undefined &&
    held.storefront === next.storefront &&
    held.wording === next.wording &&
    held.confirmedAtMs === next.confirmedAtMs &&
    CHANNELS.every((c) => held.channels[c] === next.channels[c])
  );
}
