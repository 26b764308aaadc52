/**
 * What the outbox tests share: a pull subscription that counts what reached
 * Pub/Sub per `eventId`, stock updates through the stand-in, and reading rows.
 */
import { randomUUID } from 'node:crypto';
import type { Firestore } from '@google-cloud/firestore';
import type { PubSub, Subscription } from '@google-cloud/pubsub';
import { Logger } from '../../../lib/log.ts';
import { FirestoreOutbox, type OutboxRow, type RelayOptions } from '../../../lib/outbox/index.ts';

/** A pull subscription on a topic, and what arrived on it, counted per `eventId` attribute. */
export class Arrivals {
  private readonly counts = new Map<string, number>();
  private readonly bodies: { eventId: string; data: unknown }[] = [];
  private constructor(private readonly subscription: Subscription) {
    subscription.on('message', (m) => {
      const id = m.attributes.eventId ?? `(no eventId: ${m.id})`;
      this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
      this.bodies.push({ eventId: id, data: JSON.parse(m.data.toString()) });
      m.ack();
    });
  }

  /** Subscribes before anything is published: only messages published after this are counted. */
  static async on(pubsub: PubSub, topic: string): Promise<Arrivals> {
    const [subscription] = await pubsub.topic(topic).createSubscription(`outbox-test-${randomUUID().slice(0, 8)}`, { ackDeadlineSeconds: 10 });
    return new Arrivals(subscription);
  }

  /** How many messages carried this eventId. */
  count(eventId: string): number {
    return this.counts.get(eventId) ?? 0;
  }

  /** Every eventId seen. */
  eventIds(): string[] {
    return [...this.counts.keys()];
  }

  /** The decoded data of the messages with this eventId. */
  data(eventId: string): unknown[] {
    return this.bodies.filter((b) => b.eventId === eventId).map((b) => b.data);
  }

  async close(): Promise<void> {
    await this.subscription.close();
    await this.subscription.delete().catch(() => undefined);
  }
}

/** Answer of `PUT /v1/products/{productId}/stock`. */
export interface StockAnswer {
  status: number;
  body: Record<string, unknown> & { eventId?: string; published?: boolean; sequence?: number };
  contentType: string | null;
}

/** Sets a product's stock through the inventory stand-in. */
export async function putStock(inventoryUrl: string, productId: string, body: unknown): Promise<StockAnswer> {
  const res = await fetch(`${inventoryUrl}/v1/products/${encodeURIComponent(productId)}/stock`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, contentType: res.headers.get('content-type'), body: (await res.json()) as StockAnswer['body'] };
}

/** The outbox row of an event in the stand-in's collection (`outbox`). */
export function outboxRow(db: Firestore, eventId: string): Promise<OutboxRow | undefined> {
  return new FirestoreOutbox(db).get(eventId);
}

/** Rows of the stand-in's outbox for one product. */
export async function rowsOf(db: Firestore, productId: string): Promise<OutboxRow[]> {
  const store = new FirestoreOutbox(db);
  const snap = await db.collection(store.outboxCollection).where('productId', '==', productId).get();
  return Promise.all(snap.docs.map(async (d) => (await store.get(d.id))!));
}

/** Relay options for in-process relays in tests: short back-off, errors-only logs. */
export function relayOptions(test: string, o: Partial<RelayOptions> = {}): RelayOptions {
  return {
    leaseMs: 10_000,
    maxAttempts: 5,
    backoffMinMs: 100,
    backoffMaxMs: 1_000,
    sentTtlMs: 60_000,
    batchSize: 8,
    log: new Logger({ test }, 'ERROR'),
    ...o,
  };
}
