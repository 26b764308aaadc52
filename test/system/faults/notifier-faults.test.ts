/**
 * The notification service misbehaves: 503s, 429 with Retry-After, requests
 * that never get an answer, items to retry, and permanent rejections. After
 * each: every subscriber is `sent`, `rejected` or `exhausted` (promise 2),
 * rejected subscriptions are gone and failed ones kept (promise 6), and a key
 * reaches the sink twice only when its earlier outcome was lost (promise 1).
 * `exhausted` deliveries can be redriven.
 *
 * Its own stack: a short notifier timeout and a short queue backoff keep the
 * retries fast; five attempts make exhaustion reachable.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { redriveDeliveries } from '../../../lib/delivery/index.ts';
import { accessFor, inventoryEvent, pushDirect, seedSubscribers, startStack, waitFor, type Stack, type StackAccess } from '../../helpers/index.ts';
import { remainingSubscribers } from '../../integration/pipeline/assertions.ts';
import { countBy, ledger, runtimeFor } from '../../integration/faults/support.ts';

let stack: Stack;
let on: StackAccess;
const MAX_ATTEMPTS = 5;

beforeAll(async () => {
  stack = await startStack({
    env: { RESTOCK_CHUNK_SIZE: '25', RESTOCK_NOTIFIER_TIMEOUT_MS: '800', RESTOCK_NOTIFIER_RETRIES: '1', RESTOCK_DELIVERY_LEASE_MS: '3000' },
    queue: { minBackoffSeconds: 0.2, maxBackoffSeconds: 1, maxAttempts: MAX_ATTEMPTS },
  });
  on = accessFor(stack.description);
});

afterAll(async () => {
  await on?.close();
  await stack?.stop();
});

async function fanOut(event: ReturnType<typeof inventoryEvent>): Promise<string> {
  const messageId = `m-${event.productId}`;
  const res = await pushDirect(stack.description.functions.fanOutRestock, { data: event, messageId });
  expect(res.status).toBe(200);
  return messageId;
}

async function settled(eventKey: string, n: number) {
  return waitFor(
    async () => {
      const entries = await ledger(on, eventKey);
      return entries.length === n && entries.every((d) => ['sent', 'rejected', 'exhausted'].includes(d.state)) ? entries : undefined;
    },
    { timeoutMs: 100_000, intervalMs: 250, what: `${n} settled deliveries of ${eventKey}` },
  );
}

describe('a misbehaving notification service', () => {
  test('503s, 429s with Retry-After, unanswered requests and retry items: everyone is eventually sent, no key twice without a lost outcome', async () => {
    // Prepare
    const event = inventoryEvent();
    const { productId } = event;
    await seedSubscribers(productId, 100, { on });
    await on.sink.faults({ productId, status503Rate: 0.3, status429Rate: 0.2, retryAfterSeconds: 1, timeoutRate: 0.15, retryRate: 0.2, seed: 7 });

    // Act
    const eventKey = await fanOut(event);
    const entries = await settled(eventKey, 100);

    // Assess
    expect(countBy(entries, (d) => d.state)).toEqual({ sent: 100 });
    const stats = await on.sink.stats(productId);
    expect(stats.delivered).toBe(100);
    expect(stats.resentKeys, 'a delivered key was sent again').toBe(0);
    expect(entries.some((d) => d.attempts > 1), 'faults were really injected').toBe(true);
    expect(await remainingSubscribers(productId, on)).toBe(0);
  });

  test('permanent rejections (bad address, unregistered token) end rejected, are not retried, and remove the subscription', async () => {
    const event = inventoryEvent();
    const { productId } = event;
    await seedSubscribers(productId, 30, {
      on,
      channels: ['email', 'push'],
      email: (i, userId) => (i % 3 === 0 ? `${userId}@invalid.example` : `${userId}@example.com`),
      pushToken: (i, userId) => (i % 5 === 0 ? `bad-${userId}` : `token-${userId}`),
    });

    const eventKey = await fanOut(event);
    const entries = await settled(eventKey, 60);

    const rejected = entries.filter((d) => d.state === 'rejected');
    expect(rejected.length).toBe(10 + 6);
    expect(rejected.every((d) => d.attempts === 1 && /invalid-address|unregistered-token/.test(d.lastError ?? ''))).toBe(true);
    expect(entries.filter((d) => d.state === 'sent').length).toBe(60 - 16);
    expect(await remainingSubscribers(productId, on)).toBe(0);
    expect((await on.sink.stats(productId)).duplicateKeys).toBe(0);
  });

  test('a service that never accepts exhausts the retries: deliveries end exhausted, subscriptions are kept, and a redrive delivers them', async () => {
    // Prepare
    const event = inventoryEvent();
    const { productId } = event;
    await seedSubscribers(productId, 40, { on });
    await on.sink.faults({ productId, retryRate: 1 });

    // Act 1: every attempt fails.
    const eventKey = await fanOut(event);
    const entries = await settled(eventKey, 40);

    // Assess 1
    expect(countBy(entries, (d) => d.state)).toEqual({ exhausted: 40 });
    expect(entries.every((d) => d.attempts === MAX_ATTEMPTS)).toBe(true);
    expect(await remainingSubscribers(productId, on)).toBe(40);

    // Act 2: the service recovers; the operator redrives.
    await on.sink.clearFaults(productId);
    const rt = runtimeFor(on, { RESTOCK_CHUNK_SIZE: '25' });
    const dry = await redriveDeliveries(rt, eventKey, { states: ['exhausted'], dryRun: true });
    const result = await redriveDeliveries(rt, eventKey, { states: ['exhausted'], dryRun: false });

    // Assess 2
    expect(dry).toMatchObject({ deliveries: 40, tasks: 2, dryRun: true });
    expect(result).toMatchObject({ deliveries: 40, tasks: 2, dryRun: false });
    await waitFor(async () => (await ledger(on, eventKey)).every((d) => d.state === 'sent'), { timeoutMs: 60_000, what: 'redriven deliveries sent' });
    expect((await on.sink.stats(productId)).delivered).toBe(40);
    expect(await remainingSubscribers(productId, on)).toBe(0);
  });
});
