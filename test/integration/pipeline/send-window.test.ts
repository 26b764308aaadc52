/**
 * Send windows on the real stack (issue 33, promise 18): a fan-out and a
 * delivery function of their own run with RESTOCK_SEND_WINDOW set to a window
 * that opens a minute or two into the test (computed from the clock), over the
 * shared emulators, Cloud Tasks emulator and sink. Shoppers whose window is
 * open are told at once; the others receive nothing until it opens (their
 * delivery waits in a Cloud Task scheduled for it), then exactly once; a
 * sell-out before it opens sends nothing and keeps them subscribed; and a
 * chunk that failed between holding and enqueuing loses nobody.
 *
 * The three tests run concurrently so they share one wait for the opening.
 */
import type { CloudTasksClient } from '@google-cloud/tasks';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { deliverChunk } from '../../../lib/delivery/index.ts';
import { SIGNUP_REPLACED_ERROR } from '../../../lib/delivery/rules.ts';
import { COLLECTIONS, type DeliveryDoc } from '../../../lib/model.ts';
import { createNotifier } from '../../../lib/notify/index.ts';
import { formatSendWindow } from '../../../lib/send-window.ts';
import { deliveryTaskFor, EnqueueError } from '../../../lib/tasks/index.ts';
import { freePort } from '../../../emulators/stack/ports.ts';
import type { StatusReport } from '../../../cli/commands/status.ts';
import { restockJson } from '../../helpers/cli.ts';
import { startFunction, type FunctionProcess } from '../../helpers/function-process.ts';
import { inventoryEvent, pushDirect, seedSubscribers, stack, uniqueProductId, waitFor } from '../../helpers/index.ts';
import { runtimeFor } from '../faults/support.ts';
import { remainingSubscribers } from './assertions.ts';

const MINUTE = 60_000;
/** Time to start two functions on a loaded machine and hold everyone before the window opens. */
const LEAD_MS = 100_000;

let opensAtMs: number;
let window: string;
let delivery: FunctionProcess;
let fanout: FunctionProcess;
let deliveryUrl: string;

beforeAll(async () => {
  // A window in UTC that opens at the first whole minute at least LEAD_MS away and lasts three hours: a shopper
  // one hour east of UTC (Etc/GMT-1) is inside it now, one on UTC (named or by default) waits for it.
  opensAtMs = Math.ceil((Date.now() + LEAD_MS) / MINUTE) * MINUTE;
  const startMinute = new Date(opensAtMs).getUTCHours() * 60 + new Date(opensAtMs).getUTCMinutes();
  window = formatSendWindow({ startMinute, endMinute: (startMinute + 180) % 1440 });
  const port = await freePort();
  deliveryUrl = `http://127.0.0.1:${port}/`;
  // Its held tasks come back to itself: RESTOCK_DELIVERY_URL is its own URL (and the audience it verifies).
  [delivery, fanout] = await Promise.all([
    startFunction('deliverRestockBatch', { RESTOCK_SEND_WINDOW: window, RESTOCK_DEFAULT_TIME_ZONE: 'UTC', RESTOCK_DELIVERY_URL: deliveryUrl }, port),
    startFunction('fanOutRestock', { RESTOCK_DELIVERY_URL: deliveryUrl }),
  ]);
}, 180_000);

afterAll(() => {
  delivery?.stop();
  fanout?.stop();
});

async function ledgerOf(eventKey: string): Promise<DeliveryDoc[]> {
  const snap = await stack().firestore.collection(COLLECTIONS.deliveries).where('eventKey', '==', eventKey).get();
  return snap.docs.map((d) => d.data() as DeliveryDoc);
}

async function setTimeZones(productId: string, userIds: readonly string[], timeZone: string): Promise<void> {
  const batch = stack().firestore.batch();
  for (const u of userIds) batch.update(stack().firestore.collection(COLLECTIONS.products).doc(productId).collection(COLLECTIONS.subscriptions).doc(u), { timeZone });
  await batch.commit();
}

async function restock(productId: string, eventKey: string): Promise<void> {
  const event = inventoryEvent({ productId, available: 25, previousAvailable: 0, sequence: 2 });
  expect((await pushDirect(fanout.url, { data: event, messageId: eventKey })).status).toBe(200);
}

function heldUntilTheOpening(entries: readonly DeliveryDoc[]): boolean {
  return entries.every((e) => e.state === 'held' && e.heldUntilMs === opensAtMs);
}

describe.concurrent('send windows (RESTOCK_SEND_WINDOW)', () => {
  test('shoppers outside their window receive nothing until it opens, then exactly once; those inside are told at once', async () => {
    // Prepare: 20 shoppers an hour east of UTC (inside), 10 on the default zone and 10 on a named UTC zone (outside).
    const productId = uniqueProductId('window');
    const eventKey = `window-${productId}`;
    const subs = await seedSubscribers(productId, 40);
    const inside = subs.slice(0, 20).map((s) => s.userId);
    const outside = subs.slice(20).map((s) => s.userId);
    await setTimeZones(productId, inside, 'Etc/GMT-1');
    await setTimeZones(productId, outside.slice(0, 10), 'Africa/Abidjan');

    // Act
    await restock(productId, eventKey);

    // Assess: before the opening, only those inside were told; the others are held for the opening and subscribed.
    await waitFor(async () => (await stack().sink.notifications(productId)).length === 20, { what: 'the 20 inside their window told', timeoutMs: 60_000 });
    await waitFor(async () => (await ledgerOf(eventKey)).filter((e) => e.state === 'held').length === 20, { what: '20 held' });
    const held = (await ledgerOf(eventKey)).filter((e) => e.state === 'held');
    expect(heldUntilTheOpening(held)).toBe(true);
    expect(new Set(held.map((e) => e.userId))).toEqual(new Set(outside));
    expect(Date.now(), 'the test held them before the window opened').toBeLessThan(opensAtMs);
    expect(new Set((await stack().sink.notifications(productId)).map((r) => r.userId))).toEqual(new Set(inside));
    expect(await remainingSubscribers(productId)).toBe(20);

    // Then, once it opens: each held shopper once, not before the opening.
    await waitFor(async () => (await stack().sink.notifications(productId)).length >= 40, { what: 'the held shoppers told', timeoutMs: opensAtMs - Date.now() + 90_000 });
    await new Promise((r) => setTimeout(r, 2_000));
    const records = await stack().sink.notifications(productId);
    expect(records).toHaveLength(40);
    expect(records.every((r) => r.requests === 1)).toBe(true);
    expect(new Set(records.map((r) => r.userId)).size).toBe(40);
    for (const r of records.filter((r) => outside.includes(r.userId!))) expect(r.firstReceivedAtMs).toBeGreaterThanOrEqual(opensAtMs);
    await waitFor(async () => (await ledgerOf(eventKey)).filter((e) => e.state === 'sent').length === 40, { what: 'ledger: 40 sent' });
    await waitFor(async () => (await remainingSubscribers(productId)) === 0, { what: 'subscriptions removed' });
    // A held send is no chunk of the fan-out: the receipts are the fan-out's chunks, none more (restock status counts unaccounted chunks from them).
    const fanoutRef = stack().firestore.collection(COLLECTIONS.fanouts).doc(eventKey);
    expect((await fanoutRef.collection(COLLECTIONS.chunkReceipts).get()).size).toBe((await fanoutRef.get()).get('chunks'));
  }, 300_000);

  test('a sell-out before the window opens sends nothing, keeps everyone subscribed, and restock status counts them skipped', async () => {
    // Prepare
    const productId = uniqueProductId('window-sold');
    const eventKey = `window-${productId}`;
    await seedSubscribers(productId, 20);
    await restock(productId, eventKey);
    await waitFor(async () => {
      const entries = await ledgerOf(eventKey);
      return entries.length === 20 && heldUntilTheOpening(entries);
    }, { what: '20 held', timeoutMs: 60_000 });
    const status = await restockJson<StatusReport>(['status', eventKey, '--json'], { stack: stack().description, timeoutMs: 60_000 });
    expect(status.sendWindows).toEqual({ held: 20, skippedSoldOut: 0, skippedSuperseded: 0 });
    expect(status.settled, 'held sends wait in queued tasks: the event is not settled').toBe(false);

    // Act: the product sells out again while they wait.
    const soldOut = inventoryEvent({ productId, available: 0, previousAvailable: 25, sequence: 3 });
    expect((await pushDirect(fanout.url, { data: soldOut, messageId: `${eventKey}-sold-out` })).status).toBe(200);
    expect(Date.now(), 'the sell-out came before the window opened').toBeLessThan(opensAtMs);

    // Assess: when the held send comes due, the stock check stops it.
    await waitFor(async () => (await ledgerOf(eventKey)).filter((e) => e.state === 'soldOutBeforeSend' && e.skipped === 'sold-out').length === 20, {
      what: '20 skipped at the opening',
      timeoutMs: opensAtMs - Date.now() + 90_000,
    });
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await stack().sink.notifications(productId)).toEqual([]);
    expect(await remainingSubscribers(productId)).toBe(20);
    const after = await restockJson<StatusReport>(['status', eventKey, '--json'], { stack: stack().description, timeoutMs: 60_000 });
    expect(after.sendWindows).toEqual({ held: 0, skippedSoldOut: 20, skippedSuperseded: 0 });
  }, 300_000);

  test('a shopper who subscribes anew while held is told once at the opening, and the old sign-up\'s held entry closes: nothing stays held', async () => {
    // Prepare: five shoppers held for the opening.
    const productId = uniqueProductId('window-renew');
    const eventKey = `window-${productId}`;
    const subs = await seedSubscribers(productId, 5);
    await restock(productId, eventKey);
    await waitFor(async () => {
      const entries = await ledgerOf(eventKey);
      return entries.length === 5 && heldUntilTheOpening(entries);
    }, { what: '5 held', timeoutMs: 60_000 });

    // Act: one of them unsubscribes and subscribes again while held (a new sign-up: a new createdAtMs, new keys).
    const renewed = subs[0]!.userId;
    const nowMs = Date.now();
    await stack().firestore.collection(COLLECTIONS.products).doc(productId).collection(COLLECTIONS.subscriptions).doc(renewed).update({ createdAtMs: nowMs, updatedAtMs: nowMs });
    expect(Date.now(), 'the new sign-up came before the window opened').toBeLessThan(opensAtMs);

    // Assess: at the opening each shopper is told once; the replaced sign-up's entry is closed, not left held.
    await waitFor(async () => (await stack().sink.notifications(productId)).length >= 5, { what: 'the held shoppers told', timeoutMs: opensAtMs - Date.now() + 90_000 });
    await new Promise((r) => setTimeout(r, 2_000));
    const records = await stack().sink.notifications(productId);
    expect(records).toHaveLength(5);
    expect(records.every((r) => r.requests === 1 && r.firstReceivedAtMs >= opensAtMs)).toBe(true);
    await waitFor(async () => (await ledgerOf(eventKey)).filter((e) => e.state === 'sent').length === 5, { what: 'ledger: 5 sent' });
    const entries = await ledgerOf(eventKey);
    expect(entries.filter((e) => e.state === 'held')).toEqual([]);
    expect(entries.filter((e) => e.state !== 'sent')).toEqual([expect.objectContaining({ userId: renewed, state: 'unsubscribed', lastError: SIGNUP_REPLACED_ERROR })]);
  }, 300_000);

  test('a chunk that fails between holding its shoppers and enqueuing their delayed task loses nobody: its retry enqueues it', async () => {
    // Prepare: a delivery runtime on the stack's emulators whose first task creation is refused.
    const productId = uniqueProductId('window-crash');
    const eventKey = `window-${productId}`;
    const subs = await seedSubscribers(productId, 10, { product: { available: 25, sequence: 2 } });
    const rt = runtimeFor(stack(), { ...(stack().description.env as Record<string, string>), RESTOCK_SEND_WINDOW: window, RESTOCK_DELIVERY_URL: deliveryUrl });
    let refusals = 0;
    const real = rt.tasks;
    rt.tasks = new Proxy(real, {
      get(target, prop, receiver) {
        if (prop !== 'createTask') return Reflect.get(target, prop, receiver);
        return (...args: Parameters<CloudTasksClient['createTask']>) => {
          if (refusals++ === 0) return Promise.reject(Object.assign(new Error('7 PERMISSION_DENIED: injected'), { code: 7 }));
          return target.createTask(...args);
        };
      },
    });
    const notifier = createNotifier(rt.config, rt.log);
    const task = deliveryTaskFor({ eventKey, productId, generation: 0, product: { available: 25 } }, subs.map((s) => s.userId));

    // Act: the first attempt holds everyone, then cannot enqueue; Cloud Tasks would retry it.
    await expect(deliverChunk(rt, notifier, task, { retryCount: 0 }, rt.log)).rejects.toBeInstanceOf(EnqueueError);
    const afterCrash = await ledgerOf(eventKey);
    expect(afterCrash).toHaveLength(10);
    expect(heldUntilTheOpening(afterCrash)).toBe(true);
    const retry = await deliverChunk(rt, notifier, task, { retryCount: 1 }, rt.log);

    // Assess: the retry held them again and enqueued one delayed task; at the opening each is told once.
    expect(retry).toMatchObject({ settled: true, held: 10, heldTasks: 1, sent: 0 });
    expect(await stack().sink.notifications(productId)).toEqual([]);
    await waitFor(async () => (await stack().sink.notifications(productId)).length >= 10, { what: 'the held shoppers told', timeoutMs: opensAtMs - Date.now() + 90_000 });
    await new Promise((r) => setTimeout(r, 2_000));
    const records = await stack().sink.notifications(productId);
    expect(records).toHaveLength(10);
    expect(records.every((r) => r.requests === 1 && r.firstReceivedAtMs >= opensAtMs)).toBe(true);
    await waitFor(async () => (await remainingSubscribers(productId)) === 0, { what: 'subscriptions removed' });
  }, 300_000);
});
