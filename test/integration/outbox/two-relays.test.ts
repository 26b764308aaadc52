/**
 * Two relays at once. Claims are exclusive (a lease taken in a transaction),
 * so in the normal case every row is published once however many relays
 * sweep. When a relay publishes and dies before recording it, another
 * publishes the row again after the lease, with the same `eventId`, and the
 * pipeline absorbs the duplicate: one fan-out, each shopper told once (same
 * dedup keys).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { COLLECTIONS } from '../../../lib/model.ts';
import { FirestoreOutbox, OutboxRelay, pubsubPublisher, type Publisher, type RelayOptions } from '../../../lib/outbox/index.ts';
import { seedSubscribers, stack, uniqueProductId, waitFor } from '../../helpers/index.ts';
import { Arrivals, relayOptions } from './support.ts';

const options = (o: Partial<RelayOptions> = {}): RelayOptions => relayOptions('two-relays', { batchSize: 7, ...o });

/** A collection of its own, so the stack's periodic sweep never touches these rows. */
const ownOutbox = () => new FirestoreOutbox(stack().inventoryFirestore, { outboxCollection: `outbox-test-${randomUUID().slice(0, 8)}` });

const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanup) await c();
});

describe('two relays sweeping the same outbox at once', () => {
  let topic: string;
  let arrivals: Arrivals;
  beforeAll(async () => {
    topic = `outbox-two-relays-${randomUUID().slice(0, 8)}`;
    await stack().pubsub.createTopic(topic);
    arrivals = await Arrivals.on(stack().pubsub, topic);
    cleanup.push(() => arrivals.close());
  });

  test('publish every row exactly once between them', async () => {
    // Prepare: 40 committed changes nobody published yet.
    const outbox = ownOutbox();
    const productId = uniqueProductId('two-relays');
    const eventIds: string[] = [];
    for (let available = 0; available < 40; available++) {
      eventIds.push((await stack().inventoryFirestore.runTransaction((tx) => outbox.stageStockChange(tx, { productId, available }))).eventId);
    }
    const publisher = pubsubPublisher(stack().pubsub, topic, { timeoutMs: 10_000 });
    const a = new OutboxRelay(outbox, publisher, options({ owner: 'relay-a' }));
    const b = new OutboxRelay(outbox, publisher, options({ owner: 'relay-b' }));

    // Act
    const [ra, rb] = await Promise.all([a.sweep(60_000), b.sweep(60_000)]);

    // Assess: between them every row sent once, and Pub/Sub got each eventId once.
    expect(ra.sent + rb.sent).toBe(40);
    const rows = await Promise.all(eventIds.map((id) => outbox.get(id)));
    expect(rows.every((r) => r?.state === 'sent')).toBe(true);
    await waitFor(() => eventIds.every((id) => arrivals.count(id) >= 1), { what: 'all 40 messages on the topic' });
    await new Promise((r) => setTimeout(r, 1000)); // a late duplicate would arrive now
    expect(eventIds.map((id) => arrivals.count(id))).toEqual(eventIds.map(() => 1));
  });
});

describe('a relay that published and died before recording it', () => {
  test('lets another publish the row again, and the duplicate is absorbed downstream: each shopper told once', async () => {
    // Prepare: a sold-out product with 5 waiting shoppers, and its restock committed to the outbox.
    const on = stack();
    const outbox = ownOutbox();
    const productId = uniqueProductId('duplicate');
    await seedSubscribers(productId, 5, { product: { available: 0, sequence: 0 } });
    const { eventId } = await on.inventoryFirestore.runTransaction((tx) => outbox.stageStockChange(tx, { productId, available: 25, product: { name: 'Duplicate test' } }));
    const arrivals = await Arrivals.on(on.pubsub, on.description.topic);
    cleanup.push(() => arrivals.close());
    const real = pubsubPublisher(on.pubsub, on.description.topic, { timeoutMs: 10_000 });
    let releaseDying!: () => void;
    const dying: Publisher = {
      // Publishes for real, then never returns: the relay is gone before it can record the publish.
      publish: async (m) => {
        const id = await real.publish(m);
        await new Promise<void>((resolve) => (releaseDying = resolve));
        return id;
      },
    };
    const first = new OutboxRelay(outbox, dying, options({ owner: 'relay-dies', leaseMs: 500 }));
    const second = new OutboxRelay(outbox, real, options({ owner: 'relay-takes-over' }));

    // Act: the first relay publishes and hangs; once its lease is over the second sweeps.
    void first.sweep(60_000);
    await waitFor(() => arrivals.count(eventId) === 1, { what: 'the first publish' });
    await new Promise((r) => setTimeout(r, 600));
    const report = await second.sweep(60_000);
    releaseDying();

    // Assess: Pub/Sub got the event twice under one eventId; the pipeline fanned it out once and
    // the notification service saw each shopper's key once.
    expect(report.sent).toBe(1);
    await waitFor(() => arrivals.count(eventId) === 2, { what: 'the second publish' });
    const stats = await waitFor(async () => {
      const s = await on.sink.stats(productId);
      return s.delivered >= 5 ? s : undefined;
    }, { timeoutMs: 60_000, what: 'all 5 shoppers notified' });
    await new Promise((r) => setTimeout(r, 1500)); // a duplicate send would arrive now
    expect(await on.sink.stats(productId)).toMatchObject({ delivered: 5, duplicateKeys: 0 });
    expect(stats.delivered).toBe(5);
    expect((await on.firestore.collection(COLLECTIONS.fanouts).doc(eventId).get()).get('state')).toBe('complete');
    expect((await outbox.get(eventId))?.state).toBe('sent');
  });
});
