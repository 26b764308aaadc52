/**
 * The spine of the product: an inventory event published to Pub/Sub reaches
 * every subscriber exactly once, through the push subscription, fan-out,
 * Cloud Tasks and delivery, on the real emulators.
 */
import { describe, expect, test } from 'vitest';
import { inventoryEvent, publish, seedSubscribers, stack, waitFor } from '../../helpers/index.ts';
import { expectNotifiedExactlyOnce, fanoutDoc, ledgerStates, remainingSubscribers, waitForDelivered } from './assertions.ts';

describe('a restock published to Pub/Sub', () => {
  test('notifies 1,000 subscribers exactly once and removes their one-shot subscriptions', async () => {
    // Prepare
    const event = inventoryEvent({ available: 25, previousAvailable: 0, sequence: 2 });
    const subs = await seedSubscribers(event.productId, 1000);
    const eventId = `outbox-${event.productId}`;

    // Act
    await publish(event, { eventId });
    const stats = await waitForDelivered(event.productId, 1000);

    // Assess
    expect(stats).toMatchObject({ delivered: 1000, duplicateKeys: 0, rejected: 0 });
    await expectNotifiedExactlyOnce(eventId, event.productId, subs.map((s) => s.userId));
    await waitFor(async () => (await ledgerStates(eventId)).sent === 1000, { what: 'ledger: 1000 sent' });
    expect(await ledgerStates(eventId)).toEqual({ sent: 1000 });
    await waitFor(async () => (await remainingSubscribers(event.productId)) === 0, { what: 'subscriptions removed' });
    const fanout = await fanoutDoc(eventId);
    expect(fanout).toMatchObject({ state: 'complete', recipients: 1000, chunks: 10 });
    expect(fanout!.firstTaskAtMs).toBeGreaterThanOrEqual(fanout!.startedAtMs);
  });

  test('a subscriber with email and push gets both, and the subscription goes only when both are settled', async () => {
    const event = inventoryEvent();
    const subs = await seedSubscribers(event.productId, 20, { channels: ['email', 'push'] });
    const eventId = `outbox-${event.productId}`;

    await publish(event, { eventId });
    const stats = await waitForDelivered(event.productId, 40);

    expect(stats).toMatchObject({ delivered: 40, duplicateKeys: 0 });
    await expectNotifiedExactlyOnce(eventId, event.productId, subs.map((s) => s.userId), { channels: ['email', 'push'] });
    expect(await ledgerStates(eventId)).toEqual({ sent: 40 });
    await waitFor(async () => (await remainingSubscribers(event.productId)) === 0, { what: 'subscriptions removed' });
  });

  test('what fan-out read once (publish time, product) travels in the task payload to every notification', async () => {
    const event = inventoryEvent({ product: { name: 'Trail shoe', url: 'https://shop.example/p/trail' } });
    await seedSubscribers(event.productId, 5);
    await publish(event);
    await waitForDelivered(event.productId, 5, { settleMs: 0 });
    const records = await stack().sink.notifications(event.productId);
    expect(records).toHaveLength(5);
    expect(records.every((r) => r.publishTimeMs !== undefined)).toBe(true);
  });
});
