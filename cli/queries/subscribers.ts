/**
 * The read model of `restock subscribers <productId> [--count]`: who is waiting for a product.
 * `--count` is one count aggregation, cheap at any audience size; the listing
 * reads at most `--limit` documents and never prints addresses.
 */
import { COLLECTIONS, subscriptionsRef, type Channel } from '../../lib/model.ts';
import type { Backend } from '../backend.ts';
import { guard } from '../guard.ts';

/** One waiting shopper as `subscribers` lists them: never an address. */
export interface SubscriberRow {
  userId: string;
  channels: Channel[];
  locale: string | null;
  createdAtMs: number | null;
}

/** What `restock subscribers` reports. */
export interface SubscribersReport {
  productId: string;
  count: number;
  /** Absent with `--count`. */
  subscribers?: SubscriberRow[];
  /** True when the listing stopped at `--limit` before the end. */
  truncated?: boolean;
}

function subscriptions(backend: Backend, productId: string) {
  return subscriptionsRef(backend.db, productId);
}

/** Counts a product's subscriptions with a count aggregation. @throws BackendError */
export async function countSubscribers(backend: Backend, productId: string): Promise<number> {
  const snap = await guard('count', `${COLLECTIONS.products}/${productId}/${COLLECTIONS.subscriptions}`, subscriptions(backend, productId).count().get());
  return snap.data().count;
}

/** Lists up to `limit` subscriptions in document-id order. @throws BackendError */
export async function listSubscribers(backend: Backend, productId: string, limit: number): Promise<SubscriberRow[]> {
  const snap = await guard('list', `${COLLECTIONS.products}/${productId}/${COLLECTIONS.subscriptions}`, subscriptions(backend, productId).orderBy('__name__').limit(limit).get());
  return snap.docs.map((d) => {
    const data = d.data();
    const channels = data.channels && typeof data.channels === 'object' ? (Object.keys(data.channels).filter((k) => data.channels[k]) as Channel[]) : [];
    return {
      userId: d.id,
      channels: channels.sort(),
      locale: typeof data.locale === 'string' ? data.locale : null,
      createdAtMs: typeof data.createdAtMs === 'number' ? data.createdAtMs : null,
    };
  });
}

