/**
 * Stock state across a product's life (issue 4, docs/design.md promise 5): shoppers
 * subscribe through the real API while it is sold out, a restock tells them
 * once, the API refuses newcomers while it is in stock, it sells out, new and
 * returning shoppers subscribe, the next restock tells exactly them — and
 * redelivered or out-of-order events tell nobody.
 */
import { describe, expect, test } from 'vitest';
import { inventoryEvent, pushDirect, stack, uniqueProductId, waitFor } from '../../helpers/index.ts';
import { ownersOf } from './assertions.ts';

async function subscribe(productId: string, userId: string): Promise<number> {
  const res = await fetch(`${stack().description.functions.restockSubscriptions}v1/products/${productId}/subscriptions/${userId}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ channels: { email: `${userId}@example.com` } }),
  });
  await res.body?.cancel();
  return res.status;
}

async function send(productId: string, messageId: string, available: number, previousAvailable: number, sequence: number) {
  const res = await pushDirect(stack().description.functions.fanOutRestock, {
    data: inventoryEvent({ productId, available, previousAvailable, sequence }),
    messageId,
  });
  expect(res.status).toBe(200);
  return res.json() as Promise<{ outcome: string; reason?: string }>;
}

/** Who was told by which restock, as `eventKey user/channel`: each key the sink delivered, named by its ledger entry. */
async function sentKeys(productId: string, n: number): Promise<string[]> {
  await waitFor(async () => (await stack().sink.stats(productId)).delivered >= n, { what: `${n} deliveries` });
  await new Promise((r) => setTimeout(r, 500));
  const sent = (await stack().sink.notifications(productId)).filter((r) => r.status === 'sent');
  const owners = await ownersOf(sent.map((r) => r.idempotencyKey));
  return sent.map((r) => `${r.eventKey} ${owners.get(r.idempotencyKey)}`).sort();
}

describe('a product that sells out and is restocked twice', () => {
  test('each restock tells exactly the shoppers waiting then; in-stock subscribing, redeliveries and stale events tell nobody', async () => {
    const productId = uniqueProductId('cycle');

    // Sold out (the first event sets the state); Ann and Ben subscribe.
    expect(await send(productId, 'e1', 0, 3, 1)).toMatchObject({ outcome: 'ignored' });
    expect(await subscribe(productId, 'ann')).toBe(201);
    expect(await subscribe(productId, 'ben')).toBe(201);

    // First restock: Ann and Ben are told, once.
    expect(await send(productId, 'e2', 5, 0, 2)).toMatchObject({ outcome: 'completed' });
    expect(await sentKeys(productId, 2)).toEqual(['e2 ann/email', 'e2 ben/email']);

    // In stock: a newcomer is refused.
    expect(await subscribe(productId, 'cat')).toBe(409);

    // Sells out; Cat subscribes, Ann comes back.
    expect(await send(productId, 'e3', 0, 5, 3)).toMatchObject({ outcome: 'ignored' });
    expect(await subscribe(productId, 'cat')).toBe(201);
    expect(await subscribe(productId, 'ann')).toBe(201);

    // The first restock redelivered, and an old event republished under a new id: nothing.
    expect(await send(productId, 'e2', 5, 0, 2)).toMatchObject({ outcome: 'duplicate' });
    expect(await send(productId, 'e2-replayed', 5, 0, 2)).toMatchObject({ outcome: 'ignored', reason: expect.stringMatching(/stale/) });

    // Second restock: Cat and Ann are told; Ben, who did not come back, is not.
    expect(await send(productId, 'e4', 8, 0, 4)).toMatchObject({ outcome: 'completed' });
    const keys = await sentKeys(productId, 4);
    expect(keys).toEqual(['e2 ann/email', 'e2 ben/email', 'e4 ann/email', 'e4 cat/email']);
    expect((await stack().sink.stats(productId)).duplicateKeys).toBe(0);
  });

  test('events arriving out of order: the newest sequence wins and older ones never notify', async () => {
    const productId = uniqueProductId('order');
    expect(await send(productId, 'o1', 0, 2, 10)).toMatchObject({ outcome: 'ignored' });
    expect(await subscribe(productId, 'dan')).toBe(201);

    // Sequence 12 (sold out again) arrives before 11 (a restock): 11 is stale and must not notify.
    expect(await send(productId, 'o3', 0, 0, 12)).toMatchObject({ outcome: 'ignored' });
    expect(await send(productId, 'o2', 4, 0, 11)).toMatchObject({ outcome: 'ignored', reason: expect.stringMatching(/stale/) });
    await new Promise((r) => setTimeout(r, 1000));
    expect((await stack().sink.stats(productId)).items).toBe(0);

    // The real next restock notifies.
    expect(await send(productId, 'o4', 4, 0, 13)).toMatchObject({ outcome: 'completed' });
    expect(await sentKeys(productId, 1)).toEqual(['o4 dan/email']);
  });
});
