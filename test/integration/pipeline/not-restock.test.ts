/**
 * Events that must not notify: stock that did not cross the threshold, and
 * events older than the stock state already seen (promise 5).
 */
import { describe, expect, test } from 'vitest';
import { COLLECTIONS, type ProductDoc } from '../../../lib/model.ts';
import { inventoryEvent, pushDirect, seedSubscribers, stack } from '../../helpers/index.ts';
import { fanoutDoc, remainingSubscribers } from './assertions.ts';

async function product(productId: string): Promise<ProductDoc | undefined> {
  return (await stack().firestore.collection(COLLECTIONS.products).doc(productId).get()).data() as ProductDoc | undefined;
}

describe('an event that is not a restock', () => {
  test('stock moving 3 → 7 enqueues nothing, notifies nobody, and leaves the stored stock alone (no threshold crossed, so no write to products/{id})', async () => {
    // Prepare
    const event = inventoryEvent({ available: 7, previousAvailable: 3, sequence: 5 });
    await seedSubscribers(event.productId, 30, { product: { available: 3, sequence: 4 } });

    // Act
    const res = await pushDirect(stack().description.functions.fanOutRestock, { data: event, messageId: `m-${event.productId}` });

    // Assess
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ outcome: 'ignored', reason: expect.stringMatching(/not a restock/) });
    expect(await fanoutDoc(`m-${event.productId}`)).toMatchObject({ state: 'ignored', chunks: 0, recipients: 0 });
    await new Promise((r) => setTimeout(r, 1000));
    expect((await stack().sink.stats(event.productId)).items).toBe(0);
    expect(await remainingSubscribers(event.productId)).toBe(30);
    // Without waves only a change that crosses the threshold is stored (lib/restock/rule.ts decideStockUpdate): a burst of sales must not write one document once each.
    expect(await product(event.productId)).toMatchObject({ available: 3, sequence: 4 });
  });

  test('a sell-out (5 → 0) notifies nobody', async () => {
    const event = inventoryEvent({ available: 0, previousAvailable: 5, sequence: 3 });
    await seedSubscribers(event.productId, 10, { product: { available: 5, sequence: 2 } });
    const res = await pushDirect(stack().description.functions.fanOutRestock, { data: event });
    expect(await res.json()).toMatchObject({ outcome: 'ignored' });
    expect(await remainingSubscribers(event.productId)).toBe(10);
    // A sell-out crosses the threshold: it is stored, so a later restock is judged against it.
    expect(await product(event.productId)).toMatchObject({ available: 0, sequence: 3 });
  });
});

describe('a stale event', () => {
  test('older than the stored sequence is ignored and changes no stock state, even if it looks like a restock', async () => {
    const event = inventoryEvent({ available: 10, previousAvailable: 0, sequence: 3 });
    await seedSubscribers(event.productId, 10, { product: { available: 0, sequence: 9 } });

    const res = await pushDirect(stack().description.functions.fanOutRestock, { data: event });

    expect(await res.json()).toMatchObject({ outcome: 'ignored', reason: expect.stringMatching(/stale/) });
    expect(await product(event.productId)).toMatchObject({ available: 0, sequence: 9 });
    await new Promise((r) => setTimeout(r, 1000));
    expect((await stack().sink.stats(event.productId)).items).toBe(0);
  });
});
