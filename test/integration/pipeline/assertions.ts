/**
 * What the pipeline tests observe: the sink's records against the expected
 * dedup keys, and the ledger's states. Shared by the pipeline's test files.
 */
import { expect } from 'vitest';
import { COLLECTIONS, type Channel, type DeliveryDoc, type FanoutDoc } from '../../../lib/model.ts';
import { stack, waitFor, type StackAccess } from '../../helpers/index.ts';

/** Waits until the sink has delivered `n` keys of `productId`, and a little longer, to catch late duplicates. */
export async function waitForDelivered(productId: string, n: number, { on = stack(), timeoutMs = 90_000, settleMs = 1_000 } = {}) {
  await waitFor(async () => (await on.sink.stats(productId)).delivered >= n, { timeoutMs, what: `${n} deliveries of ${productId}` });
  await new Promise((r) => setTimeout(r, settleMs));
  return on.sink.stats(productId);
}

/**
 * Asserts the sink holds exactly one delivered key per (user, channel) for the event, each received in exactly
 * one request. Keys are the sign-ups' (promise 15), so each key the sink got for the event is looked up in the
 * ledger to learn whose it is: the subscriptions are gone by now (one-shot).
 */
export async function expectNotifiedExactlyOnce(
  eventKey: string,
  productId: string,
  userIds: readonly string[],
  { on = stack(), channels = ['email'] as Channel[] } = {},
) {
  const records = await on.sink.notifications(productId);
  const received = records.filter((r) => r.eventKey === eventKey);
  const owners = await ownersOf(received.map((r) => r.idempotencyKey), on);
  const expected = new Set(userIds.flatMap((u) => channels.map((c) => `${u}/${c}`)));
  const whose = (key: string) => owners.get(key) ?? `unknown key ${key}`;
  expect(received.filter((r) => !expected.has(whose(r.idempotencyKey))).map((r) => whose(r.idempotencyKey)), 'keys nobody expected').toEqual([]);
  const sent = received.filter((r) => r.status === 'sent').map((r) => whose(r.idempotencyKey));
  expect(expected.size - new Set(sent).size, 'expected keys not delivered').toBe(0);
  expect(sent.length - new Set(sent).size, 'users told more than once on a channel').toBe(0);
  expect(received.filter((r) => r.requests > 1).length, 'keys received more than once').toBe(0);
}

/** `user/channel` of each ledger key (the ledger entry the key names), read in pages. */
export async function ownersOf(keys: readonly string[], on: StackAccess = stack()): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < keys.length; i += 300) {
    const snaps = await on.firestore.getAll(...keys.slice(i, i + 300).map((k) => on.firestore.collection(COLLECTIONS.deliveries).doc(k)));
    for (const s of snaps) if (s.exists) out.set(s.id, `${s.get('userId')}/${s.get('channel')}`);
  }
  return out;
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
