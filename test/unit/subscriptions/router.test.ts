import { describe, expect, it } from 'vitest';
import type { HttpReply, HttpRequestLike } from '../../../lib/http/index.ts';
import { Logger } from '../../../lib/log.ts';
import { createSubscriptionApi } from '../../../lib/subscriptions/index.ts';
import { MemorySubscriptionStore } from './memory-store.ts';

const JSON_HEADERS = { 'content-type': 'application/json' };

function setup(settings: Partial<{ restockThreshold: number; maxSubscriptionsPerUser: number; maxBodyBytes: number }> = {}) {
  const store = new MemorySubscriptionStore();
  let now = 1_000;
  const lines: string[] = [];
  const api = createSubscriptionApi({
    store,
    settings: { restockThreshold: 0, maxSubscriptionsPerUser: 3, maxBodyBytes: 1024, ...settings },
    nowMs: () => now,
    logger: new Logger({}, 'DEBUG', (line) => lines.push(line)),
  });
  const call = (method: string, url: string, body?: unknown, headers: Record<string, string> = JSON_HEADERS) =>
    api({
      method,
      url,
      headers,
      rawBody: body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
    } satisfies HttpRequestLike);
  return { store, api, call, lines, tick: (ms: number) => (now += ms) };
}

const json = (reply: HttpReply) => JSON.parse(reply.body ?? 'null') as Record<string, unknown>;

function expectProblem(reply: HttpReply, status: number, type: string) {
  expect(reply.status).toBe(status);
  expect(reply.headers['content-type']).toBe('application/problem+json');
  const body = json(reply);
  expect(body).toMatchObject({ status, type: `tag:restock-fanout,2026:problem:${type}` });
  expect(typeof body.title).toBe('string');
  expect(typeof body.detail).toBe('string');
  return body;
}

describe('PUT /v1/products/{productId}/subscriptions/{userId}', () => {
  it('creates a subscription: 201, Location, the channels set but not their addresses', async () => {
    // Prepare
    const { call, store } = setup();

    // Act
    const reply = await call('PUT', '/v1/products/sku-1/subscriptions/u1', { channels: { email: 'ann@example.com' }, locale: 'en-gb' });

    // Assess
    expect(reply.status).toBe(201);
    expect(reply.headers.location).toBe('/v1/products/sku-1/subscriptions/u1');
    expect(json(reply)).toEqual({
      productId: 'sku-1',
      userId: 'u1',
      channels: ['email'],
      locale: 'en-GB',
      createdAtMs: 1000,
      updatedAtMs: 1000,
      // Every subscription carries its consent record; without double opt-in the address needs no confirmation.
      consent: { givenAtMs: 1000, storefront: 'anonymous', channels: { email: 'not-required' } },
    });
    expect(reply.body).not.toContain('ann@example.com');
    expect(await store.getSubscription('sku-1', 'u1')).toMatchObject({ channels: { email: 'ann@example.com' } });
  });

  it('is idempotent: the same request again answers 200 and writes nothing', async () => {
    // Prepare
    const { call, store, tick } = setup();
    const body = { channels: { push: 'tok' } };
    await call('PUT', '/v1/products/p/subscriptions/u', body);
    tick(5_000);

    // Act
    const again = await call('PUT', '/v1/products/p/subscriptions/u', body);

    // Assess
    expect(again.status).toBe(200);
    expect(json(again)).toMatchObject({ createdAtMs: 1000, updatedAtMs: 1000 });
    expect(store.writes).toBe(1);
  });

  it('updates changed channels: 200, createdAtMs kept, updatedAtMs moved, the old channel gone', async () => {
    // Prepare
    const { call, store, tick } = setup();
    await call('PUT', '/v1/products/p/subscriptions/u', { channels: { email: 'a@example.com' } });
    tick(500);

    // Act
    const reply = await call('PUT', '/v1/products/p/subscriptions/u', { channels: { push: 'tok' } });

    // Assess
    expect(reply.status).toBe(200);
    expect(json(reply)).toMatchObject({ channels: ['push'], createdAtMs: 1000, updatedAtMs: 1500 });
    expect((await store.getSubscription('p', 'u'))?.channels).toEqual({ push: 'tok' });
  });

  it('refuses a product in stock with 409 product-in-stock naming productId', async () => {
    // Prepare
    const { call, store } = setup({ restockThreshold: 2 });
    store.setProduct('p', 3);

    // Act
    const reply = await call('PUT', '/v1/products/p/subscriptions/u', { channels: { push: 't' } });

    // Assess
    const problem = expectProblem(reply, 409, 'product-in-stock');
    expect(problem.detail).toContain('in stock');
    expect(problem.errors).toEqual([expect.objectContaining({ parameter: 'productId' })]);
    expect(store.subscriptions.size).toBe(0);
  });

  it('accepts a product at the threshold (not in stock) and an unknown product', async () => {
    // Prepare
    const { call, store } = setup({ restockThreshold: 2 });
    store.setProduct('low', 2);

    // Act
    const low = await call('PUT', '/v1/products/low/subscriptions/u', { channels: { push: 't' } });
    const unknown = await call('PUT', '/v1/products/never-seen/subscriptions/u', { channels: { push: 't' } });

    // Assess
    expect([low.status, unknown.status]).toEqual([201, 201]);
  });

  it('lets an existing subscription be updated while the product is in stock', async () => {
    // Prepare
    const { call, store } = setup();
    await call('PUT', '/v1/products/p/subscriptions/u', { channels: { push: 't' } });
    store.setProduct('p', 10);

    // Act
    const reply = await call('PUT', '/v1/products/p/subscriptions/u', { channels: { push: 't2' } });

    // Assess
    expect(reply.status).toBe(200);
  });

  it('caps active subscriptions per user with 409 subscription-limit-reached, but still allows updates', async () => {
    // Prepare
    const { call } = setup({ maxSubscriptionsPerUser: 2 });
    await call('PUT', '/v1/products/a/subscriptions/u', { channels: { push: 't' } });
    await call('PUT', '/v1/products/b/subscriptions/u', { channels: { push: 't' } });

    // Act
    const third = await call('PUT', '/v1/products/c/subscriptions/u', { channels: { push: 't' } });
    const update = await call('PUT', '/v1/products/a/subscriptions/u', { channels: { push: 'new' } });
    const otherUser = await call('PUT', '/v1/products/c/subscriptions/v', { channels: { push: 't' } });

    // Assess
    expect(expectProblem(third, 409, 'subscription-limit-reached')).toMatchObject({ limit: 2 });
    expect([update.status, otherUser.status]).toEqual([200, 201]);
  });

  it.each([
    ['no content type', {}, 415, 'unsupported-media-type', { header: 'content-type' }],
    ['text/plain', { 'content-type': 'text/plain' }, 415, 'unsupported-media-type', { header: 'content-type' }],
    ['a non-UTF-8 charset', { 'content-type': 'application/json; charset=iso-8859-1' }, 415, 'unsupported-media-type', { header: 'content-type' }],
  ])('refuses %s', async (_name, headers, status, type, where) => {
    // Prepare
    const { call } = setup();

    // Act
    const reply = await call('PUT', '/v1/products/p/subscriptions/u', { channels: { push: 't' } }, headers);

    // Assess
    expect(expectProblem(reply, status, type).errors).toEqual([expect.objectContaining(where)]);
  });

  it('accepts application/json with charset=utf-8 in any case', async () => {
    const { call } = setup();
    const reply = await call('PUT', '/v1/products/p/subscriptions/u', { channels: { push: 't' } }, { 'content-type': 'Application/JSON; Charset="UTF-8"' });
    expect(reply.status).toBe(201);
  });

  it('refuses a body over maxBodyBytes with 413 and the limit', async () => {
    // Prepare
    const { call } = setup({ maxBodyBytes: 100 });

    // Act
    const reply = await call('PUT', '/v1/products/p/subscriptions/u', { channels: { push: 'x'.repeat(200) } });

    // Assess
    expect(expectProblem(reply, 413, 'body-too-large')).toMatchObject({ maxBytes: 100 });
  });

  it.each([
    ['malformed JSON', '{"channels": {', 'malformed-json'],
    ['an empty body', '', 'malformed-json'],
    ['a JSON array', '[]', 'malformed-json'],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0x7d]).toString('latin1'), 'malformed-json'],
  ])('refuses %s with 400', async (_name, body, type) => {
    const { call } = setup();
    const reply = await call('PUT', '/v1/products/p/subscriptions/u', body);
    expect(expectProblem(reply, 400, type).errors).toEqual([expect.objectContaining({ pointer: '#' })]);
  });

  it('refuses invalid fields with 400 invalid-request listing each', async () => {
    // Prepare
    const { call } = setup();

    // Act
    const reply = await call('PUT', '/v1/products/p/subscriptions/u', { channels: { email: 'nope' }, extra: 1 });

    // Assess
    const problem = expectProblem(reply, 400, 'invalid-request');
    expect((problem.errors as { pointer: string }[]).map((e) => e.pointer).sort()).toEqual(['#/channels/email', '#/extra']);
  });

  it('refuses query parameters on PUT', async () => {
    const { call } = setup();
    const reply = await call('PUT', '/v1/products/p/subscriptions/u?force=true', { channels: { push: 't' } });
    expect(expectProblem(reply, 400, 'invalid-request').errors).toEqual([expect.objectContaining({ parameter: 'force' })]);
  });
});

describe('ids in the path', () => {
  it.each([
    ['an encoded slash', '/v1/products/a%2Fb/subscriptions/u', 'productId'],
    ['a reserved name', '/v1/products/p/subscriptions/__x__', 'userId'],
    ['dot-dot', '/v1/products/%2E%2E/subscriptions/u', 'productId'],
    ['broken percent-encoding', '/v1/products/p/subscriptions/%E0%A4%A', 'userId'],
    ['an empty id', '/v1/products//subscriptions/u', 'productId'],
    ['a control character', '/v1/users/a%00b/subscriptions', 'userId'],
  ])('refuses %s with 400 naming the parameter', async (_name, url, parameter) => {
    const { call } = setup();
    const reply = await call(url.startsWith('/v1/users') ? 'GET' : 'DELETE', url);
    expect(expectProblem(reply, 400, 'invalid-request').errors).toEqual([expect.objectContaining({ parameter })]);
  });

  it('decodes percent-encoded ids (an email as a user id)', async () => {
    // Prepare
    const { call, store } = setup();

    // Act
    const reply = await call('PUT', '/v1/products/sku%201/subscriptions/ann%40example.com', { channels: { push: 't' } });

    // Assess
    expect(reply.status).toBe(201);
    expect(reply.headers.location).toBe('/v1/products/sku%201/subscriptions/ann%40example.com');
    expect(await store.getSubscription('sku 1', 'ann@example.com')).toBeDefined();
  });
});

describe('GET and DELETE of one subscription', () => {
  it('GET answers the subscription, then 404 subscription-not-found after DELETE', async () => {
    // Prepare
    const { call } = setup();
    await call('PUT', '/v1/products/p/subscriptions/u', { channels: { push: 't' } });

    // Act
    const before = await call('GET', '/v1/products/p/subscriptions/u');
    const deleted = await call('DELETE', '/v1/products/p/subscriptions/u');
    const after = await call('GET', '/v1/products/p/subscriptions/u');

    // Assess
    expect(before.status).toBe(200);
    expect(json(before)).toMatchObject({ productId: 'p', userId: 'u', channels: ['push'] });
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBeUndefined();
    expectProblem(after, 404, 'subscription-not-found');
  });

  it('DELETE is idempotent: deleting what is not there is 204 too', async () => {
    const { call } = setup();
    const reply = await call('DELETE', '/v1/products/p/subscriptions/nobody');
    expect(reply.status).toBe(204);
  });
});

describe('GET /v1/users/{userId}/subscriptions', () => {
  it('pages through all of a user’s subscriptions in product order, nextPageToken null at the end', async () => {
    // Prepare
    const { call } = setup({ maxSubscriptionsPerUser: 10 });
    for (const p of ['c', 'a', 'e', 'b', 'd']) await call('PUT', `/v1/products/${p}/subscriptions/u`, { channels: { push: 't' } });
    await call('PUT', '/v1/products/a/subscriptions/other', { channels: { push: 't' } });

    // Act
    const seen: string[][] = [];
    let token: string | null = null;
    do {
      const url = `/v1/users/u/subscriptions?pageSize=2${token ? `&pageToken=${token}` : ''}`;
      const reply = await call('GET', url);
      expect(reply.status).toBe(200);
      const body = json(reply) as { subscriptions: { productId: string }[]; nextPageToken: string | null };
      seen.push(body.subscriptions.map((s) => s.productId));
      token = body.nextPageToken;
    } while (token);

    // Assess
    expect(seen).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('answers an empty list with a null token for a user with none', async () => {
    const { call } = setup();
    expect(json(await call('GET', '/v1/users/nobody/subscriptions'))).toEqual({ subscriptions: [], nextPageToken: null });
  });

  it('gives no token when the last page is exactly full', async () => {
    // Prepare
    const { call } = setup();
    await call('PUT', '/v1/products/a/subscriptions/u', { channels: { push: 't' } });
    await call('PUT', '/v1/products/b/subscriptions/u', { channels: { push: 't' } });

    // Act
    const body = json(await call('GET', '/v1/users/u/subscriptions?pageSize=2'));

    // Assess
    expect(body.nextPageToken).toBeNull();
  });

  it.each([
    ['pageSize=0', 'pageSize'],
    ['pageSize=abc', 'pageSize'],
    ['pageToken=%21%21', 'pageToken'],
    ['limit=5', 'limit'],
  ])('refuses %s naming the parameter', async (query, parameter) => {
    const { call } = setup();
    const reply = await call('GET', `/v1/users/u/subscriptions?${query}`);
    expect(expectProblem(reply, 400, 'invalid-request').errors).toEqual([expect.objectContaining({ parameter })]);
  });
});

describe('GET /v1/products/{productId}/subscriptions?count=true', () => {
  it('counts the subscriptions of one product', async () => {
    // Prepare
    const { call } = setup();
    for (const u of ['u1', 'u2', 'u3']) await call('PUT', `/v1/products/p/subscriptions/${u}`, { channels: { push: 't' } });
    await call('PUT', '/v1/products/other/subscriptions/u1', { channels: { push: 't' } });

    // Act
    const reply = await call('GET', '/v1/products/p/subscriptions?count=true');

    // Assess
    expect(json(reply)).toEqual({ productId: 'p', count: 3 });
  });

  it('refuses to list a product’s subscribers (count missing) naming count', async () => {
    const { call } = setup();
    const reply = await call('GET', '/v1/products/p/subscriptions');
    expect(expectProblem(reply, 400, 'invalid-request').errors).toEqual([expect.objectContaining({ parameter: 'count' })]);
  });
});

describe('unknown routes and wrong methods', () => {
  it.each([['/'], ['/v2/users/u/subscriptions'], ['/v1/users/u/subscriptions/'], ['/v1/products/p'], ['/v1/products/p/subscriptions/u/extra']])(
    '%s is 404 not-found',
    async (url) => {
      const { call } = setup();
      expectProblem(await call('GET', url), 404, 'not-found');
    },
  );

  it.each([
    ['POST', '/v1/products/p/subscriptions/u', 'PUT, GET, DELETE, HEAD'],
    ['PATCH', '/v1/products/p/subscriptions/u', 'PUT, GET, DELETE, HEAD'],
    ['DELETE', '/v1/users/u/subscriptions', 'GET, HEAD'],
    ['PUT', '/v1/products/p/subscriptions', 'GET, HEAD'],
  ])('%s %s is 405 with Allow', async (method, url, allow) => {
    const { call } = setup();
    const reply = await call(method, url);
    expectProblem(reply, 405, 'method-not-allowed');
    expect(reply.headers.allow).toBe(allow);
  });

  it('answers HEAD like GET', async () => {
    const { call } = setup();
    expect((await call('HEAD', '/v1/users/u/subscriptions')).status).toBe(200);
  });
});

describe('unexpected failures', () => {
  it('answer a bare 500 problem, with no internals, and log the error', async () => {
    // Prepare
    const { api, store, lines } = setup();
    store.countSubscriptionsOfProduct = async () => {
      throw new Error('secret internal detail at /srv/app.js:12');
    };

    // Act
    const reply = await api({ method: 'GET', url: '/v1/products/p/subscriptions?count=true', headers: {} });

    // Assess
    expectProblem(reply, 500, 'internal');
    expect(reply.body).not.toContain('secret');
    expect(lines.some((l) => l.includes('"severity":"ERROR"') && l.includes('secret internal detail'))).toBe(true);
  });
});
