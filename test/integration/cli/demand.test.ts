/**
 * `restock demand` and `restock product demand`, run as the real binary
 * against the shared stack. Three sold-out products of this file, their
 * shoppers subscribed through the subscription API as a storefront would:
 * `hot` restocked once for 4 shoppers (one of whom bought), sold out again,
 * then 60 new shoppers; `mid` 30 shoppers, 7 of them moved to earlier days;
 * `low` 10 and never restocked.
 *
 * Other files on the shared stack have products of their own, some with
 * shoppers waiting: the listing is checked for what it promises of them too
 * (most waiting first), and a product of this file left out of it must be
 * left out for a reason the answer gives (stopped short, or --top products
 * with more waiting).
 */
import pLimit from 'p-limit';
import { beforeAll, describe, expect, test } from 'vitest';
import type { DemandReport, DemandRow, ProductDemandReport } from '../../../cli/commands/demand.ts';
import { COLLECTIONS, subscriptionsRef } from '../../../lib/model.ts';
import { restock, restockJson } from '../../helpers/cli.ts';
import { inventoryEvent, pushDirect, sink, stack, uniqueProductId, waitFor } from '../../helpers/index.ts';
import { send } from '../subscriptions/http-client.ts';

const DAY = 86_400_000;
const api = () => stack().description.functions.restockSubscriptions.replace(/\/$/, '');

/** Subscribes `n` shoppers (`<productId>-<tag><i>`) to `productId` through the API, 16 at once. */
async function subscribe(productId: string, n: number, tag: string): Promise<string[]> {
  const limit = pLimit(16);
  const ids = Array.from({ length: n }, (_, i) => `${productId}-${tag}${i}`);
  await Promise.all(
    ids.map((userId) =>
      limit(async () => {
        const res = await send(api(), 'PUT', `/v1/products/${productId}/subscriptions/${userId}`, { json: { channels: { email: `${userId}@example.com` } } });
        expect(res.status, `PUT ${userId}`).toBe(201);
      }),
    ),
  );
  return ids;
}

/** Pushes a stock event for `productId` to the fan-out, as Pub/Sub would. */
async function stock(productId: string, available: number, previousAvailable: number, sequence: number): Promise<void> {
  const res = await pushDirect(stack().description.functions.fanOutRestock, { data: inventoryEvent({ productId, available, previousAvailable, sequence }), messageId: `${productId}-s${sequence}` });
  expect(res.status).toBe(200);
}

/** Waits until the pipeline records `available` for `productId` (the API refuses sign-ups while it is in stock). */
async function recorded(productId: string, available: number): Promise<void> {
  await waitFor(async () => (await stack().firestore.collection(COLLECTIONS.products).doc(productId).get()).get('available') === available, { timeoutMs: 30_000, what: `${productId} at ${available}` });
}

describe('restock demand: what to restock first', () => {
  const s = stack();
  const hot = uniqueProductId('demand-hot');
  const mid = uniqueProductId('demand-mid');
  const low = uniqueProductId('demand-low');
  let restockKey: string;
  /** mid's sign-ups as stored, after some were moved to earlier days. */
  let midSignups: number[];

  beforeAll(async () => {
    // hot: 4 shoppers told by one restock, one buys, it sells out, 60 more wait.
    const first = await subscribe(hot, 4, 'a');
    await stock(hot, 25, 0, 2);
    const told = await waitFor(async () => {
      const r = await sink().notifications(hot);
      return r.length === 4 && r.every((x) => x.status === 'sent') ? r : undefined;
    }, { timeoutMs: 60_000, what: 'the restock of hot told' });
    restockKey = told[0]!.eventKey;
    // The sink answers before the ledger records the send; an order is attributed from the ledger.
    await restockJson(['status', restockKey, '--watch', '--interval', '300', '--timeout', '60'], { stack: s.description, timeoutMs: 70_000 });
    const bought = await send(api(), 'POST', '/v1/conversions', {
      json: { orderId: `${hot}-o1`, userId: first[0], productId: hot, valueMinor: 4999, currency: 'EUR', purchasedAt: new Date().toISOString() },
    });
    expect(bought.status).toBe(201);
    expect(bought.body.attribution).toBe('assisted');
    await stock(hot, 0, 25, 3);
    await recorded(hot, 0);
    // mid and low: first seen sold out (as a backfill of current stock would record them).
    await Promise.all([stock(mid, 0, 0, 1), stock(low, 0, 0, 1)]);
    await Promise.all([recorded(mid, 0), recorded(low, 0)]);
    await Promise.all([subscribe(hot, 60, 'b'), subscribe(mid, 30, 'b'), subscribe(low, 10, 'b')]);
    // Sign-ups of earlier days: five of mid's a day back, two three days back.
    const now = Date.now();
    const moved = [...Array(5).fill(now - DAY), ...Array(2).fill(now - 3 * DAY)] as number[];
    await Promise.all(moved.map((createdAtMs, i) => subscriptionsRef(s.firestore, mid).doc(`${mid}-b${i}`).update({ createdAtMs })));
    midSignups = (await subscriptionsRef(s.firestore, mid).get()).docs.map((d) => d.get('createdAtMs') as number);
  }, 180_000);

  /** How many of `signups` fall in each UTC day, keyed by the day's start. */
  const perDay = (signups: readonly number[]) => {
    const out = new Map<number, number>();
    for (const ms of signups) out.set(Math.floor(ms / DAY) * DAY, (out.get(Math.floor(ms / DAY) * DAY) ?? 0) + 1);
    return out;
  };

  test('product demand counts the shoppers waiting and lists the restock with what it sold: 1 purchase of 4 notified', async () => {
    const report = await restockJson<ProductDemandReport>(['product', 'demand', hot], { stack: s.description });
    expect(report.waiting).toBe(60);
    expect(report.available).toBe(0);
    // The sell-out's fan-out told nobody (ignored): only the restock is listed.
    expect(report.restocks).toHaveLength(1);
    expect(report.restocks[0]).toMatchObject({ eventKey: restockKey, state: 'complete', recipients: 4, conversion: 0.25 });
    expect(report.restocks[0]!.funnel).toEqual({ notified: 4, clicked: 0, purchased: { direct: 0, assisted: 1 }, revenueMinor: { EUR: 4999 } });
    const today = Math.floor(report.readAtMs / DAY) * DAY;
    expect(report.signupsPerDay).toHaveLength(30);
    expect(report.signupsPerDay.at(-1)).toEqual({ dayStartMs: today, signups: 60 });
  });

  test('product demand counts the sign-ups still waiting per UTC day', async () => {
    const report = await restockJson<ProductDemandReport>(['product', 'demand', mid], { stack: s.description });
    expect(report.waiting).toBe(30);
    expect(report.restocks).toEqual([]);
    const expected = perDay(midSignups);
    expect(report.signupsPerDay.filter((d) => d.signups > 0)).toEqual([...expected].sort(([a], [b]) => a - b).map(([dayStartMs, signups]) => ({ dayStartMs, signups })));
    expect([...expected.values()].sort((a, b) => a - b)).toEqual([2, 5, 23]);
  });

  test('demand ranks the products by shoppers waiting, each with its sign-ups per day and its last restock\u2019s conversion', async () => {
    const report = await restockJson<DemandReport>(['demand', '--top', '100'], { stack: s.description });
    const waiting = report.products.map((p) => p.waiting);
    expect(waiting).toEqual([...waiting].sort((a, b) => b - a));
    expect(report.products.every((p) => p.waiting > 0)).toBe(true);
    const rows = [hot, mid, low].map((id) => report.products.find((p) => p.productId === id));
    const expectedWaiting = [60, 30, 10];
    rows.forEach((row, i) => {
      if (row) return expect(row.waiting).toBe(expectedWaiting[i]);
      // Left out only for a reason the answer gives.
      expect(report.truncated || (report.products.length === 100 && report.products.at(-1)!.waiting >= expectedWaiting[i]!)).toBe(true);
    });
    const listed = rows.filter((r): r is DemandRow => r !== undefined);
    expect(listed.map((r) => r.productId)).toEqual([hot, mid, low].slice(0, listed.length));
    const [hotRow, midRow, lowRow] = rows;
    if (hotRow) {
      expect(hotRow.lastRestock).toMatchObject({ eventKey: restockKey, conversion: 0.25, funnel: { notified: 4, purchased: { direct: 0, assisted: 1 } } });
      expect(hotRow.signupsPerDay).toHaveLength(7);
    }
    if (midRow) {
      const expected = perDay(midSignups);
      expect(midRow.signupsPerDay.map((d) => d.signups)).toEqual(midRow.signupsPerDay.map((d) => expected.get(d.dayStartMs) ?? 0));
      expect(midRow.lastRestock).toBeNull();
    }
    if (lowRow) expect(lowRow).toMatchObject({ available: 0, lastRestock: null, waiting: 10 });
    expect(listed.length, 'at least hot is ranked').toBeGreaterThan(0);
  });

  test('--top N lists the N products with the most shoppers waiting', async () => {
    const report = await restockJson<DemandReport>(['demand', '--top', '2'], { stack: s.description });
    expect(report.products).toHaveLength(2);
    expect(report.products[0]!.waiting).toBeGreaterThanOrEqual(report.products[1]!.waiting);
    // hot has 60 waiting: unless the answer stopped short of it, nothing listed waits for fewer.
    if (!report.truncated) expect(report.products[1]!.waiting).toBeGreaterThanOrEqual(30);
    expect(report.withWaiting).toBeGreaterThanOrEqual(3);
  });

  test('the human answer has one line per product with its count and its last restock', async () => {
    const r = await restock(['demand', '--top', '100'], { stack: s.description });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`${hot}\\s+60 waiting\\s+stock 0\\s+sign-ups 7 d 60 \\(0 0 0 0 0 0 60\\)\\s+last restock \\S+: notified 4, clicked 0, purchased 1 \\(25.0 %\\), revenue EUR 49.99`));
    expect(r.stdout).toMatch(new RegExp(`${low}\\s+10 waiting\\s+stock 0\\s+.*never restocked`));
  });
});
