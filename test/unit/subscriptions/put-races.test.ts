/**
 * The subscribe path without a transaction (issue 12): each rule of a PUT as
 * a pure plan, and what a PUT answers when another writer gets in between its
 * read and its conditional write.
 */
import { describe, expect, it } from 'vitest';
import type { SubscriptionDoc } from '../../../lib/model.ts';
import {
  ConcurrentChangeError,
  planPut,
  ProductInStockError,
  PUT_ROUNDS,
  putSubscription,
  StoreUnavailableError,
  SubscriptionLimitError,
} from '../../../lib/subscriptions/index.ts';
import { MemorySubscriptionStore } from './memory-store.ts';

const policy = { restockThreshold: 0, maxSubscriptionsPerUser: 2, nowMs: 5_000 };
const request = { channels: { email: 'a@example.com' }, locale: 'en-US' };
const stored = (over: Partial<SubscriptionDoc> = {}): SubscriptionDoc => ({
  userId: 'u',
  productId: 'p',
  channels: { email: 'a@example.com' },
  locale: 'en-US',
  createdAtMs: 1_000,
  updatedAtMs: 1_000,
  ...over,
});
const product = (available: number) => ({ productId: 'p', available, sequence: 1, updatedAtMs: 0 });

describe('planPut decides a PUT from what was read', () => {
  it('the same request again is unchanged, whatever the stock', () => {
    expect(planPut(stored(), product(9), 'p', 'u', request, policy)).toEqual({ kind: 'unchanged', subscription: stored() });
  });

  it('a changed request replaces, keeping createdAtMs, whatever the stock', () => {
    const plan = planPut(stored(), product(9), 'p', 'u', { channels: { push: 't' } }, policy);
    expect(plan).toEqual({
      kind: 'replace',
      subscription: { userId: 'u', productId: 'p', channels: { push: 't' }, createdAtMs: 1_000, updatedAtMs: 5_000 },
    });
  });

  it('no subscription and a product in stock is refused', () => {
    const plan = planPut(undefined, product(1), 'p', 'u', request, policy);
    expect(plan.kind).toBe('refuse');
    expect(plan.kind === 'refuse' && plan.error).toBeInstanceOf(ProductInStockError);
  });

  it.each([
    ['sold out', product(0)],
    ['never seen by fan-out', undefined],
  ])('no subscription and a product %s is a create', (_name, p) => {
    expect(planPut(undefined, p, 'p', 'u', request, policy)).toEqual({
      kind: 'create',
      subscription: { ...stored(), createdAtMs: 5_000, updatedAtMs: 5_000 },
    });
  });
});

describe('putSubscription when another writer gets in between', () => {
  it('a create that loses to an identical concurrent create answers unchanged (the other one answered 201)', async () => {
    // Prepare
    const store = new MemorySubscriptionStore();
    store.beforeWrite.push(() => store.put(stored({ createdAtMs: 4_000, updatedAtMs: 4_000 })));

    // Act
    const result = await putSubscription(store, 'p', 'u', request, policy);

    // Assess
    expect(result.outcome).toBe('unchanged');
    expect(result.subscription.createdAtMs).toBe(4_000);
    expect(store.writes).toBe(0);
  });

  it('a create that loses to a different concurrent create replaces it (last writer wins, as with any two PUTs)', async () => {
    // Prepare
    const store = new MemorySubscriptionStore();
    store.beforeWrite.push(() => store.put(stored({ channels: { push: 'other' }, createdAtMs: 4_000 })));

    // Act
    const result = await putSubscription(store, 'p', 'u', request, policy);

    // Assess
    expect(result.outcome).toBe('updated');
    expect(store.subscriptions.get('p\u0000u')?.doc).toMatchObject({ channels: { email: 'a@example.com' }, createdAtMs: 4_000 });
  });

  it('a replace that finds the subscription deleted meanwhile becomes a create, with the stock checked', async () => {
    // Prepare
    const store = new MemorySubscriptionStore();
    store.put(stored({ channels: { push: 'old' } }));
    store.beforeWrite.push(() => {
      store.subscriptions.clear(); // delivered (one-shot) or unsubscribed...
      store.setProduct('p', 5); // ...by a restock: the product is in stock now
    });

    // Act
    const failure = await putSubscription(store, 'p', 'u', request, policy).catch((e: unknown) => e);

    // Assess
    expect(failure).toBeInstanceOf(ProductInStockError);
    expect(store.subscriptions.size).toBe(0);
  });

  it('a product that comes in stock between the check and the create: the new subscription is removed and the answer is 409', async () => {
    // Prepare
    const store = new MemorySubscriptionStore();
    store.setProduct('p', 0);
    store.beforeWrite.push(() => store.setProduct('p', 25)); // the restock's stock write lands in between

    // Act
    const failure = await putSubscription(store, 'p', 'u', request, policy).catch((e: unknown) => e);

    // Assess
    expect(failure).toBeInstanceOf(ProductInStockError);
    expect(store.subscriptions.size).toBe(0);
  });

  it('the removal after a late in-stock check spares a subscription another writer changed meanwhile', async () => {
    // Prepare
    const store = new MemorySubscriptionStore();
    store.setProduct('p', 0);
    store.beforeWrite.push(
      () => store.setProduct('p', 25),
      () => store.put(stored({ channels: { push: 'theirs' } })), // just before our removal
    );

    // Act
    const failure = await putSubscription(store, 'p', 'u', request, policy).catch((e: unknown) => e);

    // Assess
    expect(failure).toBeInstanceOf(ProductInStockError);
    expect(store.subscriptions.get('p\u0000u')?.doc.channels).toEqual({ push: 'theirs' });
  });

  it('a shopper whose record is under the cap is not counted again (no collection-group query)', async () => {
    // Prepare
    const store = new MemorySubscriptionStore();
    store.put(stored({ productId: 'a' }));

    // Act
    const result = await putSubscription(store, 'p', 'u', request, policy);

    // Assess
    expect(result.outcome).toBe('created');
    expect(store.recounts).toBe(0);
    expect([...store.records.get('u')!]).toEqual(['a', 'p']);
  });

  it('a record full of subscriptions that deliveries removed is recounted exactly, rewritten, and the create goes ahead', async () => {
    // Prepare
    const store = new MemorySubscriptionStore();
    store.put(stored({ productId: 'a' }));
    store.put(stored({ productId: 'b' }));
    store.deliver('a', 'u'); // one-shot: the record still lists a

    // Act
    const result = await putSubscription(store, 'p', 'u', request, policy);

    // Assess
    expect(result.outcome).toBe('created');
    expect(store.recounts).toBe(1);
    expect([...store.records.get('u')!].sort()).toEqual(['b', 'p']);
  });

  it('the cap counts what the shopper holds before the create', async () => {
    // Prepare
    const store = new MemorySubscriptionStore();
    store.put(stored({ productId: 'a' }));
    store.put(stored({ productId: 'b' }));

    // Act
    const failure = await putSubscription(store, 'p', 'u', request, policy).catch((e: unknown) => e);

    // Assess
    expect(failure).toBeInstanceOf(SubscriptionLimitError);
    expect(store.subscriptions.has('p\u0000u')).toBe(false);
    expect([...store.records.get('u')!].sort()).toEqual(['a', 'b']);
  });

  it('a shopper one below the cap may create the last one (the cap is met exactly, not one early)', async () => {
    // Prepare
    const store = new MemorySubscriptionStore();
    store.put(stored({ productId: 'a' }));

    // Act
    const result = await putSubscription(store, 'p', 'u', request, policy);
    const over = await putSubscription(store, 'q', 'u', request, policy).catch((e: unknown) => e);

    // Assess
    expect(result.outcome).toBe('created');
    expect(over).toBeInstanceOf(SubscriptionLimitError);
    expect([...store.records.get('u')!].sort()).toEqual(['a', 'p']);
  });

  it('a first-time create writes before it reads: one create and one read of the product and the record, nothing else', async () => {
    // Prepare
    const store = new MemorySubscriptionStore();
    store.setProduct('p', 0);

    // Act
    const result = await putSubscription(store, 'p', 'u', request, policy);

    // Assess
    expect(result.outcome).toBe('created');
    expect(store.calls).toEqual(['createSubscription', 'readAfterCreate']);
  });

  it('a repeated PUT finds its subscription at the create and answers unchanged without writing', async () => {
    // Prepare
    const store = new MemorySubscriptionStore();
    store.put(stored());

    // Act
    const result = await putSubscription(store, 'p', 'u', request, policy);

    // Assess
    expect(result.outcome).toBe('unchanged');
    expect(store.writes).toBe(0);
    expect(store.calls).toEqual(['createSubscription', 'readForPut']);
  });

  it(`a pair that changes under every one of ${PUT_ROUNDS} rounds gives up with 503 (StoreUnavailableError), naming why`, async () => {
    // Prepare
    const store = new MemorySubscriptionStore();
    store.put(stored({ channels: { push: 'v0' } }));
    // One change before the first (blind) create, then one before the write of every round.
    store.beforeWrite.push(...Array.from({ length: PUT_ROUNDS + 1 }, (_, i) => () => store.put(stored({ channels: { push: `v${i + 1}` } }))));

    // Act
    const failure = await putSubscription(store, 'p', 'u', request, policy).catch((e: unknown) => e);

    // Assess
    expect(failure).toBeInstanceOf(StoreUnavailableError);
    expect((failure as Error).cause).toBeInstanceOf(ConcurrentChangeError);
  });
});
