/**
 * Promise 10: a committed stock change is published at least once, whatever
 * crashes between the commit and the publish. The inventory service (the kit's
 * fast path runs in it) is SIGKILLed right after its transaction commits and
 * before it publishes; the sweep (relayOutbox, as Cloud Scheduler calls it)
 * publishes the row, and the pipeline receives it.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { COLLECTIONS } from '../../../lib/model.ts';
import { accessFor, startStack, waitFor, type Stack, type StackAccess } from '../../helpers/index.ts';
import { Arrivals, outboxRow, putStock, rowsOf } from '../../integration/outbox/support.ts';

let stack: Stack;
let on: StackAccess;
let arrivals: Arrivals;

beforeAll(async () => {
  // No periodic sweep: the test calls it, so "pending until the sweep" is observable.
  stack = await startStack({ sweepIntervalMs: 0 });
  on = accessFor(stack.description);
  arrivals = await Arrivals.on(on.pubsub, stack.description.topic);
});

afterAll(async () => {
  await arrivals?.close();
  await on?.close();
  await stack?.stop();
});

describe('the inventory service crashing between its commit and its publish', () => {
  test('leaves the committed change pending, and the sweep publishes it once with its eventId', async () => {
    // Prepare: the next stock update kills the service after the commit.
    const productId = `crash-${randomUUID().slice(0, 8)}`;
    const inventory = stack.description.inventory;
    const fault = await fetch(`${inventory}/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"crashAfterCommit":true}' });
    expect(fault.status).toBe(200);

    // Act: the update's connection dies with the process.
    const answer = await putStock(inventory, productId, { available: 7, name: 'Crash test' }).then(
      () => 'answered',
      () => 'connection lost',
    );
    await waitFor(() => !stack.isRunning('inventory'), { what: 'the inventory process to be gone' });

    // Assess: the change and its row were committed together; nothing reached Pub/Sub.
    expect(answer).toBe('connection lost');
    const item = (await on.inventoryFirestore.collection('inventoryItems').doc(productId).get()).data();
    expect(item).toMatchObject({ available: 7, sequence: 1 });
    const [row] = await rowsOf(on.inventoryFirestore, productId);
    expect(row).toMatchObject({ state: 'pending', attempts: 0, sequence: 1, leaseOwner: null });
    expect(arrivals.count(row!.eventId)).toBe(0);

    // Act: the scheduler's next call.
    expect(await stack.sweepNow()).toBe(200);

    // Assess: published once by the sweep, the message carries the event as of the change, the pipeline got it.
    const sent = await waitFor(async () => {
      const r = await outboxRow(on.inventoryFirestore, row!.eventId);
      return r?.state === 'sent' ? r : undefined;
    }, { what: 'the row to be sent' });
    expect(sent).toMatchObject({ publishedBy: 'sweep', attempts: 0 });
    await waitFor(() => arrivals.count(row!.eventId) >= 1, { what: 'the message on the topic' });
    expect(arrivals.count(row!.eventId)).toBe(1);
    expect(arrivals.data(row!.eventId)[0]).toMatchObject({ type: 'inventory.updated', productId, available: 7, sequence: 1 });
    await waitFor(async () => (await on.firestore.collection(COLLECTIONS.fanouts).doc(row!.eventId).get()).exists, {
      what: 'fanOutRestock to record the event under its eventId',
    });
  });
});
