import type { Firestore } from '@google-cloud/firestore';
import { describe, expect, it } from 'vitest';
import { createSubscriptionApi, FirestoreSubscriptionStore, StoreUnavailableError } from '../../../lib/subscriptions/index.ts';
import { Logger } from '../../../lib/log.ts';
import { MemorySubscriptionStore } from './memory-store.ts';

/** A Firestore whose every document read fails with the given gRPC code. */
function failingFirestore(code: number): Firestore {
  const failure = Object.assign(new Error(`grpc ${code}`), { code });
  const doc = (): unknown => ({ get: () => Promise.reject(failure), collection: () => ({ doc }) });
  return { collection: () => ({ doc }) } as unknown as Firestore;
}

describe('Firestore failures', () => {
  it.each([
    [4, 'DEADLINE_EXCEEDED'],
    [8, 'RESOURCE_EXHAUSTED'],
    [10, 'ABORTED'],
    [14, 'UNAVAILABLE'],
  ])('code %i (%s) surfaces as StoreUnavailableError with the cause', async (code) => {
    // Prepare
    const store = new FirestoreSubscriptionStore(failingFirestore(code));

    // Act
    const failure = await store.getSubscription('p', 'u').catch((e: unknown) => e);

    // Assess
    expect(failure).toBeInstanceOf(StoreUnavailableError);
    expect((failure as Error).cause).toMatchObject({ code });
  });

  it('other codes (PERMISSION_DENIED) stay as they are, to be answered as internal errors', async () => {
    const failure = await new FirestoreSubscriptionStore(failingFirestore(7)).getSubscription('p', 'u').catch((e: unknown) => e);
    expect(failure).not.toBeInstanceOf(StoreUnavailableError);
  });

  it('a store that is unavailable is answered 503 unavailable with Retry-After', async () => {
    // Prepare
    const store = new MemorySubscriptionStore();
    store.getSubscription = () => Promise.reject(new StoreUnavailableError({ cause: new Error('UNAVAILABLE') }));
    const api = createSubscriptionApi({
      store,
      settings: { restockThreshold: 0, maxSubscriptionsPerUser: 5, maxBodyBytes: 1024 },
      logger: new Logger({}, 'ERROR', () => {}),
    });

    // Act
    const reply = await api({ method: 'GET', url: '/v1/products/p/subscriptions/u', headers: {} });

    // Assess
    expect(reply.status).toBe(503);
    expect(reply.headers['retry-after']).toBe('1');
    expect(JSON.parse(reply.body ?? '').type).toBe('tag:restock-fanout,2026:problem:unavailable');
  });
});
