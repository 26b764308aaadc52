/**
 * Promise 6 at its edge: a shopper changes their subscription (a PUT through
 * the subscription API) after delivery claimed their notification and before
 * it recorded the outcome. The notification that was claimed is sent and
 * recorded, but the changed subscription is the shopper's latest request: it
 * stays, with its new channels, for the next restock. Only the subscriptions
 * nobody touched are removed with the entry that settles them.
 *
 * The chunk's receipt, written in the claim's commit, is checked here too: it
 * carries the ledger's expiry.
 *
 * The PUT is interleaved for real: the notifier, called between the claim and
 * the record, sends it to the stack's restockSubscriptions function.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { Timestamp } from '@google-cloud/firestore';
import { chunkReceiptRef, deliverChunk } from '../../../lib/delivery/index.ts';
import { subscriptionsRef, type SubscriptionDoc } from '../../../lib/model.ts';
import type { Notification, NotificationResult, Notifier } from '../../../lib/notify/index.ts';
import { deliveryTaskFor } from '../../../lib/tasks/index.ts';
import { inventoryEvent, seedSubscribers, stack } from '../../helpers/index.ts';
import { ledger, runtimeFor } from './support.ts';

describe('a PUT between the claim and the record of a one-shot notification', () => {
  const on = stack();

  test('keeps the changed subscriptions with their new channels, removes the untouched ones, and sends each claimed notification once', async () => {
    // Prepare: 10 email subscribers; while their notifications are being sent, 3 of them add a push token.
    const { productId, available } = inventoryEvent();
    const subs = await seedSubscribers(productId, 10, { on });
    const changed = subs.slice(0, 3).map((s) => s.userId);
    const eventKey = `put-race-${randomUUID()}`;
    const sent: Notification[] = [];
    const puts: number[] = [];
    const notifier: Notifier = {
      async send(batch): Promise<NotificationResult[]> {
        for (const userId of changed) {
          const res = await fetch(`${on.description.functions.restockSubscriptions}v1/products/${productId}/subscriptions/${userId}`, {
            method: 'PUT',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ channels: { email: subs.find((s) => s.userId === userId)!.channels.email, push: `token-new-${userId}` } }),
          });
          puts.push(res.status);
        }
        sent.push(...batch);
        return batch.map((n) => ({ idempotencyKey: n.idempotencyKey, status: 'sent' as const }));
      },
    };
    const task = deliveryTaskFor({ eventKey, productId, generation: 0, product: { available } }, subs.map((s) => s.userId));
    const rt = runtimeFor(on);

    // Act
    const report = await deliverChunk(rt, notifier, task, { retryCount: 0 }, rt.log);

    // Assess: every claimed notification sent once and recorded sent...
    expect(puts).toEqual([200, 200, 200]);
    expect(sent.map((n) => n.userId).sort()).toEqual(subs.map((s) => s.userId).sort());
    expect(new Set(sent.map((n) => n.idempotencyKey)).size).toBe(10);
    const entries = await ledger(on, eventKey);
    expect(entries.map((e) => e.state)).toEqual(Array(10).fill('sent'));
    // ...the three changed subscriptions stay, with the channels the PUT gave them...
    const left = (await subscriptionsRef(on.firestore, productId).get()).docs.map((d) => d.data() as SubscriptionDoc);
    expect(left.map((s) => s.userId).sort()).toEqual([...changed].sort());
    for (const s of left) expect(s.channels).toEqual({ email: subs.find((x) => x.userId === s.userId)!.channels.email, push: `token-new-${s.userId}` });
    // ...and the report says which is which.
    expect(report).toMatchObject({ settled: true, sent: 10, subscriptionsRemoved: 7, subscriptionsChangedMeanwhile: 3 });
  });

  test("the chunk's receipt expires with the ledger entries it accounts for", async () => {
    // Prepare
    const { productId, available } = inventoryEvent();
    const subs = await seedSubscribers(productId, 2, { on });
    const task = deliveryTaskFor({ eventKey: `receipt-${randomUUID()}`, productId, generation: 0, product: { available } }, subs.map((s) => s.userId));
    const rt = runtimeFor(on);
    const notifier: Notifier = { send: async (batch) => batch.map((n) => ({ idempotencyKey: n.idempotencyKey, status: 'sent' as const })) };

    // Act
    const before = Date.now();
    await deliverChunk(rt, notifier, task, { retryCount: 0 }, rt.log);

    // Assess
    const receipt = (await chunkReceiptRef(on.firestore, task).get()).data();
    const entry = (await ledger(on, task.eventKey))[0]!;
    expect(receipt).toMatchObject({ generation: 0, recipients: 2 });
    expect(receipt?.expireAt).toBeInstanceOf(Timestamp);
    expect(receipt!.expireAt.toMillis()).toBeGreaterThanOrEqual(before + rt.config.ledgerTtlDays * 86_400_000);
    expect(receipt!.expireAt.toMillis()).toBe(entry.expireAt.toMillis());
  });
});
