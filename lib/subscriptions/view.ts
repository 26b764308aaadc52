/**
 * What the API returns for a subscription. Addresses and tokens are not
 * echoed: the client sent them and needs only to know which channels are set,
 * and keeping them out of responses keeps them out of client logs and traces.
 */
import type { RecordedConversion } from '../conversions/index.ts';
import { CHANNELS, type Channel, type ConsentRecord, type PendingSubscriptionDoc, type SubscriptionDoc } from '../model.ts';

/** A subscription as the API shows it. */
export interface SubscriptionView {
  productId: string;
  userId: string;
  /** Channels with an address, in a fixed order. */
  channels: Channel[];
  locale?: string;
  timeZone?: string;
  createdAtMs: number;
  updatedAtMs: number;
  /** How the shopper consented (absent on subscriptions written before consent records existed). */
  consent?: ConsentRecord;
}

/**
 * A pending subscription (double opt-in) as the API shows it: `status: pending`,
 * which channel the confirmation went to, and when the request expires.
 */
export interface PendingView {
  productId: string;
  userId: string;
  status: 'pending';
  channels: Channel[];
  locale?: string;
  timeZone?: string;
  confirmChannel: Channel;
  createdAtMs: number;
  expiresAtMs: number;
  consent: ConsentRecord;
}

export function toPendingView(doc: PendingSubscriptionDoc): PendingView {
  return {
    productId: doc.productId,
    userId: doc.userId,
    status: 'pending',
    channels: CHANNELS.filter((c) => typeof doc.channels[c] === 'string'),
    ...(doc.locale !== undefined ? { locale: doc.locale } : {}),
    ...(doc.timeZone !== undefined ? { timeZone: doc.timeZone } : {}),
    confirmChannel: doc.confirmChannel,
    createdAtMs: doc.createdAtMs,
    expiresAtMs: doc.expireAt.toMillis(),
    consent: doc.consent,
  };
}

export function toView(doc: SubscriptionDoc): SubscriptionView {
  return {
    productId: doc.productId,
    userId: doc.userId,
    channels: CHANNELS.filter((c) => typeof doc.channels[c] === 'string'),
    ...(doc.locale !== undefined ? { locale: doc.locale } : {}),
    ...(doc.timeZone !== undefined ? { timeZone: doc.timeZone } : {}),
    createdAtMs: doc.createdAtMs,
    updatedAtMs: doc.updatedAtMs,
    ...(doc.consent !== undefined ? { consent: doc.consent } : {}),
  };
}

/** What `POST /v1/conversions` answers: the order as recorded, times as RFC 3339 like the request's. */
export function toConversionView(c: RecordedConversion['conversion']) {
  return {
    orderId: c.orderId,
    userId: c.userId,
    productId: c.productId,
    valueMinor: c.valueMinor,
    currency: c.currency,
    purchasedAt: new Date(c.purchasedAtMs).toISOString(),
    attribution: c.attribution,
    ...(c.eventKey !== undefined ? { eventKey: c.eventKey } : {}),
    ...(c.channel !== undefined ? { channel: c.channel } : {}),
    ...(c.wave !== undefined ? { wave: c.wave } : {}),
    ...(c.notifiedAtMs !== undefined ? { notifiedAt: new Date(c.notifiedAtMs).toISOString() } : {}),
  };
}
