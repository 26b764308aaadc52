/**
 * Pub/Sub delivers at least once: the same message again — after the first
 * fan-out finished, or while it is still running — adds no notification.
 */
import { describe, expect, test } from 'vitest';
import { inventoryEvent, pushDirect, seedSubscribers, stack } from '../../helpers/index.ts';
import { expectNotifiedExactlyOnce, fanoutDoc, waitForDelivered } from './assertions.ts';

describe('the same Pub/Sub message delivered again', () => {
  test('after its fan-out completed, is acknowledged and sends nothing', async () => {
    // Prepare
    const event = inventoryEvent();
    const subs = await seedSubscribers(event.productId, 150);
    const message = { data: event, messageId: `m-${event.productId}` };
    const fanOut = stack().description.functions.fanOutRestock;

    // Act
    const first = await pushDirect(fanOut, message);
    await waitForDelivered(event.productId, 150, { settleMs: 0 });
    const second = await pushDirect(fanOut, message);
    const third = await pushDirect(fanOut, message, { mode: 'cloudevent-binary' });
    await new Promise((r) => setTimeout(r, 1500));

    // Assess
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ outcome: 'completed', recipients: 150 });
    expect(second.status).toBe(200);
    expect(await second.json()).toMatchObject({ outcome: 'duplicate', state: 'complete' });
    expect(third.status).toBe(200);
    expect(await stack().sink.stats(event.productId)).toMatchObject({ delivered: 150, duplicateKeys: 0 });
    await expectNotifiedExactlyOnce(message.messageId, event.productId, subs.map((s) => s.userId));
    expect(await fanoutDoc(message.messageId)).toMatchObject({ attempts: 1 });
  });

  test('concurrently with the running fan-out, is refused for later (503) and still sends nothing twice', async () => {
    const event = inventoryEvent();
    const subs = await seedSubscribers(event.productId, 600);
    const message = { data: event, messageId: `m-${event.productId}` };
    const fanOut = stack().description.functions.fanOutRestock;

    const [a, b, c] = await Promise.all([pushDirect(fanOut, message), pushDirect(fanOut, message), pushDirect(fanOut, message)]);
    const statuses = [a.status, b.status, c.status].sort();
    // A late one may see the completed fan-out (200 duplicate) instead of the lease (503).
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    for (const r of [a, b, c].filter((r) => r.status === 503)) expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
    // Whatever was refused, Pub/Sub would redeliver: do so until acknowledged.
    await pushDirect(fanOut, message);

    await waitForDelivered(event.productId, 600);
    await expectNotifiedExactlyOnce(message.messageId, event.productId, subs.map((s) => s.userId));
  });

  test('republished by the outbox relay under a new messageId but the same eventId, sends nothing new', async () => {
    const event = inventoryEvent();
    const subs = await seedSubscribers(event.productId, 50);
    const fanOut = stack().description.functions.fanOutRestock;
    const attributes = { eventId: `outbox-${event.productId}` };

    await pushDirect(fanOut, { data: event, attributes, messageId: 'relay-1' });
    await waitForDelivered(event.productId, 50, { settleMs: 0 });
    const again = await pushDirect(fanOut, { data: event, attributes, messageId: 'relay-2' });
    await new Promise((r) => setTimeout(r, 1000));

    expect(await again.json()).toMatchObject({ outcome: 'duplicate' });
    await expectNotifiedExactlyOnce(attributes.eventId, event.productId, subs.map((s) => s.userId));
  });
});
