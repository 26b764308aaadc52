/**
 * The `webpush` sender's reading of a push service's answers: 404/410 kill
 * the subscription, 429/5xx are retried honouring Retry-After, our own VAPID
 * refused (401/403) is retried and never blamed on the shopper, another 4xx
 * rejects this message only. The requests it makes carry what RFC 8030/8291/
 * 8292 require, and never name the endpoint in a reason.
 */
import { createECDH, randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { classifyWebPushAnswer, WebPushNotifier, type WebPushNotifierOptions } from '../../../lib/notify/webpush.ts';
import type { Notification } from '../../../lib/notify/types.ts';

const NOW = 1_700_000_000_000;

describe('classifyWebPushAnswer', () => {
  test.each([
    [201, null, { outcome: 'sent' }],
    [202, null, { outcome: 'sent' }],
    [404, null, { outcome: 'rejected', reason: 'webpush 404 subscription gone', deadAddress: true }],
    [410, null, { outcome: 'rejected', reason: 'webpush 410 subscription gone', deadAddress: true }],
    [429, '7', { outcome: 'retry', reason: 'webpush 429', retryAfterMs: 7000 }],
    [500, null, { outcome: 'retry', reason: 'webpush 500' }],
    [503, '2', { outcome: 'retry', reason: 'webpush 503', retryAfterMs: 2000 }],
    [401, null, { outcome: 'retry', reason: 'webpush 401 VAPID credentials refused' }],
    [403, null, { outcome: 'retry', reason: 'webpush 403 VAPID credentials refused' }],
    [400, null, { outcome: 'rejected', reason: 'webpush 400', deadAddress: false }],
    [413, null, { outcome: 'rejected', reason: 'webpush 413', deadAddress: false }],
    [301, null, { outcome: 'retry', reason: 'webpush 301' }],
  ])('%i (Retry-After %s) is %o', (status, retryAfter, verdict) => {
    expect(classifyWebPushAnswer(status, retryAfter, NOW)).toEqual(verdict);
  });
});

/** A subscription with a real P-256 key, as a browser makes one. */
function subscription(endpoint = 'https://push.example.net/wpush/opaque-1'): string {
  const ecdh = createECDH('prime256v1');
  return JSON.stringify({ endpoint, keys: { p256dh: ecdh.generateKeys().toString('base64url'), auth: randomBytes(16).toString('base64url') } });
}

const note = (to: string, key = 'a'.repeat(64)): Notification => ({
  idempotencyKey: key,
  channel: 'webpush',
  to,
  userId: 'u1',
  subscriptionCreatedAtMs: NOW,
  template: 'restock',
  data: { eventKey: 'e', productId: 'p1', available: 2 },
});

/** A notifier over a fetch that answers `statuses` in turn and records each request. */
function notifier(statuses: number[], over: Partial<WebPushNotifierOptions> = {}) {
  const requests: { url: string; headers: Record<string, string>; bytes: number }[] = [];
  const options: WebPushNotifierOptions = {
    vapid: { subject: 'mailto:ops@shop.example', publicKey: 'BDHzfHbFzAFcPEtEgIPKNwtmfs6tgDHWEyEFpMNmT8gKVXKTALOw2yHt10cdNSOlAwemaHAWg2VxduX62fL2Jig', privateKey: 'iNZDU8CmwCwvARcmfigexKM3PdbJut0gTNZoEmksl3c' },
    ttlSeconds: 600,
    urgency: 'normal',
    unsubscribeBaseUrl: 'https://unsub.example',
    unsubscribeKeys: ['k'.repeat(40)],
    timeoutMs: 1000,
    retries: 2,
    maxRetryAfterMs: 50,
    concurrency: 2,
    allowHttp: false,
    fetch: (async (url: string, init: RequestInit) => {
      requests.push({ url, headers: init.headers as Record<string, string>, bytes: (init.body as Uint8Array).length });
      return new Response(null, { status: statuses[Math.min(requests.length - 1, statuses.length - 1)]! });
    }) as typeof fetch,
    ...over,
  };
  return { sender: new WebPushNotifier(options), requests };
}

describe('WebPushNotifier', () => {
  test('a request carries the encrypted body, VAPID, TTL, Urgency and a Topic from the dedup key', async () => {
    const { sender, requests } = notifier([201]);
    expect(await sender.send([note(subscription())])).toEqual([{ idempotencyKey: 'a'.repeat(64), status: 'sent' }]);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.url).toBe('https://push.example.net/wpush/opaque-1');
    expect(requests[0]!.headers).toMatchObject({ 'Content-Encoding': 'aes128gcm', TTL: '600', Urgency: 'normal', Topic: 'a'.repeat(32) });
    expect(requests[0]!.headers.Authorization).toMatch(/^vapid t=[\w-]+\.[\w-]+\.[\w-]+, k=BDHzfHb/);
  });

  test('410 is a dead address after one request', async () => {
    const { sender, requests } = notifier([410]);
    expect(await sender.send([note(subscription())])).toEqual([{ idempotencyKey: 'a'.repeat(64), status: 'rejected', reason: 'webpush 410 subscription gone', deadAddress: true }]);
    expect(requests).toHaveLength(1);
  });

  test('5xx is retried in the call, and left to the queue as retry when it persists, the endpoint unnamed', async () => {
    const { sender, requests } = notifier([503]);
    const [result] = await sender.send([note(subscription())]);
    expect(result).toEqual({ idempotencyKey: 'a'.repeat(64), status: 'retry', reason: 'webpush 503' });
    expect(requests).toHaveLength(3);
  });

  test('429 then 201 is sent', async () => {
    const { sender, requests } = notifier([429, 201]);
    expect((await sender.send([note(subscription())]))[0]!.status).toBe('sent');
    expect(requests).toHaveLength(2);
  });

  test('a redirect is never followed: the request is made once, with redirect manual, and the 3xx left to the queue', async () => {
    const inits: RequestInit[] = [];
    const { sender } = notifier([], {
      retries: 0,
      fetch: (async (_url: string, init: RequestInit) => {
        inits.push(init);
        return new Response(null, { status: 307, headers: { location: 'http://169.254.169.254/computeMetadata/v1/' } });
      }) as typeof fetch,
    });
    expect(await sender.send([note(subscription())])).toEqual([{ idempotencyKey: 'a'.repeat(64), status: 'retry', reason: 'webpush 307' }]);
    expect(inits.map((i) => i.redirect)).toEqual(['manual']);
  });

  test('a Retry-After date is read against the notifier\'s clock: a minute away is left to the queue after one request', async () => {
    const { sender, requests } = notifier([], {
      nowMs: () => NOW,
      fetch: (async (url: string) => {
        requests.push({ url, headers: {}, bytes: 0 });
        return new Response(null, { status: 503, headers: { 'retry-after': new Date(NOW + 60_000).toUTCString() } });
      }) as typeof fetch,
    });
    expect(await sender.send([note(subscription())])).toEqual([{ idempotencyKey: 'a'.repeat(64), status: 'retry', reason: 'webpush 503' }]);
    expect(requests).toHaveLength(1);
  });

  test('an http endpoint is not called outside the emulators; an address that is no subscription is rejected', async () => {
    const { sender, requests } = notifier([201]);
    const results = await sender.send([note(subscription('http://push.example.net/x'), '1'.repeat(64)), note('token-not-json', '2'.repeat(64))]);
    expect(results.map((r) => [r.status, r.reason])).toEqual([
      ['rejected', 'webpush: the endpoint is not https'],
      ['rejected', 'webpush: the address is not a push subscription'],
    ]);
    expect(requests).toHaveLength(0);
  });
});
