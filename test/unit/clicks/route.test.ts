import { describe, expect, test } from 'vitest';
import { Logger } from '../../../lib/log.ts';
import { ShopperActionPublishError, type ShopperAction } from '../../../lib/shopper-actions/index.ts';
import { createUnsubscribeApi, sealClickToken } from '../../../lib/unsubscribe/index.ts';

const KEYS = ['k'.repeat(40)];
const NOW = 1_800_000_000_000;
const BROWSER = { 'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148' };
const CLAIMS = { eventKey: 'ev-1', productId: 'lamp', userId: 'ann', channel: 'push' as const, wave: 3, url: 'https://shop.example/p/lamp', issuedAtMs: NOW - 60_000 };
const TOKEN = sealClickToken(CLAIMS, KEYS);

/** The public function's handler with tracked links on, over a publisher that records (or fails with `fail`), logging into `lines`. */
function api(fail?: Error) {
  const published: ShopperAction[] = [];
  const lines: string[] = [];
  const publisher = {
    publish: async (action: ShopperAction) => {
      if (fail) throw fail;
      published.push(action);
    },
  };
  const logger = new Logger({}, 'INFO', (line) => lines.push(line));
  const handle = createUnsubscribeApi({ publisher, keys: KEYS, tokenMaxAgeMs: 86_400_000, maxBodyBytes: 1024, nowMs: () => NOW, logger, clicks: { tokenMaxAgeMs: 90 * 86_400_000, prefetchSeconds: 5, utmSource: 'restock' } });
  return { published, lines, handle };
}

describe('the tracked link route', () => {
  test("a shopper's GET publishes the click of that notification and redirects to the product with UTM", async () => {
    const { published, handle } = api();
    const reply = await handle({ method: 'GET', url: `/v1/c/${TOKEN}`, headers: BROWSER });
    expect(reply.status).toBe(302);
    expect(reply.headers.location).toBe('https://shop.example/p/lamp?utm_source=restock&utm_medium=push&utm_campaign=ev-1');
    expect(reply.headers['cache-control']).toBe('no-store');
    expect(published).toEqual([{ type: 'click', eventKey: 'ev-1', productId: 'lamp', userId: 'ann', channel: 'push', wave: 3, requestedAtMs: NOW }]);
  });

  test('HEAD is redirected alike and publishes nothing', async () => {
    const { published, handle } = api();
    const reply = await handle({ method: 'HEAD', url: `/v1/c/${TOKEN}`, headers: BROWSER });
    expect(reply.status).toBe(302);
    expect(reply.body).toBeUndefined();
    expect(published).toEqual([]);
  });

  test('when the click cannot be published the shopper is still redirected, and the failure is logged without the user id', async () => {
    const { lines, handle } = api(new ShopperActionPublishError({ cause: new Error('topic down') }));
    const reply = await handle({ method: 'GET', url: `/v1/c/${TOKEN}`, headers: BROWSER });
    expect(reply.status).toBe(302);
    const failure = lines.find((l) => l.includes('click not recorded'));
    expect(failure).toBeDefined();
    expect(failure).not.toContain('"ann"');
  });

  test('POST is not allowed; a token that does not open is a page, never a redirect', async () => {
    const { published, handle } = api();
    expect((await handle({ method: 'POST', url: `/v1/c/${TOKEN}`, headers: BROWSER })).status).toBe(405);
    const broken = await handle({ method: 'GET', url: `/v1/c/${TOKEN.slice(0, -5)}AAAAA`, headers: BROWSER });
    expect(broken.status).toBe(400);
    expect(broken.headers.location).toBeUndefined();
    expect(broken.headers['content-type']).toMatch(/^text\/html/);
    expect(broken.body).toContain('This link is not valid');
    expect(published).toEqual([]);
  });

  test('without tracked links configured the route does not exist', async () => {
    const handle = createUnsubscribeApi({ publisher: { publish: async () => {} }, keys: KEYS, tokenMaxAgeMs: 86_400_000, maxBodyBytes: 1024, nowMs: () => NOW, logger: new Logger({}, 'ERROR', () => {}) });
    expect((await handle({ method: 'GET', url: `/v1/c/${TOKEN}`, headers: BROWSER })).status).toBe(404);
  });
});
