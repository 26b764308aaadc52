/**
 * One restock, end to end, on a running stack: seed a sold-out product and its
 * audience, publish the restock through Pub/Sub, follow notifications at the
 * sink until everyone is told (or a deadline), and assess exactly-once.
 * Channels sent directly (`FollowOptions.direct`) are followed at the stack's
 * mail server and FCM stand-in instead of the sink.
 *
 * Shared by `npm run demo` and `npm run bench`, so both measure the same thing
 * the same way. Times come from the sink's records (`sentAtMs`), on the same
 * clock as the publish.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { FieldPath } from '@google-cloud/firestore';
import { CHANNEL_SPECS, COLLECTIONS, dedupKey, subscriptionsRef, type Channel, type FanoutDoc } from '../../lib/model.ts';
import { FirestoreOutbox } from '../../lib/outbox/index.ts';
import type { NotificationRecord, SinkStats } from '../sink/index.ts';
import { inventoryEvent, publishEvent, seedProduct, seedSubscribers, storedWebPush, webPushSubscriptions, type StackClients, type StackDescription } from '../stack/index.ts';
import { percentile } from './stats.ts';
import { subscribeConcurrently } from './subscribe.ts';

/** What one restock run observed. `ok` only if every subscriber was notified exactly once. */
export interface RestockRunSummary {
  ok: boolean;
  productId: string;
  eventKey: string;
  subscribers: number;
  /** Delivery tasks the fan-out created (from `fanouts/{eventKey}`), null when unknown. */
  tasks: number | null;
  /** Subscribers whose notification the sink delivered. */
  notified: number;
  /** Keys the sink received in more than one request. */
  duplicates: number;
  /** Subscribers never notified. */
  missing: number;
  /** Keys the sink received that belong to nobody seeded (should be 0). */
  unexpected: number;
  rejected: number;
  /** Publish to last notification (or to giving up). */
  elapsedMs: number;
  /** Publish to first notification, null when none arrived. */
  firstNotificationMs: number | null;
  p50LatencyMs: number | null;
  p95LatencyMs: number | null;
  seedMs: number;
  /** How the audience was seeded (through the subscription API, or written directly). */
  seeding: Seeding;
  /** With `via: 'inventory'`: the stand-in's answer time to the restocking stock update; else null. */
  stockUpdateMs: number | null;
  /** With `via: 'inventory'`: from the stock change's commit to its publish on Pub/Sub (the outbox row); else null. */
  commitToPublishMs: number | null;
  fanoutState: string | null;
  /** When the event was published and when the last notification arrived (ms since epoch). */
  publishedAtMs: number;
  lastSentAtMs: number;
  /** Per channel: where it was followed, and what landed there. */
  channels: Partial<Record<Channel, ChannelTally>>;
  /** Why the run failed, when it did. */
  failure?: string;
}

/** What landed for one channel: `via` the sink, the mail server (`smtp`), the FCM stand-in (`fcm`) or the web push stand-in (`webpush`). */
export interface ChannelTally {
  via: 'sink' | 'smtp' | 'fcm' | 'webpush';
  notified: number;
  /** Keys that arrived in more than one request or transmission. */
  duplicates: number;
  rejected: number;
}

/** One key as it landed at the sink or at a direct channel's server. */
interface Landing {
  key: string;
  channel: Channel;
  delivered: boolean;
  rejected: boolean;
  /** Requests or transmissions that carried the key. */
  arrivals: number;
  atMs: number;
}

/** Keys that reached the mail server and the FCM and web push stand-ins, for the expected keys of the direct channels. */
async function directLandings(description: StackDescription, direct: readonly Channel[], expected: ReadonlyMap<string, Channel>): Promise<Landing[]> {
  const byKey = new Map<string, Landing>();
  const land = (key: string | undefined, delivered: boolean, rejected: boolean, atMs: number): void => {
    const channel = key === undefined ? undefined : expected.get(key);
    if (!key || !channel || !direct.includes(channel)) return;
    const l = byKey.get(key) ?? { key, channel, delivered: false, rejected: false, arrivals: 0, atMs };
    l.arrivals++;
    if (delivered && !l.delivered) Object.assign(l, { delivered: true, atMs });
    l.rejected ||= rejected;
    byKey.set(key, l);
  };
  if (direct.includes('email')) {
    const { keys } = await sinkGet<{ keys: { restockKey?: string; duplicate: boolean; receivedAtMs: number }[] }>(description.smtp.url, '/keys');
    for (const k of keys) land(k.restockKey, !k.duplicate, false, k.receivedAtMs);
  }
  if (direct.includes('push')) {
    const { keys } = await sinkGet<{ keys: { restockKey?: string; status: number; receivedAtMs: number }[] }>(description.fcm, '/keys');
    for (const k of keys) land(k.restockKey, k.status === 200, k.status >= 400 && k.status < 500 && k.status !== 429, k.receivedAtMs);
  }
  if (direct.includes('webpush')) {
    // The stand-in knows a push's key only once it decrypted it, so only deliveries (201) are counted here.
    const { keys } = await sinkGet<{ keys: { restockKey?: string; status: number; receivedAtMs: number }[] }>(description.webpush, '/keys');
    for (const k of keys) land(k.restockKey, k.status === 201, false, k.receivedAtMs);
  }
  return [...byKey.values()];
}

function missingStandIn(): never {
  throw new Error('seedAudience: the webpush channel needs `webPushStandIn` (the stack description\'s `webpush`)');
}

/** A seeded audience, ready to be told of a restock. */
export interface SeededAudience {
  productId: string;
  product: { name: string; url: string };
  userIds: string[];
  channels: readonly Channel[];
  seedMs: number;
  seeding: Seeding;
}

/** How an audience was seeded: through the subscription API as storefronts do, or written to Firestore directly. */
export interface Seeding {
  via: 'api' | 'firestore';
  /** Concurrent API clients (api only). */
  clients?: number;
  /** Subscriptions created per second. */
  perSecond: number;
  /** Latency of the API's answers (api only). */
  p50Ms?: number | null;
  p99Ms?: number | null;
  /** Answers that were not 2xx, retried ones included (api only; by status). */
  non2xx?: Record<string, number>;
}

/** Seeding went wrong: some shoppers were never subscribed. */
export class SeedingError extends Error {
  override readonly name = 'SeedingError';
  constructor(
    readonly failed: number,
    readonly statuses: Record<string, number>,
    samples: string[],
  ) {
    super(`${failed} shoppers could not be subscribed through the API (answers: ${JSON.stringify(statuses)}; e.g. ${samples.join('; ')})`);
  }
}

/** Reads a JSON route of the sink. @throws Error when it answers non-2xx. */
export async function sinkGet<T>(sinkUrl: string, path: string): Promise<T> {
  const res = await fetch(sinkUrl + path);
  if (!res.ok) throw new Error(`sink ${path} answered ${res.status}`);
  return (await res.json()) as T;
}

/** Posts a fault profile (latency, failure rates) to the sink. @throws Error when refused. */
export async function setSinkFaults(sinkUrl: string, profile: { productId?: string; latencyMs?: number; [k: string]: unknown }): Promise<void> {
  const res = await fetch(`${sinkUrl}/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(profile) });
  if (!res.ok) throw new Error(`sink POST /faults answered ${res.status}: ${await res.text()}`);
}

export { percentile } from './stats.ts';

/**
 * Seeds a sold-out product (sequence 1) and `subscribers` subscriptions to it.
 * With `api`, the shoppers are subscribed as storefronts do it: `PUT`s to the
 * subscription API from `api.clients` concurrent clients, each retrying a 503
 * after its `Retry-After` (the demo); without, they are written to Firestore
 * directly in batches (the bench, whose subject is the restock, not the API).
 * @throws SeedingError when some shopper could not be subscribed.
 */
export async function seedAudience(
  clients: StackClients,
  o: {
    subscribers: number;
    productId?: string;
    productName?: string;
    channels?: readonly Channel[];
    api?: { url: string; clients: number };
    /** Base URL of the stack's web push stand-in: required with the `webpush` channel (its subscriptions are the addresses). */
    webPushStandIn?: string;
    onProgress?: (written: number) => void;
  },
): Promise<SeededAudience> {
  const productId = o.productId ?? `restock-${Date.now()}-${randomUUID().slice(0, 6)}`;
  const channels = o.channels ?? ['email'];
  const product = { name: o.productName ?? `Trail Runner 2 (${productId})`, url: `https://shop.example/p/${productId}` };
  const started = Date.now();
  await seedProduct(clients.firestore, productId, { available: 0, sequence: 1, ...product });
  const browsers = channels.includes('webpush') ? await webPushSubscriptions(o.webPushStandIn ?? missingStandIn(), o.subscribers) : [];
  if (!o.api) {
    const webPush = (i: number) => storedWebPush(browsers[i]!);
    const docs = await seedSubscribers(clients.firestore, productId, o.subscribers, { channels, webPush, ...(o.onProgress ? { onProgress: o.onProgress } : {}) });
    const seedMs = Date.now() - started;
    return { productId, product, userIds: docs.map((d) => d.userId), channels, seedMs, seeding: { via: 'firestore', perSecond: perSecond(docs.length, seedMs) } };
  }
  // Shoppers of this product only: a shopper reused across runs on one stack would
  // meet the per-user cap after a few runs whose subscriptions outlived them.
  const width = String(o.subscribers).length;
  const userIds = Array.from({ length: o.subscribers }, (_, i) => `${productId}-user-${String(i).padStart(width, '0')}`);
  const load = await subscribeConcurrently(
    o.api.url,
    o.subscribers,
    (i) => {
      const userId = userIds[i]!;
      return {
        productId,
        userId,
        body: {
          channels: {
            ...(channels.includes('email') ? { email: `${userId}@example.com` } : {}),
            ...(channels.includes('push') ? { push: `token-${userId}` } : {}),
            ...(channels.includes('webpush') ? { webpush: browsers[i] } : {}),
          },
        },
      };
    },
    { clients: o.api.clients, retries: 8, ...(o.onProgress ? { onProgress: o.onProgress } : {}) },
  );
  if (load.succeeded < o.subscribers) throw new SeedingError(o.subscribers - load.succeeded, load.statuses, load.samples);
  const seedMs = Date.now() - started;
  const non2xx = Object.fromEntries(Object.entries(load.statuses).filter(([status]) => !/^2\d\d$/.test(status)));
  return {
    productId,
    product,
    userIds,
    channels,
    seedMs,
    seeding: { via: 'api', clients: o.api.clients, perSecond: perSecond(o.subscribers, seedMs), p50Ms: load.p50Ms, p99Ms: load.p99Ms, non2xx },
  };
}

function perSecond(n: number, ms: number): number {
  return Math.round((n / Math.max(1, ms)) * 1000);
}

export interface FollowOptions {
  /** Give up this long after the publish. */
  timeoutMs: number;
  /** After the last expected notification, keep watching this long for duplicates. */
  settleMs: number;
  /** How often the sink and the fan-out record are polled. */
  pollMs?: number;
  /**
   * How the restock starts: `pubsub` publishes the event itself (the bench's
   * pipeline-only measure); `inventory` sells the product out and restocks it
   * through the inventory stand-in, whose outbox publishes it, as in production.
   */
  via?: 'pubsub' | 'inventory';
  /** Called once the event is published. */
  onPublished?: (p: { eventKey: string; messageId: string }) => void;
  /** Channels sent directly (smtp, fcm), followed at the stack's mail server and FCM stand-in instead of the sink. */
  direct?: readonly Channel[];
  /** Called on each poll (progress bars, periodic lines). */
  onTick?: (t: { delivered: number; fanout: FanoutDoc | undefined; elapsedMs: number }) => void;
}

/**
 * Publishes a restock (0 → 25, sequence 2) of the audience's product and
 * follows it to the end. Never throws for a pipeline failure: the summary says
 * what went wrong. @throws Error only if the sink or Firestore cannot be read.
 */
export async function publishAndFollow(
  description: StackDescription,
  clients: StackClients,
  audience: SeededAudience,
  o: FollowOptions,
): Promise<RestockRunSummary> {
  const { productId } = audience;
  let eventKey: string;
  let publishedAtMs: number;
  let stockUpdateMs: number | null = null;
  // The keys to expect are the sign-ups' (promise 15), read while every subscription still exists.
  const signups = await signupsOf(clients, productId);
  if (o.via === 'inventory') {
    // Sold out, then restocked: the restock is the item's second change, so its sequence (2) is newer than the seeded state (1).
    await putStock(description.inventory, productId, { available: 0, ...audience.product });
    publishedAtMs = Date.now();
    eventKey = (await putStock(description.inventory, productId, { available: 25, ...audience.product })).eventId;
    stockUpdateMs = Date.now() - publishedAtMs;
    o.onPublished?.({ eventKey, messageId: '(published by the outbox)' });
  } else {
    eventKey = randomUUID();
    const event = inventoryEvent({ productId, available: 25, previousAvailable: 0, sequence: 2, product: audience.product });
    publishedAtMs = Date.now();
    const messageId = await publishEvent(clients.pubsub, description.topic, event, { eventId: eventKey });
    o.onPublished?.({ eventKey, messageId });
  }
  const expectedChannel = new Map(
    audience.userIds.flatMap((u) => audience.channels.map((c) => [dedupKey({ productId, userId: u, createdAtMs: signups.get(u) ?? Number.NaN }, c), c] as const)),
  );
  const expected = new Set(expectedChannel.keys());
  const total = expected.size;
  const direct = (o.direct ?? []).filter((c) => audience.channels.includes(c));
  let landed: Landing[] = [];

  const deadline = publishedAtMs + o.timeoutMs;
  let stats: SinkStats;
  let fanout: FanoutDoc | undefined;
  let failure: string | undefined;
  let reachedAtMs: number | undefined;
  for (;;) {
    await sleep(o.pollMs ?? 250);
    stats = await sinkGet<SinkStats>(description.sink, `/stats?productId=${encodeURIComponent(productId)}`);
    if (direct.length > 0) landed = await directLandings(description, direct, expectedChannel);
    const delivered = stats.delivered + landed.filter((l) => l.delivered).length;
    const rejected = stats.rejected + landed.filter((l) => l.rejected && !l.delivered).length;
    const snap = await clients.firestore.collection(COLLECTIONS.fanouts).doc(eventKey).get();
    fanout = snap.exists ? (snap.data() as FanoutDoc) : undefined;
    o.onTick?.({ delivered, fanout, elapsedMs: Date.now() - publishedAtMs });
    if (fanout && (fanout.state === 'ignored' || fanout.state === 'failed')) {
      failure = `the fan-out ${fanout.state === 'ignored' ? 'ignored the event' : 'failed'}: ${fanout.reason ?? fanout.error ?? 'no reason recorded'}`;
      break;
    }
    if (delivered + rejected >= total) {
      reachedAtMs ??= Date.now();
      if (Date.now() - reachedAtMs >= o.settleMs) break;
    }
    if (Date.now() >= deadline) {
      failure =
        `timed out after ${Math.round(o.timeoutMs / 1000)} s with ${delivered} of ${total} notified` +
        (fanout ? ` (fan-out ${fanout.state})` : ' (no fan-out record: did fanOutRestock accept the event? see its log)');
      break;
    }
  }

  const { notifications } = await sinkGet<{ notifications: NotificationRecord[] }>(description.sink, `/notifications?productId=${encodeURIComponent(productId)}`);
  if (direct.length > 0) landed = await directLandings(description, direct, expectedChannel);
  const sinkLandings: Landing[] = notifications
    .filter((n) => expected.has(n.idempotencyKey))
    .map((n) => ({ key: n.idempotencyKey, channel: n.channel, delivered: n.status === 'sent' && n.sentAtMs !== undefined, rejected: n.status === 'rejected', arrivals: n.requests, atMs: n.sentAtMs ?? 0 }));
  const all = [...sinkLandings, ...landed];
  const sent = all.filter((l) => l.delivered);
  const notified = sent.length;
  const unexpected = notifications.filter((n) => !expected.has(n.idempotencyKey)).length;
  const latencies = sent.map((l) => l.atMs - publishedAtMs).sort((a, b) => a - b);
  const lastSentAtMs = sent.reduce((m, l) => Math.max(m, l.atMs), publishedAtMs);
  const channels: Partial<Record<Channel, ChannelTally>> = {};
  for (const channel of audience.channels) {
    const of = all.filter((l) => l.channel === channel);
    channels[channel] = {
      via: !direct.includes(channel) ? 'sink' : CHANNEL_SPECS[channel].standIn,
      notified: of.filter((l) => l.delivered).length,
      duplicates: of.filter((l) => l.arrivals > 1).length,
      rejected: of.filter((l) => l.rejected && !l.delivered).length,
    };
  }
  const summary: RestockRunSummary = {
    ok: false,
    productId,
    eventKey,
    subscribers: audience.userIds.length,
    tasks: fanout?.chunks ?? null,
    notified,
    duplicates: stats.duplicateKeys + landed.filter((l) => l.arrivals > 1).length,
    missing: total - notified,
    unexpected,
    rejected: stats.rejected + landed.filter((l) => l.rejected && !l.delivered).length,
    elapsedMs: (failure ? Date.now() : lastSentAtMs) - publishedAtMs,
    firstNotificationMs: latencies[0] ?? null,
    p50LatencyMs: percentile(latencies, 50),
    p95LatencyMs: percentile(latencies, 95),
    seedMs: audience.seedMs,
    seeding: audience.seeding,
    stockUpdateMs,
    commitToPublishMs: o.via === 'inventory' ? await commitToPublish(clients, eventKey) : null,
    fanoutState: fanout?.state ?? null,
    publishedAtMs,
    lastSentAtMs,
    channels,
  };
  summary.ok = !failure && summary.notified === total && summary.duplicates === 0 && summary.missing === 0 && unexpected === 0;
  if (!summary.ok) summary.failure = failure ?? 'not every subscriber was notified exactly once';
  return summary;
}

/**
 * Each subscriber's sign-up (`createdAtMs`, part of its notifications' keys), read
 * in pages of ids and that one field. Read before the restock removes them.
 */
export async function signupsOf(clients: StackClients, productId: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  let cursor: string | undefined;
  for (;;) {
    let q = subscriptionsRef(clients.firestore, productId).orderBy(FieldPath.documentId()).select('createdAtMs').limit(10_000);
    if (cursor) q = q.startAfter(cursor);
    const { docs } = await q.get();
    for (const d of docs) out.set(d.id, Number(d.get('createdAtMs')));
    if (docs.length < 10_000) return out;
    cursor = docs.at(-1)!.id;
  }
}

/** Sets a product's stock through the inventory stand-in. @throws Error when it does not answer 200. */
/** A stock update through the inventory stand-in (`PUT /v1/products/{id}/stock`); resolves its event id. */
export async function putStock(inventoryUrl: string, productId: string, body: { available: number; name?: string; url?: string; waves?: Record<string, number> }): Promise<{ eventId: string }> {
  const res = await fetch(`${inventoryUrl}/v1/products/${encodeURIComponent(productId)}/stock`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 200) throw new Error(`inventory PUT stock of ${productId} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as { eventId: string };
}

/** Commit to publish of an event, from its outbox row (null if it is not sent). */
async function commitToPublish(clients: StackClients, eventId: string): Promise<number | null> {
  const row = await new FirestoreOutbox(clients.inventoryFirestore).get(eventId);
  return row?.publishedAtMs != null ? row.publishedAtMs - row.stagedAtMs : null;
}
