/**
 * What the API returns for a subscription. Addresses and tokens are not
 * echoed: the client sent them and needs only to know which channels are set,
 * and keeping them out of responses keeps them out of client logs and traces.
 */
import { CHANNELS, type Channel, type SubscriptionDoc } from '../model.ts';

/** A subscription as the API shows it. */
export interface SubscriptionView {
  productId: string;
  userId: string;
  /** Channels with an address, in a fixed order. */
  channels: Channel[];
  locale?: string;
  createdAtMs: number;
  updatedAtMs: number;
}

export function toView(doc: SubscriptionDoc): SubscriptionView {
  return {
    productId: doc.productId,
    userId: doc.userId,
    channels: CHANNELS.filter((c) => typeof doc.channels[c] === 'string'),
    ...(doc.locale !== undefined ? { locale: doc.locale } : {}),
    createdAtMs: doc.createdAtMs,
    updatedAtMs: doc.updatedAtMs,
  };
}
