/**
 * The notification-service contract on the real stack (issue 36): the
 * service receives each notification's user id, and its `deadAddress`
 * answer (the sink's, for a push token starting with `bad-`) removes the
 * token from the shopper's other subscriptions, as FCM's UNREGISTERED does:
 * one holding only that token goes, one that also has an email keeps the email.
 */
import { describe, expect, test } from 'vitest';
import { COLLECTIONS, type SubscriptionDoc } from '../../../lib/model.ts';
import { inventoryEvent, publish, seedSubscribers, stack, uniqueProductId, waitFor } from '../../helpers/index.ts';
import { ledgerStates, waitForDelivered } from './assertions.ts';

async function subscription(productId: string, userId: string): Promise<SubscriptionDoc | undefined> {
  const snap = await stack().firestore.collection(COLLECTIONS.products).doc(productId).collection(COLLECTIONS.subscriptions).doc(userId).get();
  return snap.data() as SubscriptionDoc | undefined;
}

describe('a dead address answered by the notification service', () => {
  test("removes the token from the shopper's other subscriptions, and the service was told who each shopper is", async () => {
    // Prepare: 4 shoppers on the restocked product, 2 with dead tokens; each also waits for two other products.
    const event = inventoryEvent();
    const productId = event.productId;
    const onlyPush = uniqueProductId('dead-only-push');
    const pushAndEmail = uniqueProductId('dead-push-email');
    const prefix = `${productId}-u`;
    const token = (i: number) => (i < 2 ? `bad-${productId}-${i}` : `good-${productId}-${i}`);
    const subs = await seedSubscribers(productId, 4, { channels: ['push'], userIdPrefix: prefix, pushToken: token });
    await seedSubscribers(onlyPush, 4, { channels: ['push'], userIdPrefix: prefix, pushToken: token });
    await seedSubscribers(pushAndEmail, 4, { channels: ['push', 'email'], userIdPrefix: prefix, pushToken: token });
    const eventId = `outbox-${productId}`;

    // Act
    await publish(event, { eventId });
    await waitForDelivered(productId, 2);
    await waitFor(async () => (await ledgerStates(eventId)).rejected === 2, { what: 'ledger: 2 rejected' });

    // Assess: the dead tokens left the other products; the live ones stayed.
    const [dead0, dead1, live2, live3] = subs.map((s) => s.userId);
    await waitFor(async () => (await subscription(onlyPush, dead0!)) === undefined && (await subscription(onlyPush, dead1!)) === undefined, {
      what: 'subscriptions holding only a dead token removed',
    });
    for (const dead of [dead0!, dead1!]) {
      const kept = await subscription(pushAndEmail, dead);
      expect(kept?.channels).toEqual({ email: expect.any(String) });
    }
    for (const live of [live2!, live3!]) {
      expect((await subscription(onlyPush, live))?.channels.push).toBe(token(Number(live.slice(prefix.length))));
      expect((await subscription(pushAndEmail, live))?.channels).toMatchObject({ push: expect.any(String), email: expect.any(String) });
    }
    const records = await stack().sink.notifications(productId);
    expect(records.map((r) => r.userId).sort()).toEqual(subs.map((s) => s.userId).sort());
    expect(await ledgerStates(eventId)).toEqual({ sent: 2, rejected: 2 });
  });

  test("a mailbox the service says is gone leaves the shopper's other subscriptions; their push token stays", async () => {
    // Prepare: one shopper whose address is gone, one whose address works; both also wait for another product on email and push.
    const event = inventoryEvent();
    const productId = event.productId;
    const other = uniqueProductId('dead-mailbox-other');
    const prefix = `${productId}-m`;
    const email = (i: number) => (i === 0 ? `${productId}-0@gone.example` : `${productId}-${i}@example.com`);
    const subs = await seedSubscribers(productId, 2, { channels: ['email'], userIdPrefix: prefix, email });
    await seedSubscribers(other, 2, { channels: ['email', 'push'], userIdPrefix: prefix, email });
    const eventId = `outbox-${productId}`;

    // Act
    await publish(event, { eventId });
    await waitFor(async () => (await ledgerStates(eventId)).rejected === 1 && (await ledgerStates(eventId)).sent === 1, { what: 'ledger: 1 sent, 1 rejected' });

    // Assess
    const [gone, fine] = subs.map((s) => s.userId);
    await waitFor(async () => (await subscription(other, gone!))?.channels.email === undefined, { what: 'the gone mailbox removed from the other product' });
    expect((await subscription(other, gone!))?.channels).toEqual({ push: expect.any(String) });
    expect((await subscription(other, fine!))?.channels).toEqual({ email: email(1), push: expect.any(String) });
  });
});
