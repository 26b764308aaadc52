/**
 * Redrive's safety is the domain's, not the CLI's: it refuses states that
 * must not be redriven whoever calls it, and a redrive whose enqueue fails
 * leaves the ledger as it was, so running it again finds the same entries.
 */
import { Timestamp } from '@google-cloud/firestore';
import type { CloudTasksClient } from '@google-cloud/tasks';
import { beforeEach, describe, expect, test } from 'vitest';
import { NotRedrivableError, redriveDeliveries } from '../../../lib/delivery/index.ts';
import { COLLECTIONS, dedupKey, LEDGER_SHARDS, ledgerShardOf, type DeliveryDoc, type DeliveryState, type FanoutDoc } from '../../../lib/model.ts';
import { seedSubscribers, stack, uniqueProductId, waitFor } from '../../helpers/index.ts';
import { ledger, runtimeFor } from './support.ts';

const on = stack();

async function seedEvent(productId: string, eventKey: string, entries: Record<string, DeliveryState>): Promise<void> {
  const nowMs = Date.now();
  const fanout: FanoutDoc = {
    eventKey, productId, state: 'complete', event: {}, product: { name: 'Redriven', available: 4 }, leaseOwner: null, leaseExpiresAtMs: 0,
    cursor: null, generation: 0, attempts: 1, pages: 1, chunks: 1, recipients: Object.keys(entries).length, startedAtMs: nowMs, updatedAtMs: nowMs, completedAtMs: nowMs, ledgerShards: LEDGER_SHARDS,
  };
  await on.firestore.collection(COLLECTIONS.fanouts).doc(eventKey).set(fanout);
  await Promise.all(
    Object.entries(entries).map(async ([userId, state]) => {
      // The entry of the shopper's sign-up (promise 15): its key is the subscription's createdAtMs.
      const sub = await on.firestore.collection(COLLECTIONS.products).doc(productId).collection(COLLECTIONS.subscriptions).doc(userId).get();
      const doc: DeliveryDoc = {
        dedupKey: dedupKey({ productId, userId, createdAtMs: Number(sub.get('createdAtMs')) }, 'email'), eventKey, productId, userId, channel: 'email', state, attempts: state === 'exhausted' ? 10 : 1,
        leaseExpiresAtMs: null, lastError: state === 'exhausted' ? 'notifier answered 503' : null, sentAtMs: state === 'sent' ? nowMs : null,
        createdAtMs: nowMs, updatedAtMs: nowMs, expireAt: Timestamp.fromMillis(nowMs + 86_400_000),
      };
      // With its shard, as delivery writes every entry since issue 39.
      return on.firestore.collection(COLLECTIONS.deliveries).doc(doc.dedupKey).set({ ...doc, shard: ledgerShardOf(doc.dedupKey) });
    }),
  );
}

const refusingQueue = { createTask: async () => Promise.reject(Object.assign(new Error('7 PERMISSION_DENIED: denied'), { code: 7 })) } as unknown as CloudTasksClient;

describe('redrive', () => {
  let productId: string;
  let eventKey: string;
  beforeEach(() => {
    productId = uniqueProductId('redrive');
    eventKey = `evt-${productId}`;
  });

  test('whose enqueue fails leaves every entry as it was, so the default redrive finds them again and delivers', async () => {
    // Prepare: one shopper whose delivery used up its retries (subscription kept, as a failed send keeps it).
    await seedSubscribers(productId, 1, { on });
    const [userId] = ['user-0'];
    await seedEvent(productId, eventKey, { [userId!]: 'exhausted' });

    // Act: the queue refuses...
    await expect(redriveDeliveries({ ...runtimeFor(on), tasks: refusingQueue }, eventKey, { states: [], dryRun: false })).rejects.toMatchObject({ name: 'EnqueueError' });

    // Assess: ...nothing was flipped...
    expect((await ledger(on, eventKey)).map((d) => d.state)).toEqual(['exhausted']);

    // ...and the same redrive, once the queue accepts, delivers.
    const result = await redriveDeliveries(runtimeFor(on), eventKey, { states: [], dryRun: false });
    expect(result).toMatchObject({ deliveries: 1, tasks: 1 });
    const entries = await waitFor(async () => {
      const all = await ledger(on, eventKey);
      return all.every((d) => d.state === 'sent') ? all : undefined;
    }, { what: 'the redriven delivery sent' });
    expect(entries).toMatchObject([{ userId, state: 'sent', attempts: 11 }]);
    expect((await on.sink.stats(productId)).delivered).toBe(1);
  });

  test('refuses a state the domain does not allow (sent), called from code, and sends nothing again', async () => {
    // Prepare: a sent notification whose one-shot subscription was not removed (its deletion was lost).
    await seedSubscribers(productId, 1, { on });
    await seedEvent(productId, eventKey, { 'user-0': 'sent' });

    // Act
    const attempt = redriveDeliveries(runtimeFor(on), eventKey, { states: ['sent'], dryRun: false });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(NotRedrivableError);
    await new Promise((r) => setTimeout(r, 1500)); // any task it had enqueued would have run by now
    expect((await ledger(on, eventKey)).map((d) => d.state)).toEqual(['sent']);
    expect((await on.sink.stats(productId)).items).toBe(0);
  });
});
