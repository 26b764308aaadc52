/**
 * The inventory stand-in (emulators/inventory), as a client of it sees it: a
 * stock update answers with the stored item and its staged eventId, the item
 * reads back, bad input is refused as problem+json naming the field, and a
 * restock through it reaches the shoppers (the demo's path).
 */
import { describe, expect, test } from 'vitest';
import { seedSubscribers, stack, uniqueProductId, waitFor } from '../../helpers/index.ts';
import { outboxRow, putStock } from './support.ts';

const inventory = () => stack().description.inventory;

async function call(method: string, path: string, body?: string, contentType = 'application/json') {
  const res = await fetch(`${inventory()}${path}`, { method, headers: body === undefined ? {} : { 'content-type': contentType }, ...(body === undefined ? {} : { body }) });
  return { status: res.status, contentType: res.headers.get('content-type'), body: (await res.json()) as Record<string, unknown> };
}

describe('the inventory stand-in', () => {
  test('stores each stock update with the next sequence, stages its event, and reads the item back', async () => {
    const productId = uniqueProductId('stand-in');

    const first = await putStock(inventory(), productId, { available: 0, name: 'Trail Runner 2', url: 'https://shop.example/p/1' });
    const second = await putStock(inventory(), productId, { available: 9 });
    const read = await call('GET', `/v1/products/${productId}/stock`);

    expect(first.status).toBe(200);
    expect(second.body).toMatchObject({ productId, available: 9, sequence: 2, name: 'Trail Runner 2', eventId: expect.any(String) });
    expect(read).toMatchObject({ status: 200, body: { productId, available: 9, sequence: 2 } });
    const row = await waitFor(async () => {
      const r = await outboxRow(stack().inventoryFirestore, second.body.eventId!);
      return r?.state === 'sent' ? r : undefined;
    }, { what: 'the second change to be published' });
    expect(row.event).toMatchObject({ productId, available: 9, previousAvailable: 0, sequence: 2, product: { name: 'Trail Runner 2', url: 'https://shop.example/p/1' } });
  });

  test.each([
    ['a negative level', 'PUT', '/v1/products/p-1/stock', '{"available":-3}', 'application/json', 400, { pointer: '#/available' }],
    ['a level that is not a number', 'PUT', '/v1/products/p-1/stock', '{"available":"3"}', 'application/json', 400, { pointer: '#/available' }],
    ['an unknown field', 'PUT', '/v1/products/p-1/stock', '{"available":3,"colour":"red"}', 'application/json', 400, { pointer: '#/colour' }],
    ['a URL that is not one', 'PUT', '/v1/products/p-1/stock', '{"available":3,"url":"nope"}', 'application/json', 400, { pointer: '#/url' }],
    ['a product id that cannot be a document id', 'PUT', '/v1/products/__x__/stock', '{"available":3}', 'application/json', 400, { parameter: 'productId' }],
    ['malformed JSON', 'PUT', '/v1/products/p-1/stock', '{"available":', 'application/json', 400, undefined],
    ['another media type', 'PUT', '/v1/products/p-1/stock', 'available=3', 'text/plain', 415, undefined],
    ['an unknown route', 'GET', '/v1/nothing-here', undefined, 'application/json', 404, undefined],
    ['another method', 'DELETE', '/v1/products/p-1/stock', undefined, 'application/json', 405, undefined],
  ] as const)('refuses %s as problem+json', async (_, method, path, body, contentType, status, where) => {
    const answer = await call(method, path, body, contentType);

    expect(answer.status).toBe(status);
    expect(answer.contentType).toBe('application/problem+json');
    expect(answer.body).toMatchObject({ status, type: expect.stringMatching(/^tag:restock-fanout,2026:problem:/), detail: expect.any(String) });
    if (where) expect((answer.body.errors as Record<string, unknown>[])[0]).toMatchObject(where);
  });

  test('answers 404 problem+json for a product it never stored', async () => {
    const answer = await call('GET', `/v1/products/${uniqueProductId('never')}/stock`);

    expect(answer).toMatchObject({ status: 404, contentType: 'application/problem+json' });
  });

  test('a restock through it reaches every waiting shopper once', async () => {
    // Prepare: the pipeline knows the product sold out; three shoppers wait.
    const productId = uniqueProductId('stand-in-restock');
    await seedSubscribers(productId, 3, { product: { available: 0, sequence: 0 } });

    // Act
    const answer = await putStock(inventory(), productId, { available: 4, name: 'Restocked boot' });

    // Assess
    expect(answer.status).toBe(200);
    const stats = await waitFor(async () => {
      const s = await stack().sink.stats(productId);
      return s.delivered >= 3 ? s : undefined;
    }, { timeoutMs: 60_000, what: 'three notifications' });
    expect(stats).toMatchObject({ delivered: 3, duplicateKeys: 0 });
  });
});
