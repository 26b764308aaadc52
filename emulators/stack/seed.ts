/**
 * Putting data into a stack: products, subscribers and inventory events,
 * shaped as `lib/model.ts` and docs/design.md say. Shared by `npm run demo` and the
 * test factories in `test/helpers/`.
 */
import { randomUUID } from 'node:crypto';
import type { Firestore } from '@google-cloud/firestore';
import type { PubSub } from '@google-cloud/pubsub';
import { COLLECTIONS, type Channel, type ProductDoc, type SubscriptionDoc } from '../../lib/model.ts';

/** The `inventory.updated` event as the inventory service publishes it (the Pub/Sub message data). */
export interface InventoryEvent {
  type: 'inventory.updated';
  version: 1;
  productId: string;
  available: number;
  previousAvailable?: number;
  sequence: number;
  occurredAt: string;
  product?: { name?: string; url?: string };
  [extra: string]: unknown;
}

/** A restock of `productId` from 0 to 25, sequence 2, unless overridden. */
export function inventoryEvent(overrides: Partial<InventoryEvent> = {}): InventoryEvent {
  const productId = overrides.productId ?? `product-${randomUUID()}`;
  return {
    type: 'inventory.updated',
    version: 1,
    productId,
    available: 25,
    previousAvailable: 0,
    sequence: 2,
    occurredAt: new Date().toISOString(),
    product: { name: `Product ${productId}`, url: `https://shop.example/p/${encodeURIComponent(productId)}` },
    ...overrides,
  };
}

/** Writes `products/{productId}` (sold out at sequence 1 unless told otherwise). */
export async function seedProduct(
  firestore: Firestore,
  productId: string,
  fields: Partial<Omit<ProductDoc, 'productId'>> = {},
): Promise<ProductDoc> {
  const doc: ProductDoc = { productId, available: 0, sequence: 1, updatedAtMs: Date.now(), ...fields };
  await firestore.collection(COLLECTIONS.products).doc(productId).set(doc);
  return doc;
}

/** A web push subscription as a browser's `toJSON()` gives it. */
export interface BrowserSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

/** `count` new subscriptions of the stack's web push stand-in (`gone`: their endpoints answer 410). */
export async function webPushSubscriptions(standInUrl: string, count: number, gone = false): Promise<BrowserSubscription[]> {
  const answer = await fetch(`${standInUrl}/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ count, gone }) });
  if (answer.status !== 201) throw new Error(`the web push stand-in answered ${answer.status} to POST /subscriptions`);
  return ((await answer.json()) as { subscriptions: BrowserSubscription[] }).subscriptions;
}

/** A subscription as the API stores it (lib/channels.ts: its canonical JSON). */
export function storedWebPush(s: BrowserSubscription): string {
  return JSON.stringify({ endpoint: s.endpoint, keys: { p256dh: s.keys.p256dh, auth: s.keys.auth } });
}

function webPushOf(opts: SeedSubscribersOptions, i: number, userId: string): string {
  if (!opts.webPush) throw new Error('seedSubscribers: the webpush channel needs `webPush` (subscriptions of the stand-in: webPushSubscriptions)');
  return opts.webPush(i, userId);
}

export interface SeedSubscribersOptions {
  /** Channels each subscriber uses (default `['email']`). */
  channels?: readonly Channel[];
  /** First subscriber index (userIds are `<prefix><index padded>`, so pages are in a stable order). */
  startIndex?: number;
  userIdPrefix?: string;
  /** Address for subscriber `i` (default `user-<i>@example.com`; `@invalid.example` makes the sink reject it). */
  email?: (i: number, userId: string) => string;
  /** Push token for subscriber `i` (default `token-<i>`; a `bad-` prefix makes the sink reject it). */
  pushToken?: (i: number, userId: string) => string;
  /** Web push subscription for subscriber `i`, as stored (its canonical JSON): required with `webpush`, from the stack's stand-in ({@link webPushSubscriptions}). */
  webPush?: (i: number, userId: string) => string;
  locale?: string;
  /** Called after each flushed batch with the count written so far (a progress bar). */
  onProgress?: (written: number) => void;
}

/**
 * Writes `n` subscriptions under `products/{productId}/restockSubscriptions`
 * with a BulkWriter (batched, parallel, retried). Returns the subscription
 * documents in userId order.
 */
export async function seedSubscribers(
  firestore: Firestore,
  productId: string,
  n: number,
  opts: SeedSubscribersOptions = {},
): Promise<SubscriptionDoc[]> {
  const channels = opts.channels ?? ['email'];
  const prefix = opts.userIdPrefix ?? 'user-';
  const start = opts.startIndex ?? 0;
  const width = String(start + n).length;
  const collection = firestore.collection(COLLECTIONS.products).doc(productId).collection(COLLECTIONS.subscriptions);
  // The emulator needs no ramp-up: without this BulkWriter starts at 500 writes/s.
  const writer = firestore.bulkWriter({ throttling: false });
  const docs: SubscriptionDoc[] = [];
  const nowMs = Date.now();
  let written = 0;
  const progressEvery = Math.max(1, Math.floor(n / 50));
  for (let i = start; i < start + n; i++) {
    const userId = `${prefix}${String(i).padStart(width, '0')}`;
    const doc: SubscriptionDoc = {
      userId,
      productId,
      channels: {
        ...(channels.includes('email') ? { email: opts.email?.(i, userId) ?? `${userId}@example.com` } : {}),
        ...(channels.includes('push') ? { push: opts.pushToken?.(i, userId) ?? `token-${userId}` } : {}),
        ...(channels.includes('webpush') ? { webpush: webPushOf(opts, i, userId) } : {}),
      },
      ...(opts.locale ? { locale: opts.locale } : {}),
      createdAtMs: nowMs,
      updatedAtMs: nowMs,
    };
    docs.push(doc);
    void writer.set(collection.doc(userId), doc).then(() => {
      written += 1;
      if (opts.onProgress && (written % progressEvery === 0 || written === n)) opts.onProgress(written);
    });
  }
  await writer.close();
  return docs;
}

/** Publishes an event to a topic; `attributes` default to a fresh `eventId`. Resolves the messageId. */
export async function publishEvent(
  pubsub: PubSub,
  topic: string,
  event: InventoryEvent | Record<string, unknown>,
  attributes: Record<string, string> = { eventId: randomUUID() },
): Promise<string> {
  return pubsub.topic(topic).publishMessage({ data: Buffer.from(JSON.stringify(event)), attributes });
}
