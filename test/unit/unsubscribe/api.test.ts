import { describe, expect, test } from 'vitest';
import { Logger } from '../../../lib/log.ts';
import { ShopperActionPublishError, type ShopperAction } from '../../../lib/shopper-actions/index.ts';
import { createUnsubscribeApi, sealUnsubscribeToken } from '../../../lib/unsubscribe/index.ts';

const KEYS = ['k'.repeat(40)];
const NOW = 1_800_000_000_000;
const TOKEN = sealUnsubscribeToken({ productId: 'lamp', userId: 'ann', generation: 7, issuedAtMs: NOW }, KEYS);
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const body = (s: string) => new TextEncoder().encode(s);

/** The API over a publisher that records what it is given (as `product/user`), or fails with `fail`. */
function api(fail?: Error, keys: string[] = KEYS) {
  const deleted: string[] = [];
  const published: ShopperAction[] = [];
  const publisher = {
    publish: async (action: ShopperAction) => {
      if (fail) throw fail;
      published.push(action);
      deleted.push(`${action.productId}/${action.userId}`);
    },
  };
  return { deleted, published, handle: createUnsubscribeApi({ publisher, keys, tokenMaxAgeMs: 86_400_000, maxBodyBytes: 1024, nowMs: () => NOW, logger: new Logger({}, 'ERROR', () => {}) }) };
}

describe('one-click unsubscribe', () => {
  test('POST with List-Unsubscribe=One-Click publishes the unsubscribe of that generation and answers 200 without redirect', async () => {
    const { published, handle } = api();
    const reply = await handle({ method: 'POST', url: `/v1/unsubscribe/${TOKEN}`, headers: FORM, rawBody: body('List-Unsubscribe=One-Click') });
    expect(reply.status).toBe(200);
    expect(reply.headers.location).toBeUndefined();
    expect(published).toEqual([{ type: 'unsubscribe', productId: 'lamp', userId: 'ann', generation: 7, requestedAtMs: NOW }]);
  });

  test('the multipart form of RFC 8058 works too', async () => {
    const { deleted, handle } = api();
    const form = new FormData();
    form.set('List-Unsubscribe', 'One-Click');
    const request = new Request('http://x/', { method: 'POST', body: form });
    const reply = await handle({ method: 'POST', url: `/v1/unsubscribe/${TOKEN}`, headers: { 'content-type': request.headers.get('content-type')! }, rawBody: new Uint8Array(await request.arrayBuffer()) });
    expect(reply.status).toBe(200);
    expect(deleted).toEqual(['lamp/ann']);
  });

  test('GET and HEAD show the confirmation page and never unsubscribe', async () => {
    const { deleted, handle } = api();
    const page = await handle({ method: 'GET', url: `/v1/unsubscribe/${TOKEN}?utm=x`, headers: {} });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<form method="post" action="">');
    expect(page.headers['content-security-policy']).toContain("form-action 'self'");
    expect((await handle({ method: 'HEAD', url: `/v1/unsubscribe/${TOKEN}`, headers: {} })).body).toBeUndefined();
    expect(deleted).toEqual([]);
  });

  test.each(['GET', 'POST'])('%s with a forged token is a problem and changes nothing', async (method) => {
    const { deleted, handle } = api();
    const forged = sealUnsubscribeToken({ productId: 'lamp', userId: 'ann', generation: 7, issuedAtMs: NOW }, ['f'.repeat(40)]);
    const reply = await handle({ method, url: `/v1/unsubscribe/${forged}`, headers: FORM, rawBody: body('List-Unsubscribe=One-Click') });
    expect(reply.status).toBe(400);
    expect(reply.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(reply.body!).type).toBe('tag:restock-fanout,2026:problem:invalid-unsubscribe-token');
    expect(deleted).toEqual([]);
  });

  test('a POST without the one-click body is refused naming List-Unsubscribe', async () => {
    const { deleted, handle } = api();
    const reply = await handle({ method: 'POST', url: `/v1/unsubscribe/${TOKEN}`, headers: FORM, rawBody: body('unsubscribe=yes') });
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body!).errors).toEqual([{ parameter: 'List-Unsubscribe', detail: 'must be One-Click (RFC 8058)' }]);
    expect(deleted).toEqual([]);
  });

  test('a JSON POST is 415; another method 405; another path 404', async () => {
    const { handle } = api();
    expect((await handle({ method: 'POST', url: `/v1/unsubscribe/${TOKEN}`, headers: { 'content-type': 'application/json' }, rawBody: body('{}') })).status).toBe(415);
    expect((await handle({ method: 'DELETE', url: `/v1/unsubscribe/${TOKEN}`, headers: {} })).status).toBe(405);
    expect((await handle({ method: 'GET', url: `/v1/products/lamp/subscriptions/ann`, headers: {} })).status).toBe(404);
  });

  test('without any key (email not sent over SMTP) every link is refused', async () => {
    const { deleted, handle } = api(undefined, []);
    const reply = await handle({ method: 'POST', url: `/v1/unsubscribe/${TOKEN}`, headers: FORM, rawBody: body('List-Unsubscribe=One-Click') });
    expect(reply.status).toBe(400);
    expect(deleted).toEqual([]);
  });

  test('the topic not taking the request is a 503 with Retry-After', async () => {
    const { handle } = api(new ShopperActionPublishError({ cause: new Error('down') }));
    const reply = await handle({ method: 'POST', url: `/v1/unsubscribe/${TOKEN}`, headers: FORM, rawBody: body('List-Unsubscribe=One-Click') });
    expect(reply.status).toBe(503);
    expect(reply.headers['retry-after']).toBe('1');
  });
});
