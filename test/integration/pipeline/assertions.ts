/**
 * What the pipeline tests observe: the sink's records against the expected
 * dedup keys, and the ledger's states. Shared by the pipeline's test files.
 */
import { expect } from 'vitest';
import { COLLECTIONS, dedupKey, type Channel, type DeliveryDoc, type FanoutDoc } from '../../../lib/model.ts';
import { stack, waitFor, type StackAccess } from '../../helpers/index.ts';

/** Waits until the sink has delivered `n` keys of `productId`, and a little longer, to catch late duplicates. */
export async function waitForDelivered(productId: string, n: number, { on = stack(), timeoutMs = 90_000, settleMs = 1_000 } = {}) {
  await waitFor(async () => (await on.sink.stats(productId)).delivered >= n, { timeoutMs, what: `${n} deliveries of ${productId}` });
  await new Promise((r) => setTimeout(r, settleMs));
  return on.sink.stats(productId);
}

/** Asserts the sink holds exactly these users' keys for the event, each received in exactly one request. */
export async function expectNotifiedExactlyOnce(
  eventKey: string,
  productId: string,
  userIds: readonly string[],
  { on = stack(), channels = ['email'] as Channel[] } = {},
) {
  const records = await on.sink.notifications(productId);
  const expected = new Set(userIds.flatMap((u) => channels.map((c) => dedupKey(eventKey, u, c))));
  const received = records.filter((r) => r.eventKey === eventKey);
  expect(received.filter((r) => !expected.has(r.idempotencyKey)).map((r) => r.idempotencyKey), 'keys nobody expected').toEqual([]);
  expect(expected.size - received.filter((r) => r.status === 'sent').length, 'expected keys not delivered').toBe(0);
  expect(received.filter((r) => r.requests > 1).length, 'keys received more than once').toBe(0);
}

export async function ledgerStates(eventKey: string, on: StackAccess = stack()): Promise<Record<string, number>> {
  const snap = await on.firestore.collection(COLLECTIONS.deliveries).where('eventKey', '==', eventKey).get();
  const counts: Record<string, number> = {};
  for (const d of snap.docs) {
    const state = (d.data() as DeliveryDoc).state;
    counts[state] = (counts[state] ?? 0) + 1;
  }
  return counts;
}

export async function remainingSubscribers(productId: string, on: StackAccess = stack()): Promise<number> {
  const snap = await on.firestore.collection(COLLECTIONS.products).doc(productId).collection(COLLECTIONS.subscriptions).count().get();
  return snap.data().count;
}

export async function fanoutDoc(eventKey: string, on: StackAccess = stack()): Promise<FanoutDoc | undefined> {
  return (await on.firestore.collection(COLLECTIONS.fanouts).doc(eventKey).get()).data() as FanoutDoc | undefined;
}
