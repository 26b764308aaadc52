/**
 * One restock, end to end, on a running stack: seed a sold-out product and its
 * audience, publish the restock through Pub/Sub, follow notifications at the
 * sink until everyone is told (or a deadline), and assess exactly-once.
 *
 * Shared by `npm run demo` and `npm run bench`, so both measure the same thing
 * the same way. Times come from the sink's records (`sentAtMs`), on the same
 * clock as the publish.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { COLLECTIONS, dedupKey, type Channel, type FanoutDoc } from '../../lib/model.ts';
import { FirestoreOutbox } from '../../lib/outbox/index.ts';
import type { NotificationRecord, SinkStats } from '../sink/index.ts';
import { inventoryEvent, publishEvent, seedProduct, seedSubscribers, type StackClients, type StackDescription } from '../stack/index.ts';

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
  /** With `via: 'inventory'`: the stand-in's answer time to the restocking stock update; else null. */
  stockUpdateMs: number | null;
  /** With `via: 'inventory'`: from the stock change's commit to its publish on Pub/Sub (the outbox row); else null. */
  commitToPublishMs: number | null;
  fanoutState: string | null;
  /** When the event was published and when the last notification arrived (ms since epoch). */
  publishedAtMs: number;
  lastSentAtMs: number;
  /** Why the run failed, when it did. */
  failure?: string;
}

/** A seeded audience, ready to be told of a restock. */
export interface SeededAudience {
  productId: string;
  product: { name: string; url: string };
  userIds: string[];
  channels: readonly Channel[];
  seedMs: number;
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

/** Nearest-rank percentile of an ascending array; null when empty. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** Seeds a sold-out product (sequence 1) and `subscribers` subscriptions to it. */
export async function seedAudience(
  clients: StackClients,
  o: { subscribers: number; productId?: string; productName?: string; channels?: readonly Channel[]; onProgress?: (written: number) => void },
): Promise<SeededAudience> {
  const productId = o.productId ?? `restock-${Date.now()}-${randomUUID().slice(0, 6)}`;
  const channels = o.channels ?? ['email'];
  const product = { name: o.productName ?? `Trail Runner 2 (${productId})`, url: `https://shop.example/p/${productId}` };
  const started = Date.now();
  await seedProduct(clients.firestore, productId, { available: 0, sequence: 1, ...product });
  const docs = await seedSubscribers(clients.firestore, productId, o.subscribers, { channels, ...(o.onProgress ? { onProgress: o.onProgress } : {}) });
  return { productId, product, userIds: docs.map((d) => d.userId), channels, seedMs: Date.now() - started };
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
  const expected = new Set(audience.userIds.flatMap((u) => audience.channels.map((c) => dedupKey(eventKey, u, c))));
  const total = expected.size;

  const deadline = publishedAtMs + o.timeoutMs;
  let stats: SinkStats;
  let fanout: FanoutDoc | undefined;
  let failure: string | undefined;
  let reachedAtMs: number | undefined;
  for (;;) {
    await sleep(o.pollMs ?? 250);
    stats = await sinkGet<SinkStats>(description.sink, `/stats?productId=${encodeURIComponent(productId)}`);
    const snap = await clients.firestore.collection(COLLECTIONS.fanouts).doc(eventKey).get();
    fanout = snap.exists ? (snap.data() as FanoutDoc) : undefined;
    o.onTick?.({ delivered: stats.delivered, fanout, elapsedMs: Date.now() - publishedAtMs });
    if (fanout && (fanout.state === 'ignored' || fanout.state === 'failed')) {
      failure = `the fan-out ${fanout.state === 'ignored' ? 'ignored the event' : 'failed'}: ${fanout.reason ?? fanout.error ?? 'no reason recorded'}`;
      break;
    }
    if (stats.delivered + stats.rejected >= total) {
      reachedAtMs ??= Date.now();
      if (Date.now() - reachedAtMs >= o.settleMs) break;
    }
    if (Date.now() >= deadline) {
      failure =
        `timed out after ${Math.round(o.timeoutMs / 1000)} s with ${stats.delivered} of ${total} notified` +
        (fanout ? ` (fan-out ${fanout.state})` : ' (no fan-out record: did fanOutRestock accept the event? see its log)');
      break;
    }
  }

  const { notifications } = await sinkGet<{ notifications: NotificationRecord[] }>(description.sink, `/notifications?productId=${encodeURIComponent(productId)}`);
  const sent = notifications.filter((n) => n.status === 'sent' && n.sentAtMs !== undefined);
  const notified = sent.filter((n) => expected.has(n.idempotencyKey)).length;
  const unexpected = notifications.filter((n) => !expected.has(n.idempotencyKey)).length;
  const latencies = sent.map((n) => n.sentAtMs! - publishedAtMs).sort((a, b) => a - b);
  const lastSentAtMs = sent.reduce((m, n) => Math.max(m, n.sentAtMs!), publishedAtMs);
  const summary: RestockRunSummary = {
    ok: false,
    productId,
    eventKey,
    subscribers: audience.userIds.length,
    tasks: fanout?.chunks ?? null,
    notified,
    duplicates: stats.duplicateKeys,
    missing: total - notified,
    unexpected,
    rejected: stats.rejected,
    elapsedMs: (failure ? Date.now() : lastSentAtMs) - publishedAtMs,
    firstNotificationMs: latencies[0] ?? null,
    p50LatencyMs: percentile(latencies, 50),
    p95LatencyMs: percentile(latencies, 95),
    seedMs: audience.seedMs,
    stockUpdateMs,
    commitToPublishMs: o.via === 'inventory' ? await commitToPublish(clients, eventKey) : null,
    fanoutState: fanout?.state ?? null,
    publishedAtMs,
    lastSentAtMs,
  };
  summary.ok = !failure && summary.notified === total && summary.duplicates === 0 && summary.missing === 0 && unexpected === 0;
  if (!summary.ok) summary.failure = failure ?? 'not every subscriber was notified exactly once';
  return summary;
}

/** Sets a product's stock through the inventory stand-in. @throws Error when it does not answer 200. */
async function putStock(inventoryUrl: string, productId: string, body: { available: number; name?: string; url?: string }): Promise<{ eventId: string }> {
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
  const row = await new FirestoreOutbox(clients.firestore).get(eventId);
  return row?.publishedAtMs != null ? row.publishedAtMs - row.stagedAtMs : null;
}
