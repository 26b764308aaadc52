/**
 * Firestore goes down in the middle of a chunk: after the chunk's sends
 * reached the notification service and before their outcomes were recorded.
 * It comes back with its data (an export taken as it went down, as a real
 * outage keeps it). The record commit is refused (UNAVAILABLE) while it is
 * down; the client retries it, and whatever an attempt could not record,
 * Cloud Tasks retries with the ledger's claims still open. Either way nobody
 * is missed, and a key reaches the service twice only when its outcome was
 * lost, under the same Idempotency-Key.
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
    queue: { minBackoffSeconds: 0.5, maxBackoffSeconds: 2, maxAttempts: 30 },
  });
  on = accessFor(stack.description);
});

afterAll(async () => {
  await on?.close();
  await stack?.stop();
});

describe('Firestore going down in the middle of a chunk', () => {
  test('is ridden out: every subscriber ends sent, once at the service unless an outcome was lost', async () => {
    // Prepare: a slow notification service, so sends are in flight when the database goes.
    const event = inventoryEvent();
    const { productId } = event;
    const subs = await seedSubscribers(productId, 60, { on });
    await on.sink.faults({ productId, latencyMs: 2500 });
    const messageId = `m-${productId}`;

    // Act: claims are committed and sends are at the service; the database stops (its data kept).
    expect((await pushDirect(stack.description.functions.fanOutRestock, { data: event, messageId })).status).toBe(200);
    await waitFor(async () => (await ledger(on, messageId)).some((d) => d.state === 'sending') && (await on.sink.stats(productId)).items > 0, {
      what: 'claimed sends at the service',
    });
    await stack.snapshotFirestore();
    stack.kill('firestore', 'SIGKILL');
    // The in-flight chunks finish sending and fail to record; let their attempts end.
    await new Promise((r) => setTimeout(r, 4000));
    await on.sink.clearFaults(productId);
    await stack.restart('firestore');

    // Assess
    const entries = await waitFor(
      async () => {
        const all = await ledger(on, messageId);
        return all.length === 60 && all.every((d) => d.state === 'sent') ? all : undefined;
      },
      { timeoutMs: 90_000, what: 'all 60 deliveries sent after the outage' },
    );
    expect(new Set(entries.map((d) => d.userId))).toEqual(new Set(subs.map((s) => s.userId)));
    const records = await on.sink.notifications(productId);
    expect(records.filter((r) => r.status === 'sent')).toHaveLength(60);
    const attempts = new Map(entries.map((d) => [d.dedupKey, d.attempts]));
    for (const r of records.filter((x) => x.requests > 1)) {
      expect(attempts.get(r.idempotencyKey), `key ${r.idempotencyKey} re-sent without a lost outcome`).toBeGreaterThan(1);
    }
    expect(await remainingSubscribers(productId, on)).toBe(0);
  });
});
