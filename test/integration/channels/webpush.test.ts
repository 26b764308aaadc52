/**
 * The web push channel on the real stack: the shared stack sends `webpush`
 * directly (RESTOCK_WEBPUSH_SENDER=webpush, test/helpers/global-setup.ts)
 * through the `web-push` library to the stack's push service stand-in, which
 * verifies the VAPID JWT and decrypts each payload with the subscription's
 * private key, so what is counted here is what a browser would show.
 *
 * - a shopper subscribed with a browser's PushSubscription through the API is
 *   told once, and the decrypted payload carries the product and a one-click
 *   unsubscribe link of the stack's unsubscribe function;
 * - 503 and 429 from the push service, past the sender's in-call retries,
 *   still end in exactly one delivered push;
 * - a subscription the push service answers 410 for is `rejected` as a dead
 *   address after one request, never retried, and removed from the shopper's
 *   subscriptions to other products.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { COLLECTIONS, subscriptionsRef, type DeliveryDoc } from '../../../lib/model.ts';
import type { ReceivedWebPush } from '../../../emulators/webpush/server.ts';
import { LOCAL_UNSUBSCRIBE_SECRET, webPushSubscriptions, type BrowserSubscription } from '../../../emulators/stack/index.ts';
import { openClickToken } from '../../../lib/unsubscribe/index.ts';
import { inventoryEvent, pushDirect, stack, uniqueProductId, waitFor } from '../../helpers/index.ts';
import { send } from '../subscriptions/http-client.ts';

const d = () => stack().description;
const api = () => d().functions.restockSubscriptions.replace(/\/$/, '');
const path = (productId: string, userId: string) => `/v1/products/${encodeURIComponent(productId)}/subscriptions/${encodeURIComponent(userId)}`;
const idOf = (s: BrowserSubscription) => s.endpoint.split('/').at(-1)!;

async function received(): Promise<ReceivedWebPush[]> {
  return ((await (await fetch(`${d().webpush}/messages`)).json()) as { messages: ReceivedWebPush[] }).messages;
}

async function subscribe(productId: string, userId: string, webpush: BrowserSubscription): Promise<void> {
  const answer = await send(api(), 'PUT', path(productId, userId), { json: { channels: { webpush: { ...webpush, expirationTime: null } } } });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
}

async function restock(productId: string): Promise<string> {
  const eventKey = `wp-${productId}`;
  const event = inventoryEvent({ productId, product: { name: `Kettle ${productId}`, url: `https://shop.example/p/${productId}` } });
  expect((await pushDirect(d().functions.fanOutRestock, { data: event, messageId: eventKey })).status).toBe(200);
  return eventKey;
}

/** The event's ledger once it has `n` entries, all final. */
async function settled(eventKey: string, n: number): Promise<(DeliveryDoc & { key: string })[]> {
  return waitFor(
    async () => {
      const entries = (await stack().firestore.collection(COLLECTIONS.deliveries).where('eventKey', '==', eventKey).get()).docs.map((s) => ({ ...(s.data() as DeliveryDoc), key: s.id }));
      return entries.length === n && entries.every((e) => ['sent', 'rejected', 'exhausted'].includes(e.state)) ? entries : undefined;
    },
    { timeoutMs: 120_000, what: `${n} settled ledger entries of ${eventKey}` },
  );
}

describe('web push on the real stack', () => {
  test('the stack sends webpush directly (a reused stack must run `npm start -- --channels webpush`)', () => {
    expect(d().env.RESTOCK_WEBPUSH_SENDER).toBe('webpush');
  });

  test('a subscribed browser is told once; the decrypted payload carries the product and its unsubscribe link', async () => {
    // Prepare
    const productId = uniqueProductId('webpush');
    const userId = `shopper-${randomUUID()}`;
    const [browser] = await webPushSubscriptions(d().webpush, 1);
    await subscribe(productId, userId, browser!);

    // Act
    const eventKey = await restock(productId);

    // Assess
    const [entry] = await settled(eventKey, 1);
    expect(entry).toMatchObject({ channel: 'webpush', state: 'sent' });
    const mine = (await received()).filter((m) => m.subscription === idOf(browser!));
    expect(mine.map((m) => m.status)).toEqual([201]);
    expect(mine[0]!.restockKey).toBe(entry!.key);
    const payload = JSON.parse(mine[0]!.payload!) as Record<string, string>;
    expect(payload).toMatchObject({ productId, title: 'Back in stock' });
    // The link is the tracked one (docs/funnel.md), issued for this product's page, this shopper and this channel.
    const link = payload.link!;
    expect(link.startsWith(`${d().env.RESTOCK_UNSUBSCRIBE_URL!.replace(/\/$/, '')}/v1/c/`)).toBe(true);
    expect(openClickToken(link.split('/v1/c/')[1]!, [LOCAL_UNSUBSCRIBE_SECRET], { nowMs: Date.now(), maxAgeMs: 86_400_000 })).toMatchObject({
      url: `https://shop.example/p/${productId}`,
      productId,
      channel: 'webpush',
    });
    expect(payload.body).toContain(`Kettle ${productId}`);
    expect(payload.unsubscribeUrl!.startsWith(`${d().env.RESTOCK_UNSUBSCRIBE_URL!.replace(/\/$/, '')}/v1/unsubscribe/`)).toBe(true);
    expect(mine[0]).toMatchObject({ vapidSubject: d().env.RESTOCK_WEBPUSH_SUBJECT, topic: payload.restockKey!.slice(0, 32) });
  });

  test('503 and 429 past the in-call retries still end in exactly one delivered push', async () => {
    const productId = uniqueProductId('webpush-faults');
    const [browser] = await webPushSubscriptions(d().webpush, 1);
    await subscribe(productId, `shopper-${randomUUID()}`, browser!);
    // The sender tries three times a call (RESTOCK_NOTIFIER_RETRIES=2): four refusals reach Cloud Tasks' retry.
    for (const fault of [{ status: 503, times: 3 }, { status: 429, times: 1, retryAfterSeconds: 0 }]) {
      expect((await fetch(`${d().webpush}/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ subscription: idOf(browser!), ...fault }) })).status).toBe(201);
    }

    const [entry] = await settled(await restock(productId), 1);

    expect(entry!.state).toBe('sent');
    const statuses = (await received()).filter((m) => m.subscription === idOf(browser!)).map((m) => m.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s !== 201)).toEqual([503, 503, 503, 429]);
  });

  test('a gone subscription (410) is rejected as a dead address, not retried, and removed from the other products', async () => {
    // Prepare: the shopper waits for two products with the same browser, whose subscription has expired.
    const productId = uniqueProductId('webpush-gone');
    const otherProduct = uniqueProductId('webpush-gone-other');
    const userId = `shopper-${randomUUID()}`;
    const [gone] = await webPushSubscriptions(d().webpush, 1, true);
    await subscribe(productId, userId, gone!);
    await subscribe(otherProduct, userId, gone!);

    // Act
    const [entry] = await settled(await restock(productId), 1);

    // Assess
    expect(entry).toMatchObject({ channel: 'webpush', state: 'rejected' });
    const db = stack().firestore;
    await waitFor(async () => ((await subscriptionsRef(db, otherProduct).doc(userId).get()).exists ? undefined : true), { timeoutMs: 60_000, what: 'the other subscription removed' });
    // Given time for a retry that must not come, the push service saw one request.
    await new Promise((r) => setTimeout(r, 3_000));
    expect((await received()).filter((m) => m.subscription === idOf(gone!)).map((m) => m.status)).toEqual([410]);
  });
});
