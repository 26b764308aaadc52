/**
 * The delivery process is SIGKILLed in the middle of a chunk: the
 * notification service has received (and will deliver) the sends, but the
 * outcomes were never recorded. Cloud Tasks retries; the ledger's expired
 * leases let the retry send those keys again — with the same Idempotency-Key,
 * which is the one case promise 1 allows — and nobody is missed.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { accessFor, inventoryEvent, pushDirect, seedSubscribers, startStack, waitFor, type Stack, type StackAccess } from '../../helpers/index.ts';
import { remainingSubscribers } from '../../integration/pipeline/assertions.ts';
import { ledger } from '../../integration/faults/support.ts';

let stack: Stack;
let on: StackAccess;

beforeAll(async () => {
  stack = await startStack({
    env: { RESTOCK_CHUNK_SIZE: '20', RESTOCK_DELIVERY_LEASE_MS: '2000' },
    queue: { minBackoffSeconds: 0.5, maxBackoffSeconds: 2, maxAttempts: 20 },
  });
  on = accessFor(stack.description);
});

afterAll(async () => {
  await on?.close();
  await stack?.stop();
});

describe('a delivery killed between send and record', () => {
  test('is retried by Cloud Tasks: every subscriber ends sent, and only unrecorded keys are sent again, under the same key', async () => {
    // Prepare: the notification service is slow, so sends are in flight when the process dies.
    const event = inventoryEvent();
    const { productId } = event;
    const subs = await seedSubscribers(productId, 60, { on });
    await on.sink.faults({ productId, latencyMs: 3000 });
    const messageId = `m-${productId}`;

    // Act: fan out, wait until the sink holds sends, kill the delivery process, bring it back.
    expect((await pushDirect(stack.description.functions.fanOutRestock, { data: event, messageId })).status).toBe(200);
    await waitFor(async () => (await on.sink.stats(productId)).items > 0, { what: 'sends reaching the sink' });
    stack.kill('deliverRestockBatch', 'SIGKILL');
    await on.sink.clearFaults(productId);
    await stack.restart('deliverRestockBatch');

    // Assess
    await waitFor(async () => (await ledger(on, messageId)).filter((d) => d.state === 'sent').length === 60, {
      timeoutMs: 90_000,
      what: 'all 60 ledger entries sent',
    });
    const stats = await on.sink.stats(productId);
    expect(stats.delivered).toBe(60);
    const entries = await ledger(on, messageId);
    const records = await on.sink.notifications(productId);
    const resent = records.filter((r) => r.requests > 1);
    expect(resent.length, 'the crash really fell between a send and its record').toBeGreaterThan(0);
    const attemptsByKey = new Map(entries.map((d) => [d.dedupKey, d.attempts]));
    for (const r of resent) expect(attemptsByKey.get(r.idempotencyKey), `key ${r.idempotencyKey} resent without a lost outcome`).toBeGreaterThan(1);
    expect(records.map((r) => r.idempotencyKey).sort()).toEqual(entries.map((d) => d.dedupKey).sort());
    expect(new Set(entries.map((d) => d.userId))).toEqual(new Set(subs.map((s) => s.userId)));
    expect(await remainingSubscribers(productId, on)).toBe(0);
  });

  test('and the shoppers unsubscribe before the retry: the open ledger entries end unsubscribed (not rejected), none stays sending', async () => {
    // Prepare
    const event = inventoryEvent();
    const { productId } = event;
    const subs = await seedSubscribers(productId, 40, { on });
    await on.sink.faults({ productId, latencyMs: 3000 });
    const messageId = `m-${productId}`;

    // Act: sends in flight, the process dies, everyone unsubscribes, the process returns.
    expect((await pushDirect(stack.description.functions.fanOutRestock, { data: event, messageId })).status).toBe(200);
    await waitFor(async () => (await ledger(on, messageId)).some((d) => d.state === 'sending') && (await on.sink.stats(productId)).items > 0, {
      what: 'claimed sends reaching the sink',
    });
    stack.kill('deliverRestockBatch', 'SIGKILL');
    const subsRef = on.firestore.collection('products').doc(productId).collection('restockSubscriptions');
    await Promise.all(subs.map((s) => subsRef.doc(s.userId).delete()));
    await on.sink.clearFaults(productId);
    await stack.restart('deliverRestockBatch');

    // Assess: Cloud Tasks retried after the leases expired; nothing is left open.
    const entries = await waitFor(
      async () => {
        const all = await ledger(on, messageId);
        return all.length > 0 && all.every((d) => ['sent', 'rejected', 'exhausted', 'unsubscribed'].includes(d.state)) ? all : undefined;
      },
      { timeoutMs: 60_000, what: 'every ledger entry settled' },
    );
    const closed = entries.filter((d) => d.state === 'unsubscribed');
    expect(closed.length).toBeGreaterThan(0);
    expect(closed.every((d) => /unsubscribed/.test(d.lastError ?? ''))).toBe(true);
    // `rejected` stays reserved for undeliverable addresses: nobody here had one.
    expect(entries.filter((d) => d.state === 'rejected')).toEqual([]);
  });
});
