/**
 * Purchases on the real stack (issue 34): a restock fanned out to three
 * shoppers, one link followed, orders reported to the subscription API's
 * `POST /v1/conversions` (answers checked against its OpenAPI document),
 * attributed from the ledger and the clicks in Firestore.
 *
 * - an order after a clicked notification is direct, after one only received
 *   assisted, one outside the window or before any notification unattributed,
 *   and every one is recorded;
 * - a repeated order id is recorded once (16 at once too); the same id with
 *   other facts is a conflict; a bad body names its field;
 * - `restock status` shows the funnel per channel, adding up to the total.
 */
import { describe, expect, test } from 'vitest';
import { LOCAL_UNSUBSCRIBE_SECRET } from '../../../emulators/stack/index.ts';
import { orderKey } from '../../../lib/conversions/index.ts';
import { CHANNELS, COLLECTIONS, dedupKey, type ConversionDoc, type SubscriptionDoc } from '../../../lib/model.ts';
import { openClickToken } from '../../../lib/unsubscribe/index.ts';
import { inventoryEvent, pushDirect, seedSubscribers, sink, stack, uniqueProductId, waitFor } from '../../helpers/index.ts';
import { send } from '../subscriptions/http-client.ts';
import { restock, restockJson } from '../../helpers/cli.ts';
import type { StatusReport } from '../../../cli/queries/status.ts';

const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';
const DAY = 86_400_000;
const api = () => stack().description.functions.restockSubscriptions.replace(/\/$/, '');
const report = (json: unknown) => send(api(), 'POST', '/v1/conversions', { json });

/** Fans a restock of `productId` out and waits until its `n` notifications are sent at the sink; answers them. */
async function toldAll(productId: string, n: number) {
  const res = await pushDirect(stack().description.functions.fanOutRestock, { data: inventoryEvent({ productId }), messageId: `${productId}-s2` });
  expect(res.status).toBe(200);
  return waitFor(async () => {
    const r = await sink().notifications(productId);
    return r.length === n && r.every((x) => x.status === 'sent') ? r : undefined;
  }, { timeoutMs: 60_000, what: `${n} notifications of ${productId}` });
}

/** A fresh product restocked for `n` email shoppers, every one told; returns them and the event key. */
async function restocked(label: string, n: number): Promise<{ productId: string; shoppers: SubscriptionDoc[]; eventKey: string; links: Map<string, string> }> {
  const productId = uniqueProductId(label);
  // Shopper ids of their own: other tests (an erasure above all) must never touch the same shopper.
  const shoppers = await seedSubscribers(productId, n, { userIdPrefix: `${productId}-u` });
  const records = await toldAll(productId, n);
  return { productId, shoppers, eventKey: records[0]!.eventKey, links: new Map(records.map((r) => [r.userId!, r.clickUrl!])) };
}

/** Follows a shopper's link as a browser past the prefetch window, and waits for the click to be recorded. */
async function click(link: string): Promise<void> {
  const claims = openClickToken(link.split('/v1/c/')[1]!, [LOCAL_UNSUBSCRIBE_SECRET], { nowMs: Date.now(), maxAgeMs: DAY });
  await waitFor(() => Date.now() > claims.issuedAtMs + 5_500, { timeoutMs: 20_000, what: 'the prefetch window to pass' });
  const res = await fetch(link, { redirect: 'manual', headers: { 'user-agent': BROWSER } });
  expect(res.status).toBe(302);
  await waitFor(async () => (await stack().firestore.collection(COLLECTIONS.clicks).where('userId', '==', claims.userId).where('eventKey', '==', claims.eventKey).get()).size === 1, {
    timeoutMs: 30_000,
    what: 'the click recorded',
  });
}

const order = (productId: string, userId: string, orderId: string, purchasedAtMs = Date.now()) => ({
  orderId,
  userId,
  productId,
  valueMinor: 4999,
  currency: 'EUR',
  purchasedAt: new Date(purchasedAtMs).toISOString(),
});

describe('POST /v1/conversions', () => {
  test('an order after a clicked notification is direct, after one only received assisted, outside the window or before any unattributed; all recorded', { timeout: 180_000 }, async () => {
    // Prepare: Ann clicks her link; Bea does not; Cat's notification is moved 8 days back; Dan orders before any.
    const { productId, shoppers, eventKey, links } = await restocked('attr', 4);
    const [ann, bea, cat, dan] = shoppers as [SubscriptionDoc, SubscriptionDoc, SubscriptionDoc, SubscriptionDoc];
    await click(links.get(ann.userId)!);
    const catEntry = stack().firestore.collection(COLLECTIONS.deliveries).doc(dedupKey(cat, 'email'));
    await catEntry.update({ sentAtMs: Date.now() - 8 * DAY });
    const orders = {
      ann: order(productId, ann.userId, `${productId}-o-ann`),
      bea: order(productId, bea.userId, `${productId}-o-bea`),
      cat: order(productId, cat.userId, `${productId}-o-cat`),
      dan: order(productId, dan.userId, `${productId}-o-dan`, Date.now() - 60 * 60_000),
    };

    // Act
    const answers = Object.fromEntries(await Promise.all(Object.entries(orders).map(async ([who, o]) => [who, await report(o)] as const)));

    // Assess: the answers, and what Firestore holds.
    expect(answers.ann!.status).toBe(201);
    expect(answers.ann!.body).toMatchObject({ orderId: orders.ann.orderId, attribution: 'direct', eventKey, channel: 'email', valueMinor: 4999, currency: 'EUR' });
    expect(answers.bea!.body).toMatchObject({ attribution: 'assisted', eventKey, channel: 'email' });
    expect(answers.cat!.body).toEqual({ ...orders.cat, attribution: 'unattributed' });
    expect(answers.dan!.body).toMatchObject({ attribution: 'unattributed' });
    expect(answers.dan!.body.eventKey).toBeUndefined();
    for (const [who, o] of Object.entries(orders)) {
      const doc = (await stack().firestore.collection(COLLECTIONS.conversions).doc(orderKey(o.orderId)).get()).data() as ConversionDoc | undefined;
      expect(doc, who).toMatchObject({ orderId: o.orderId, userId: o.userId, productId, valueMinor: 4999, currency: 'EUR', attribution: answers[who]!.body.attribution });
    }
  });

  test('a repeated order id is recorded once, 16 at once too; the same id with other facts is a conflict naming the field', { timeout: 180_000 }, async () => {
    // Prepare
    const { productId, shoppers } = await restocked('idem', 1);
    const o = order(productId, shoppers[0]!.userId, `${productId}-o-1`);

    // Act
    const answers = await Promise.all(Array.from({ length: 16 }, () => report(o)));
    const again = await report(o);
    const conflict = await report({ ...o, valueMinor: 5999 });

    // Assess
    expect(answers.map((a) => a.status).sort()).toEqual([...Array(15).fill(200), 201]);
    expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(answers[0]!.body);
    expect(conflict.status).toBe(409);
    expect(conflict.body).toMatchObject({ type: expect.stringMatching(/conversion-conflict$/), errors: [{ pointer: '#/valueMinor' }] });
    const stored = await stack().firestore.collection(COLLECTIONS.conversions).where('productId', '==', productId).get();
    expect(stored.size).toBe(1);
    expect(stored.docs[0]!.get('valueMinor')).toBe(4999);
  });

  test('a bad order is refused naming each field and its problem', async () => {
    const answer = await report({ orderId: '', userId: 'a/b', productId: 'p', valueMinor: 19.99, currency: 'eur', purchasedAt: 'yesterday', coupon: 'X' });
    expect(answer.status).toBe(400);
    const problems = Object.fromEntries((answer.body.errors as { pointer: string; detail: string }[]).map((e) => [e.pointer, e.detail]));
    expect(problems).toMatchObject({
      '#/orderId': 'must not be empty',
      '#/valueMinor': expect.stringContaining('whole number'),
      '#/currency': expect.stringContaining('ISO 4217'),
      '#/purchasedAt': expect.stringContaining('RFC 3339'),
      '#/coupon': 'is not a known field',
    });
    expect(problems['#/userId']).toContain('document id');
    const future = await report({ orderId: 'o-future', userId: 'u', productId: 'p', valueMinor: 1, currency: 'JPY', purchasedAt: new Date(Date.now() + DAY).toISOString() });
    expect(future.status).toBe(400);
    expect(future.body.errors).toEqual([{ pointer: '#/purchasedAt', detail: 'must not be in the future' }]);
  });
});

describe('the funnel', () => {
  test('restock status counts notified, clicked, purchased and revenue per channel, adding up to the total', { timeout: 240_000 }, async () => {
    // Prepare: Ann and Bea on email and push, Cat on email only. Ann follows her email link, Bea her push link;
    // Ann, Bea and Cat order in three currencies; Dan, never told, orders too (unattributed, outside the funnel).
    const productId = uniqueProductId('funnel');
    const [ann, bea] = await seedSubscribers(productId, 2, { channels: ['email', 'push'], userIdPrefix: `${productId}-a` });
    const [cat] = await seedSubscribers(productId, 1, { channels: ['email'], userIdPrefix: `${productId}-c` });
    const records = await toldAll(productId, 5);
    const eventKey = records[0]!.eventKey;
    const linkOf = (userId: string, channel: string) => records.find((r) => r.userId === userId && r.channel === channel)!.clickUrl!;
    await Promise.all([click(linkOf(ann!.userId, 'email')), click(linkOf(bea!.userId, 'push'))]);
    const orders = [
      { ...order(productId, ann!.userId, `${productId}-o1`), valueMinor: 4999, currency: 'EUR' },
      { ...order(productId, bea!.userId, `${productId}-o2`), valueMinor: 1000, currency: 'USD' },
      { ...order(productId, cat!.userId, `${productId}-o3`), valueMinor: 2000, currency: 'JPY' },
      { ...order(productId, `${productId}-dan`, `${productId}-o4`), valueMinor: 700, currency: 'EUR' },
    ];
    const answers = await Promise.all(orders.map(report));
    expect(answers.map((a) => a.body.attribution)).toEqual(['direct', 'direct', 'assisted', 'unattributed']);

    // Act
    const status = await restockJson<StatusReport>(['status', eventKey, '--json'], { stack: stack().description });
    const human = await restock(['status', eventKey], { stack: stack().description, env: { NO_COLOR: '1' } });

    // Assess
    // Every channel of the table has its row; those this restock did not use are all zeros.
    const unused = { notified: 0, clicked: 0, purchased: { direct: 0, assisted: 0 }, revenueMinor: {} };
    expect(status.funnel!.byChannel).toEqual({
      ...Object.fromEntries(CHANNELS.map((c) => [c, unused])),
      email: { notified: 3, clicked: 1, purchased: { direct: 1, assisted: 1 }, revenueMinor: { EUR: 4999, JPY: 2000 } },
      push: { notified: 2, clicked: 1, purchased: { direct: 1, assisted: 0 }, revenueMinor: { USD: 1000 } },
    });
    expect(status.funnel!.total).toEqual({ notified: 5, clicked: 2, purchased: { direct: 2, assisted: 1 }, revenueMinor: { EUR: 4999, JPY: 2000, USD: 1000 } });
    expect(status.funnel!.byWave).toBeUndefined();
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/email\s+notified 3\s+clicked 1\s+purchased 2 \(direct 1, assisted 1\)\s+revenue EUR 49\.99, JPY 2,000/);
    expect(human.stdout).toMatch(/all\s+notified 5\s+clicked 2\s+purchased 3 \(direct 2, assisted 1\)\s+revenue EUR 49\.99, JPY 2,000, USD 10\.00/);
  });
});

describe("a shopper's clicks and orders are personal data", () => {
  test('the export includes them; erasure removes the user id and order id from them, keeps the funnel, and a click in flight writes nothing back', { timeout: 240_000 }, async () => {
    // Prepare: Eve follows her email link and orders.
    const productId = uniqueProductId('erase');
    const [eve] = await seedSubscribers(productId, 1, { channels: ['email', 'push'], userIdPrefix: `${productId}-eve` });
    const records = await toldAll(productId, 2);
    const eventKey = records[0]!.eventKey;
    await click(records.find((r) => r.channel === 'email')!.clickUrl!);
    const placed = order(productId, eve!.userId, `${productId}-order-eve`);
    expect((await report(placed)).body.attribution).toBe('direct');
    const shopperPath = `/v1/shoppers/${encodeURIComponent(eve!.userId)}`;

    // Act 1: export.
    const exported = await send(api(), 'GET', shopperPath);

    // Assess 1
    expect(exported.status).toBe(200);
    expect(exported.body.clicks).toEqual([expect.objectContaining({ eventKey, productId, channel: 'email' })]);
    expect(exported.body.orders).toEqual([expect.objectContaining({ orderId: placed.orderId, productId, valueMinor: 4999, currency: 'EUR', attribution: 'direct', eventKey })]);

    // Act 2: erase, then the push link is followed (a click in flight, or a forwarded mail).
    const erased = await send(api(), 'DELETE', shopperPath);
    const push = records.find((r) => r.channel === 'push')!.clickUrl!;
    const pushClaims = openClickToken(push.split('/v1/c/')[1]!, [LOCAL_UNSUBSCRIBE_SECRET], { nowMs: Date.now(), maxAgeMs: DAY });
    await waitFor(() => Date.now() > pushClaims.issuedAtMs + 5_500, { timeoutMs: 20_000, what: 'the prefetch window to pass' });
    expect((await fetch(push, { redirect: 'manual', headers: { 'user-agent': BROWSER } })).status).toBe(302);
    await new Promise((r) => setTimeout(r, 5_000));

    // Assess 2: nothing in clicks or conversions names Eve or her order; the funnel still counts them.
    expect(erased.status).toBe(200);
    expect(erased.body.counts).toMatchObject({ clicksPseudonymised: 1, ordersPseudonymised: 1 });
    for (const collection of [COLLECTIONS.clicks, COLLECTIONS.conversions]) {
      const docs = (await stack().firestore.collection(collection).where('productId', '==', productId).get()).docs;
      expect(docs.length, collection).toBe(1);
      const text = JSON.stringify(docs.map((d) => d.data()));
      expect(text, collection).not.toContain(eve!.userId);
      expect(text, collection).not.toContain(placed.orderId);
    }
    const status = await restockJson<StatusReport>(['status', eventKey, '--json'], { stack: stack().description });
    expect(status.funnel!.total).toMatchObject({ clicked: 1, purchased: { direct: 1, assisted: 0 }, revenueMinor: { EUR: 4999 } });
    const again = await send(api(), 'GET', shopperPath);
    expect(again.body).toMatchObject({ clicks: [], orders: [] });
  });
});
