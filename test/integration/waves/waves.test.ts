/**
 * A restock in waves on the real stack (docs/waves.md, promise 13): each wave
 * takes multiplier × the stock the pipeline last saw, oldest sign-up first;
 * later waves are Cloud Tasks scheduled one interval later; a sell-out stops
 * them; shoppers not reached keep their subscription; and whether the event is
 * redelivered or replayed, nobody is told twice. The stack's global multiplier
 * is 0, so these restocks set their own through the event (the per-product
 * override), and a restock without one pages everyone at once, as before.
 */
import { describe, expect, test } from 'vitest';
import { replayFanout } from '../../../lib/fanout/index.ts';
import { inventoryEvent, pushDirect, stack, uniqueProductId } from '../../helpers/index.ts';
import { runtimeFor } from '../faults/support.ts';
import { expectNotifiedExactlyOnce, remainingSubscribers, waitForDelivered } from '../pipeline/assertions.ts';
import { fanout, seedQueue, sentEntries, waitForFanout, waitForSent, waveRecords, wavesInSignupOrder } from './support.ts';

const INTERVAL_MS = 4_000;

function pushEvent(messageId: string, event: Record<string, unknown>): Promise<Response> {
  return pushDirect(stack().description.functions.fanOutRestock, { data: event, messageId });
}

/** Whether FIFO holds: in sign-up order, the wave that told each shopper never goes down (untold last). */
function nonDecreasing(values: readonly number[]): boolean {
  return values.every((v, i) => i === 0 || values[i - 1]! <= v);
}

describe('a restock in waves', () => {
  test('each wave takes multiplier × the stock it sees, oldest sign-up first, and a sell-out stops the next', async () => {
    // Prepare: 100 shoppers whose ids run opposite to their sign-up order.
    const productId = uniqueProductId('waves');
    const queue = await seedQueue(productId, 100);
    const restock = inventoryEvent({ productId, available: 10, previousAvailable: 0, sequence: 2, waves: { multiplier: 2, intervalMs: INTERVAL_MS } });
    const eventKey = `m-${productId}`;

    // Act: restock 10 units; between waves 1 and 2 the stock drops to 5; between waves 2 and 3 it sells out.
    expect((await pushEvent(eventKey, restock)).status).toBe(200);
    await waitForFanout(eventKey, 'wave 1 enqueued', (f) => f.waves?.phase === 'waiting' && f.waves.index === 2);
    expect((await pushEvent(`m-${productId}-drop`, { ...restock, available: 5, previousAvailable: 10, sequence: 3, waves: undefined })).status).toBe(200);
    await waitForFanout(eventKey, 'wave 2 enqueued', (f) => f.waves?.phase === 'waiting' && f.waves.index === 3);
    expect((await pushEvent(`m-${productId}-soldout`, { ...restock, available: 0, previousAvailable: 5, sequence: 4, waves: undefined })).status).toBe(200);
    const done = await waitForFanout(eventKey, 'the restock ended', (f) => f.state === 'complete', 60_000);
    const sent = await waitForSent(eventKey, 30);

    // Assess: wave 1 took 20 (2 × 10), wave 2 took 10 (2 × 5), wave 3 never started.
    expect(done.waves).toMatchObject({ phase: 'done', stopReason: 'sold-out', index: 3 });
    const records = await waveRecords(eventKey);
    expect(records.map((w) => ({ index: w.index, available: w.available, taken: w.taken }))).toEqual([
      { index: 1, available: 10, taken: 20 },
      { index: 2, available: 5, taken: 10 },
    ]);
    expect(records[1]!.startedAtMs - records[0]!.completedAtMs!).toBeGreaterThanOrEqual(INTERVAL_MS);
    expect(sent).toHaveLength(30);
    // FIFO: the 20 oldest in wave 1, the next 10 in wave 2, nobody younger.
    const order = wavesInSignupOrder(queue, sent);
    expect(order.slice(0, 20).every((w) => w === 1)).toBe(true);
    expect(order.slice(20, 30).every((w) => w === 2)).toBe(true);
    expect(order.slice(30).every((w) => w === Number.POSITIVE_INFINITY)).toBe(true);
    expect(nonDecreasing(order)).toBe(true);
    // Shoppers not reached keep their subscription for the next restock.
    expect(await remainingSubscribers(productId)).toBe(70);
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await stack().sink.stats(productId)).delivered).toBe(30);
  });

  test('a sell-out right after the first wave leaves everyone else waiting', async () => {
    const productId = uniqueProductId('waves');
    const queue = await seedQueue(productId, 40);
    const restock = inventoryEvent({ productId, available: 3, previousAvailable: 0, sequence: 2, waves: { multiplier: 2, intervalMs: INTERVAL_MS } });
    const eventKey = `m-${productId}`;

    await pushEvent(eventKey, restock);
    await waitForFanout(eventKey, 'wave 1 enqueued', (f) => f.waves?.index === 2);
    await pushEvent(`m-${productId}-soldout`, { ...restock, available: 0, previousAvailable: 3, sequence: 3, waves: undefined });
    const done = await waitForFanout(eventKey, 'the restock ended', (f) => f.state === 'complete', 60_000);
    const sent = await waitForSent(eventKey, 6);

    expect(done.waves?.stopReason).toBe('sold-out');
    expect(sent.map((d) => d.userId).sort()).toEqual(queue.slice(0, 6).map((s) => s.userId).sort());
    expect(await remainingSubscribers(productId)).toBe(34);
  });

  test('redelivered between waves and replayed after them, it tells every shopper once, in sign-up order', async () => {
    // Prepare: 30 shoppers, 10 units × 2: wave 1 takes 20, wave 2 the last 10 and ends the restock.
    const productId = uniqueProductId('waves');
    const queue = await seedQueue(productId, 30);
    const restock = inventoryEvent({ productId, available: 10, previousAvailable: 0, sequence: 2, waves: { multiplier: 2, intervalMs: INTERVAL_MS } });
    const eventKey = `m-${productId}`;

    // Act: the same message three times (Pub/Sub redelivery) around wave 1, then a replay once it is done.
    const first = await pushEvent(eventKey, restock);
    const again = await Promise.all([pushEvent(eventKey, restock), pushEvent(eventKey, restock)]);
    await waitForFanout(eventKey, 'wave 1 enqueued', (f) => f.waves?.index === 2);
    const later = await pushEvent(eventKey, restock);
    await waitForFanout(eventKey, 'the restock ended', (f) => f.state === 'complete', 60_000);
    await waitForDelivered(productId, 30);
    const replay = await replayFanout(runtimeFor(stack()), eventKey, { dryRun: false });
    await new Promise((r) => setTimeout(r, 2_000));

    // Assess
    expect(first.status).toBe(200);
    for (const r of [...again, later]) expect([200, 503]).toContain(r.status);
    expect(replay).toMatchObject({ generation: 1, recipients: 0 });
    await expectNotifiedExactlyOnce(eventKey, productId, queue.map((s) => s.userId));
    const sent = await sentEntries(eventKey);
    const order = wavesInSignupOrder(queue, sent);
    expect(order).toEqual([...Array(20).fill(1), ...Array(10).fill(2)]);
    expect((await fanout(eventKey))?.waves).toMatchObject({ phase: 'done', stopReason: 'audience-exhausted' });
  });

  test('without a multiplier (the default), everyone is told at once and no wave is recorded', async () => {
    const productId = uniqueProductId('nowaves');
    const queue = await seedQueue(productId, 50);
    const eventKey = `m-${productId}`;

    const res = await pushEvent(eventKey, inventoryEvent({ productId, available: 1 }));
    await waitForDelivered(productId, 50);

    expect(await res.json()).toMatchObject({ outcome: 'completed', recipients: 50 });
    const doc = await fanout(eventKey);
    expect(doc).not.toHaveProperty('waves');
    expect(await waveRecords(eventKey)).toEqual([]);
    const sent = await sentEntries(eventKey);
    expect(sent.filter((d) => d.wave !== undefined)).toEqual([]);
    await expectNotifiedExactlyOnce(eventKey, productId, queue.map((s) => s.userId));
  });
});
