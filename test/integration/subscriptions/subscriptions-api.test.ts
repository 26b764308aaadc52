/**
 * The subscription API over real HTTP: functions-framework serving
 * `restockSubscriptions` on the Firestore emulator (the shared stack).
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../lib/config.ts';
import { stack } from '../../helpers/index.ts';
import { send } from './http-client.ts';

/** The settings the function under test runs with (the shared stack's environment, defaults filled in). */
const settings = parseConfig(stack().description.env);
const MAX_PER_USER = settings.maxSubscriptionsPerUser;
const THRESHOLD = settings.restockThreshold;
const baseUrl = () => stack().description.functions.restockSubscriptions.replace(/\/$/, '');
const db = () => stack().firestore;

const api = (method: string, path: string, options?: Parameters<typeof send>[3]) => send(baseUrl(), method, path, options);
const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;


async function seedProduct(productId: string, available: number) {
  await db().doc(`products/${productId}`).set({ productId, available, sequence: 7, updatedAtMs: Date.now() });
}

describe('PUT /v1/products/{productId}/subscriptions/{userId}', () => {
  it('creates the document fan-out reads, with exactly the model’s fields, and answers 201 without addresses', async () => {
    // Prepare
    const [productId, userId] = [unique('sku'), unique('user')];

    // Act
    const res = await api('PUT', `/v1/products/${productId}/subscriptions/${userId}`, {
      json: { channels: { email: 'ann@example.com', push: 'fcm-token-1' }, locale: 'de-de' },
    });

    // Assess
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe(`/v1/products/${productId}/subscriptions/${userId}`);
    expect(res.body).toEqual({
      productId,
      userId,
      channels: ['email', 'push'],
      locale: 'de-DE',
      createdAtMs: expect.any(Number),
      updatedAtMs: res.body.createdAtMs,
      // The consent record (issue 32): the shared stack runs without double opt-in, so no address needed confirming.
      consent: { givenAtMs: res.body.createdAtMs, storefront: 'anonymous', channels: { email: 'not-required', push: 'not-required' } },
    });
    expect(res.text).not.toContain('ann@example.com');
    const stored = (await db().doc(`products/${productId}/restockSubscriptions/${userId}`).get()).data();
    expect(stored).toEqual({
      userId,
      productId,
      channels: { email: 'ann@example.com', push: 'fcm-token-1' },
      locale: 'de-DE',
      createdAtMs: res.body.createdAtMs,
      updatedAtMs: res.body.createdAtMs,
      consent: res.body.consent,
    });
  });

  it('is idempotent: repeating the request answers 200 and does not write the document again', async () => {
    // Prepare
    const path = `/v1/products/${unique('sku')}/subscriptions/${unique('user')}`;
    const request = { json: { channels: { push: 'tok' } } };
    const first = await api('PUT', path, request);
    const ref = db().doc(path.replace('/v1/', '').replace('/subscriptions/', '/restockSubscriptions/'));
    const writtenAt = (await ref.get()).updateTime;

    // Act
    const second = await api('PUT', path, request);

    // Assess
    expect([first.status, second.status]).toEqual([201, 200]);
    expect(second.body).toEqual(first.body);
    expect((await ref.get()).updateTime?.isEqual(writtenAt!)).toBe(true);
  });

  it('concurrent identical PUTs create once: one 201, the rest 200', async () => {
    // Prepare
    const path = `/v1/products/${unique('sku')}/subscriptions/${unique('user')}`;

    // Act
    const answers = await Promise.all(Array.from({ length: 5 }, () => api('PUT', path, { json: { channels: { push: 't' } } })));

    // Assess
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 201]);
  });

  it('updates the channels of an existing subscription: 200, createdAtMs kept', async () => {
    // Prepare
    const [productId, userId] = [unique('sku'), unique('user')];
    const path = `/v1/products/${productId}/subscriptions/${userId}`;
    const created = await api('PUT', path, { json: { channels: { email: 'old@example.com' } } });

    // Act
    const updated = await api('PUT', path, { json: { channels: { push: 'new-token' }, locale: 'fr' } });

    // Assess
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ channels: ['push'], locale: 'fr', createdAtMs: created.body.createdAtMs });
    const stored = (await db().doc(`products/${productId}/restockSubscriptions/${userId}`).get()).data();
    expect(stored?.channels).toEqual({ push: 'new-token' });
  });

  it('refuses a product in stock (available above the threshold) with 409 saying so', async () => {
    // Prepare
    const productId = unique('sku');
    await seedProduct(productId, THRESHOLD + 1);

    // Act
    const res = await api('PUT', `/v1/products/${productId}/subscriptions/${unique('user')}`, { json: { channels: { push: 't' } } });

    // Assess
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.body).toMatchObject({ type: 'tag:restock-fanout,2026:problem:product-in-stock', productId });
    expect(res.body.detail).toMatch(/is in stock/);
    expect((await db().collection(`products/${productId}/restockSubscriptions`).get()).size).toBe(0);
  });

  it('accepts a product at the threshold and one fan-out has never seen', async () => {
    // Prepare
    const atThreshold = unique('sku');
    await seedProduct(atThreshold, THRESHOLD);

    // Act
    const a = await api('PUT', `/v1/products/${atThreshold}/subscriptions/${unique('user')}`, { json: { channels: { push: 't' } } });
    const b = await api('PUT', `/v1/products/${unique('unseen')}/subscriptions/${unique('user')}`, { json: { channels: { push: 't' } } });

    // Assess
    expect([a.status, b.status]).toEqual([201, 201]);
  });

  it(`caps active subscriptions per user at RESTOCK_MAX_SUBSCRIPTIONS_PER_USER (${MAX_PER_USER}); a removal frees a place`, async () => {
    // Prepare
    const userId = unique('user');
    const products = Array.from({ length: MAX_PER_USER + 1 }, () => unique('sku'));
    for (const p of products.slice(0, MAX_PER_USER)) {
      expect((await api('PUT', `/v1/products/${p}/subscriptions/${userId}`, { json: { channels: { push: 't' } } })).status).toBe(201);
    }

    // Act
    const over = await api('PUT', `/v1/products/${products[MAX_PER_USER]}/subscriptions/${userId}`, { json: { channels: { push: 't' } } });
    await api('DELETE', `/v1/products/${products[0]}/subscriptions/${userId}`);
    const afterRemoval = await api('PUT', `/v1/products/${products[MAX_PER_USER]}/subscriptions/${userId}`, {
      json: { channels: { push: 't' } },
    });

    // Assess
    expect(over.status).toBe(409);
    expect(over.body).toMatchObject({ type: 'tag:restock-fanout,2026:problem:subscription-limit-reached', limit: MAX_PER_USER });
    expect(over.body.errors).toEqual([expect.objectContaining({ parameter: 'userId' })]);
    expect(afterRemoval.status).toBe(201);
  });
});

describe('GET and DELETE /v1/products/{productId}/subscriptions/{userId}', () => {
  it('DELETE removes the document and is idempotent (204 twice); GET then answers 404', async () => {
    // Prepare
    const [productId, userId] = [unique('sku'), unique('user')];
    const path = `/v1/products/${productId}/subscriptions/${userId}`;
    await api('PUT', path, { json: { channels: { push: 't' } } });
    const before = await api('GET', path);

    // Act
    const first = await api('DELETE', path);
    const second = await api('DELETE', path);
    const after = await api('GET', path);

    // Assess
    expect(before.status).toBe(200);
    expect([first.status, second.status]).toEqual([204, 204]);
    expect(first.text).toBe('');
    expect((await db().doc(`products/${productId}/restockSubscriptions/${userId}`).get()).exists).toBe(false);
    expect(after.status).toBe(404);
    expect(after.body.type).toBe('tag:restock-fanout,2026:problem:subscription-not-found');
  });
});

describe('the shopper record (shoppers/{userId}) that the cap counts from', () => {
  it('lists what the API subscribed, carries its expiry, and is deleted when the API removes its last product', async () => {
    // Prepare: one shopper on two products.
    const [a, b, userId] = [unique('sku'), unique('sku'), unique('user')];
    await api('PUT', `/v1/products/${a}/subscriptions/${userId}`, { json: { channels: { push: 't' } } });
    const before = Date.now();
    await api('PUT', `/v1/products/${b}/subscriptions/${userId}`, { json: { channels: { push: 't' } } });
    const record = db().doc(`shoppers/${userId}`);
    const listed = (await record.get()).data()!;
    expect(listed.productIds.sort()).toEqual([a, b].sort());
    // Expires 90 days after the last write, give or take the test's own time.
    const days = (listed.expireAt.toMillis() - before) / 86_400_000;
    expect(days).toBeGreaterThanOrEqual(90);
    expect(days).toBeLessThan(90.01);

    // Act 1: the first removal leaves one product listed.
    expect((await api('DELETE', `/v1/products/${a}/subscriptions/${userId}`)).status).toBe(204);
    expect((await record.get()).get('productIds')).toEqual([b]);

    // Act 2: the last removal ends the record.
    expect((await api('DELETE', `/v1/products/${b}/subscriptions/${userId}`)).status).toBe(204);
    expect((await record.get()).exists).toBe(false);
  });
});

describe('GET /v1/users/{userId}/subscriptions', () => {
  it('pages through one user’s subscriptions across products (collection-group query), and no one else’s', async () => {
    // Prepare
    const userId = unique('user');
    const products = ['a', 'b', 'c'].map((p) => `${p}-${unique('sku')}`);
    for (const p of products) await api('PUT', `/v1/products/${p}/subscriptions/${userId}`, { json: { channels: { push: 't' } } });
    await api('PUT', `/v1/products/${products[0]}/subscriptions/${unique('other')}`, { json: { channels: { push: 't' } } });

    // Act
    const pages: string[][] = [];
    let token: string | null = null;
    do {
      const res = await api('GET', `/v1/users/${userId}/subscriptions?pageSize=2${token ? `&pageToken=${token}` : ''}`);
      expect(res.status).toBe(200);
      pages.push(res.body.subscriptions.map((s: { productId: string }) => s.productId));
      token = res.body.nextPageToken;
    } while (token);

    // Assess
    expect(pages).toEqual([products.slice(0, 2), products.slice(2)]);
  });

  it('refuses a page token issued for another user', async () => {
    // Prepare
    const userId = unique('user');
    for (const p of ['a', 'b']) await api('PUT', `/v1/products/${p}-${unique('sku')}/subscriptions/${userId}`, { json: { channels: { push: 't' } } });
    const token = (await api('GET', `/v1/users/${userId}/subscriptions?pageSize=1`)).body.nextPageToken;

    // Act
    const res = await api('GET', `/v1/users/${unique('user')}/subscriptions?pageToken=${token}`);

    // Assess
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ parameter: 'pageToken', detail: 'was issued for another user' }]);
  });
});

describe('GET /v1/products/{productId}/subscriptions?count=true', () => {
  it('counts how many wait for a product', async () => {
    // Prepare
    const productId = unique('sku');
    for (let i = 0; i < 4; i++) await api('PUT', `/v1/products/${productId}/subscriptions/${unique('user')}`, { json: { channels: { push: 't' } } });

    // Act
    const res = await api('GET', `/v1/products/${productId}/subscriptions?count=true`);

    // Assess
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ productId, count: 4 });
  });
});
