/**
 * Erasure on the real stack (issue 32, promise 17): after `DELETE
 * /v1/shoppers/{userId}`, a scan of every document of the pipeline's database
 * finds neither the user id nor any of its addresses or tokens, although the
 * shopper had been notified, had a request pending confirmation, and a
 * rejected event carried their id; a task redelivered after the erasure
 * sends nothing; a chunk that read the subscription just before the erasure
 * and claims just after sends nothing and writes nothing back.
 *
 * Export (`GET /v1/shoppers/{userId}`) is checked on the same shopper before
 * the erasure: it lists what the scan then finds gone.
 */
import { randomUUID } from 'node:crypto';
import type { Firestore } from '@google-cloud/firestore';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { deliverChunk } from '../../../lib/delivery/index.ts';
import { CHANNELS, COLLECTIONS, dedupKey, subscriptionsRef, type SubscriptionDoc } from '../../../lib/model.ts';
import type { Notification, Notifier } from '../../../lib/notify/index.ts';
import { deliveryTaskFor } from '../../../lib/tasks/index.ts';
import { inventoryEvent, pushDirect, sink, stack, uniqueProductId, waitFor } from '../../helpers/index.ts';
import { startFunction, type FunctionProcess } from '../../helpers/function-process.ts';
import { runtimeFor } from '../faults/support.ts';
import { send } from '../subscriptions/http-client.ts';

let doubleOptIn: FunctionProcess;
beforeAll(async () => {
  doubleOptIn = await startFunction('restockSubscriptions', { RESTOCK_DOUBLE_OPT_IN: 'email' });
}, 120_000);
afterAll(() => doubleOptIn?.stop());

const api = () => stack().description.functions.restockSubscriptions.replace(/\/$/, '');
const path = (productId: string, userId: string) => `/v1/products/${encodeURIComponent(productId)}/subscriptions/${encodeURIComponent(userId)}`;

/**
 * Every document of the database, as `path + JSON` lines: the root
 * collections and every collection id of the data model as a collection
 * group (which reaches sub-collections at any depth).
 */
async function everyDocument(db: Firestore): Promise<string[]> {
  const ids = new Set<string>([...(await db.listCollections()).map((c) => c.id), ...Object.values(COLLECTIONS)]);
  const lines = new Map<string, string>();
  for (const id of ids) {
    for (const d of (await db.collectionGroup(id).get()).docs) lines.set(d.ref.path, `${d.ref.path} ${JSON.stringify(d.data())}`);
  }
  return [...lines.values()];
}

const mentioning = (lines: readonly string[], secrets: readonly string[]) => lines.filter((l) => secrets.some((s) => l.includes(s)));

/** A notifier that records what reaches it and answers sent. */
function recordingNotifier(): Notifier & { received: Notification[] } {
  const received: Notification[] = [];
  return {
    received,
    send: async (batch) => {
      received.push(...batch);
      return batch.map((n) => ({ idempotencyKey: n.idempotencyKey, status: 'sent' as const }));
    },
  };
}

describe('erasure', () => {
  test('leaves no trace of the shopper in any document, keeps the ledger keys, and a redelivered task sends nothing', async () => {
    // Prepare: a shopper notified on two channels, with a request pending on another product, named by a rejected event.
    const productId = uniqueProductId('erase');
    const pendingProduct = uniqueProductId('erase-pending');
    const waitingProduct = uniqueProductId('erase-waiting');
    const userId = `shopper-${randomUUID()}`;
    const email = `eve-${randomUUID()}@example.com`;
    const pendingEmail = `eve-work-${randomUUID()}@example.com`;
    const token = `fcm-eve-${randomUUID()}`;
    const secrets = [userId, email, pendingEmail, token];
    expect((await send(api(), 'PUT', path(productId, userId), { json: { channels: { email, push: token }, consent: { wording: 'v7' } } })).status).toBe(201);
    expect((await send(api(), 'PUT', path(waitingProduct, userId), { json: { channels: { email, push: token }, consent: { wording: 'v7' } } })).status).toBe(201);
    expect((await send(doubleOptIn.url.replace(/\/$/, ''), 'PUT', path(pendingProduct, userId), { json: { channels: { email: pendingEmail } } })).status).toBe(202);
    const event = inventoryEvent({ productId });
    expect((await pushDirect(stack().description.functions.fanOutRestock, { data: event, messageId: `erase-${productId}` })).status).toBe(200);
    await waitFor(async () => ((await sink().notifications(productId)).filter((n) => n.status === 'sent').length === 2 ? true : undefined), { timeoutMs: 60_000, what: 'both notifications' });
    const bad = { ...inventoryEvent({ productId: uniqueProductId('erase-bad') }), available: 'lots', note: `complaint by ${userId}` };
    expect((await pushDirect(stack().description.functions.fanOutRestock, { data: bad, messageId: `erase-bad-${productId}` })).status).toBe(200);
    const db = stack().firestore;
    const keys = (await db.collection(COLLECTIONS.deliveries).where('userId', '==', userId).get()).docs.map((d) => ({ key: d.id, state: d.get('state') as string }));
    expect(keys).toHaveLength(2);
    // The notified subscription is gone (one-shot); the waiting one stays.
    // The scan sees the shopper where the issue says they are: subscriptions, pending, shopper record, ledger, rejected events.
    const before = mentioning(await everyDocument(db), secrets).map((l) => l.split(' ')[0]!.split('/')[0]);
    for (const where of [COLLECTIONS.products, COLLECTIONS.shoppers, COLLECTIONS.deliveries, COLLECTIONS.rejectedEvents]) expect(before, where).toContain(where);

    // Export: everything held, before it goes.
    const exported = await send(api(), 'GET', `/v1/shoppers/${encodeURIComponent(userId)}`);
    expect(exported.status).toBe(200);
    expect(exported.body.subscriptions).toEqual([expect.objectContaining({ productId: waitingProduct, channels: { email, push: token }, consent: expect.objectContaining({ wording: 'v7' }) })]);
    expect(exported.body.pendingConfirmations).toEqual([expect.objectContaining({ productId: pendingProduct, channels: { email: pendingEmail } })]);
    expect(exported.body.notifications.map((n: { channel: string; state: string }) => `${n.channel}:${n.state}`).sort()).toEqual(['email:sent', 'push:sent']);
    expect(exported.body.rejectedEvents).toHaveLength(1);

    // Act
    const erased = await send(api(), 'DELETE', `/v1/shoppers/${encodeURIComponent(userId)}`);
    const again = await send(api(), 'DELETE', `/v1/shoppers/${encodeURIComponent(userId)}`);

    // Assess: the receipt, idempotent...
    expect(erased.status).toBe(200);
    expect(erased.body.counts).toMatchObject({ subscriptions: 1, ledgerKeysClosed: CHANNELS.length, pendingConfirmations: 1, shopperRecords: 1, ledgerEntriesPseudonymised: 2, rejectedEventsScrubbed: 1 });
    expect(again.status).toBe(200);
    expect(Object.values(again.body.counts)).toEqual(Object.values(again.body.counts).map(() => 0));
    // ...no document anywhere names the shopper or their addresses...
    expect(mentioning(await everyDocument(db), secrets)).toEqual([]);
    // ...the ledger keeps its keys and states (dedup)...
    const kept = await db.getAll(...keys.map((k) => db.collection(COLLECTIONS.deliveries).doc(k.key)));
    expect(kept.map((s) => s.get('state'))).toEqual(keys.map((k) => k.state));
    // ...and the chunk's task, redelivered, sends nothing.
    const notifier = recordingNotifier();
    const rt = runtimeFor(stack());
    const task = deliveryTaskFor({ eventKey: `erase-${productId}`, productId, generation: 0, product: { available: event.available } }, [userId]);
    const report = await deliverChunk(rt, notifier, task, { retryCount: 1 }, rt.log);
    expect(notifier.received).toEqual([]);
    expect(report.sent).toBe(0);
    expect(mentioning(await everyDocument(db), secrets)).toEqual([]);
  });

  test('a shopper with more subscriptions than one commit holds is erased whole, the keys of every sign-up closed', async () => {
    // Prepare: 170 subscriptions (more than one commit's share of sign-ups at two channels), written directly.
    const userId = `many-${randomUUID()}`;
    const db = stack().firestore;
    const subs: SubscriptionDoc[] = Array.from({ length: 170 }, (_, i) => ({
      userId,
      productId: uniqueProductId(`erase-many-${i}`),
      channels: { email: `many-${userId}@example.com`, push: `fcm-${userId}` },
      createdAtMs: 1_000 + i,
      updatedAtMs: 1_000 + i,
    }));
    const batch = db.batch();
    for (const sub of subs) batch.create(subscriptionsRef(db, sub.productId).doc(userId), sub);
    await batch.commit();

    // Act
    const erased = await send(api(), 'DELETE', `/v1/shoppers/${encodeURIComponent(userId)}`);

    // Assess: every subscription gone, each sign-up's keys closed, none naming the shopper.
    expect(erased.status).toBe(200);
    expect(erased.body.counts).toMatchObject({ subscriptions: subs.length, ledgerKeysClosed: subs.length * CHANNELS.length });
    expect((await db.collectionGroup(COLLECTIONS.subscriptions).where('userId', '==', userId).get()).size).toBe(0);
    const keys = await db.getAll(...subs.flatMap((sub) => CHANNELS.map((c) => db.collection(COLLECTIONS.deliveries).doc(dedupKey(sub, c)))));
    expect(keys.map((k) => `${k.get('state')}:${k.get('userId') === userId}`)).toEqual(keys.map(() => 'unsubscribed:false'));
  });

  test('rewrites what paging remembered of the shopper in fan-outs that are over, and counts, untouched, what a running one still pages from', async () => {
    // Prepare: the shopper as a finished fan-out's cursor, waves' cursor and boundary and key-range plan, as its key
    // ranges' bounds and cursor, and as the cursor of a fan-out and a key range still running; written directly in
    // the shapes fan-out writes (lib/model.ts), as a restock of 200,000 in waves would leave them.
    const userId = `paged-${randomUUID()}`;
    const db = stack().firestore;
    const over = db.collection(COLLECTIONS.fanouts).doc(`erase-over-${randomUUID()}`);
    const running = db.collection(COLLECTIONS.fanouts).doc(`erase-running-${randomUUID()}`);
    const range = (fanout: typeof over, index: number, fields: Record<string, unknown>) =>
      fanout.collection(COLLECTIONS.fanoutRanges).doc(`g0r${index}`).set({ eventKey: fanout.id, generation: 0, index, after: null, until: null, cursor: null, state: 'complete', ...fields });
    await over.set({
      eventKey: over.id,
      productId: 'p',
      state: 'complete',
      cursor: userId,
      waves: { index: 2, phase: 'done', cursor: { createdAtMs: 5, userId }, current: { boundary: { createdAtMs: 5, userId }, taken: 3 } },
      ranges: { count: 3, after: userId, splits: ['a', userId], audience: 9, plannedAtMs: 0 },
    });
    await Promise.all([range(over, 0, { after: userId, cursor: userId }), range(over, 1, { until: userId }), range(over, 2, { after: 'other', until: 'zzz', cursor: 'other-2' })]);
    await running.set({ eventKey: running.id, productId: 'p', state: 'running', cursor: userId });
    await range(running, 0, { cursor: userId, state: 'running' });

    // Act
    const erased = await send(api(), 'DELETE', `/v1/shoppers/${encodeURIComponent(userId)}`);

    // Assess: the finished fan-out and its two ranges naming the shopper rewritten, the third untouched; the running
    // fan-out and its range counted and left as they were: the only documents that still name the shopper.
    expect(erased.status).toBe(200);
    expect(erased.body.counts).toMatchObject({ fanoutCursorsMoved: 3, fanoutCursorsInFlight: 2 });
    const still = mentioning(await everyDocument(db), [userId]).map((l) => l.split(' ')[0]);
    expect(still.sort()).toEqual([running.path, `${running.path}/${COLLECTIONS.fanoutRanges}/g0r0`].sort());
    const after = (await over.get()).data()!;
    expect(after.ranges.splits[0]).toBe('a');
    expect(after.waves.current.taken).toBe(3);
    expect((await over.collection(COLLECTIONS.fanoutRanges).doc('g0r2').get()).data()).toMatchObject({ after: 'other', until: 'zzz', cursor: 'other-2' });
  });

  test('a chunk that read the subscription just before the erasure and claims just after sends nothing and writes nothing back', async () => {
    // Prepare: a subscribed shopper, and a chunk whose first read is held until the erasure has run (the fault).
    const productId = uniqueProductId('erase-race');
    const userId = `racer-${randomUUID()}`;
    const email = `racer-${randomUUID()}@example.com`;
    expect((await send(api(), 'PUT', path(productId, userId), { json: { channels: { email } } })).status).toBe(201);
    const real = stack().firestore;
    let held = false;
    const db = new Proxy(real, {
      get(target, prop, receiver) {
        if (prop !== 'getAll' || held) return Reflect.get(target, prop, receiver);
        return async (...refs: Parameters<Firestore['getAll']>) => {
          const read = await target.getAll(...refs);
          held = true;
          // The read saw the subscription; the shopper is erased before the claim commits.
          expect(read.some((s) => s.exists && s.ref.path.includes(userId))).toBe(true);
          expect((await send(api(), 'DELETE', `/v1/shoppers/${encodeURIComponent(userId)}`)).status).toBe(200);
          return read;
        };
      },
    });
    const notifier = recordingNotifier();
    const rt = { ...runtimeFor(stack()), db };
    const task = deliveryTaskFor({ eventKey: `erase-race-${productId}`, productId, generation: 0, product: { available: 5 } }, [userId]);

    // Act
    const report = await deliverChunk(rt, notifier, task, { retryCount: 0 }, rt.log);

    // Assess: nothing reached the notifier, and nothing in the database names the shopper.
    expect(held).toBe(true);
    expect(notifier.received).toEqual([]);
    expect(report.sent).toBe(0);
    expect(mentioning(await everyDocument(real), [userId, email])).toEqual([]);
  });
});
