/**
 * The web push stand-in (emulators/webpush) answers as a push service does:
 * it decrypts what the maintained `web-push` library encrypts for one of its
 * subscriptions (RFC 8291), refuses a push whose VAPID JWT is wrong (RFC
 * 8292), without TTL or in another encoding, and answers 410 for a gone
 * subscription. And the `webpush` sender, run against it, maps those answers.
 */
import { createECDH, createPrivateKey, randomUUID, sign } from 'node:crypto';
import webpush from 'web-push';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startWebPushEmulator, type WebPushEmulator } from '../../../emulators/webpush/server.ts';
import { WebPushNotifier } from '../../../lib/notify/webpush.ts';
import type { Notification } from '../../../lib/notify/types.ts';
import { openUnsubscribeToken } from '../../../lib/unsubscribe/index.ts';

const VAPID = webpush.generateVAPIDKeys();
const SUBJECT = 'mailto:ops@shop.example';
const UNSUBSCRIBE_KEY = 'component-test-unsubscribe-key-0123456789abcdef';

let service: WebPushEmulator;

beforeAll(async () => {
  service = await startWebPushEmulator({ port: 0 });
});
afterAll(async () => {
  await service.stop();
});

/** One push built by `web-push` itself (encryption and VAPID headers), optionally altered, sent as is. */
async function push(subscription: ReturnType<WebPushEmulator['subscribe']>, payload: string, alter: (headers: Record<string, string>) => void = () => undefined): Promise<Response> {
  const details = webpush.generateRequestDetails(subscription, payload, { vapidDetails: { subject: SUBJECT, publicKey: VAPID.publicKey, privateKey: VAPID.privateKey }, TTL: 60, contentEncoding: 'aes128gcm' });
  const headers = Object.fromEntries(Object.entries(details.headers).filter(([k]) => k.toLowerCase() !== 'content-length').map(([k, v]) => [k, String(v)]));
  alter(headers);
  return fetch(details.endpoint, { method: 'POST', headers, body: new Uint8Array(details.body) });
}

/** The VAPID Authorization header `web-push` makes for `audience`, signed by `privateKey`, expiring at `expSeconds`. */
function vapidHeader(audience: string, privateKey = VAPID.privateKey, expSeconds?: number): string {
  return webpush.getVapidHeaders(audience, SUBJECT, VAPID.publicKey, privateKey, 'aes128gcm', expSeconds).Authorization;
}

/**
 * A VAPID header signed here with node:crypto: `web-push` itself refuses to
 * make one that expires beyond 24 hours, which a careless sender could.
 */
function handSignedVapid(claims: Record<string, unknown>): string {
  const d = Buffer.from(VAPID.privateKey, 'base64url');
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(d);
  const pub = ecdh.getPublicKey();
  const key = createPrivateKey({ key: { kty: 'EC', crv: 'P-256', d: d.toString('base64url'), x: pub.subarray(1, 33).toString('base64url'), y: pub.subarray(33).toString('base64url') }, format: 'jwk' });
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${part({ typ: 'JWT', alg: 'ES256' })}.${part(claims)}`;
  const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
  return `vapid t=${input}.${signature}, k=${VAPID.publicKey}`;
}

const latest = () => service.messages.at(-1)!;

describe('the web push stand-in', () => {
  test('decrypts what web-push encrypted for its subscription, and answers 201 Created', async () => {
    const subscription = service.subscribe();
    const payload = JSON.stringify({ restockKey: randomUUID(), text: 'Back in stock: ünïcödé ✓' });
    const answer = await push(subscription, payload);
    expect(answer.status).toBe(201);
    expect(answer.headers.get('location')).toMatch(/\/messages\/\d+$/);
    expect(latest()).toMatchObject({ status: 201, payload, ttl: 60, vapidSubject: SUBJECT });
  });

  test("refuses a payload encrypted for another subscription's keys (400): it really decrypts", async () => {
    const mine = service.subscribe();
    const other = service.subscribe();
    const answer = await push({ endpoint: mine.endpoint, keys: other.keys }, 'for someone else');
    expect(answer.status).toBe(400);
    expect(latest().error).toMatch(/does not authenticate/);
  });

  test('accepts a hand-signed VAPID JWT that is right (the helper below signs as web-push does)', async () => {
    const answer = await push(service.subscribe(), 'x', (h) => (h.Authorization = handSignedVapid({ aud: new URL(service.url).origin, exp: Math.floor(Date.now() / 1000) + 3600, sub: SUBJECT })));
    expect(answer.status).toBe(201);
  });

  test.each([
    ['signed by a key that is not `k`', () => vapidHeader(new URL(service.url).origin, webpush.generateVAPIDKeys().privateKey), /signature/],
    ['for another origin', () => vapidHeader('https://push.other.example'), /aud/],
    ['expiring beyond 24 hours', () => handSignedVapid({ aud: new URL(service.url).origin, exp: Math.floor(Date.now() / 1000) + 25 * 3600, sub: SUBJECT }), /24 hours/],
    ['without a sub', () => handSignedVapid({ aud: new URL(service.url).origin, exp: Math.floor(Date.now() / 1000) + 3600 }), /sub/],
    ['expired', () => vapidHeader(new URL(service.url).origin, VAPID.privateKey, Math.floor(Date.now() / 1000) - 3600), /expired/],
    ['missing', () => undefined, /no `Authorization/],
  ])('refuses a VAPID JWT %s with 401', async (_case, header, why) => {
    const answer = await push(service.subscribe(), 'x', (h) => {
      const value = header();
      if (value === undefined) delete h.Authorization;
      else h.Authorization = value;
    });
    expect(answer.status).toBe(401);
    expect(latest().error).toMatch(why);
  });

  test('refuses a push without TTL (400) or in another content encoding (415)', async () => {
    expect((await push(service.subscribe(), 'x', (h) => delete h.TTL)).status).toBe(400);
    expect((await push(service.subscribe(), 'x', (h) => (h['Content-Encoding'] = 'aesgcm'))).status).toBe(415);
  });

  test('answers 410 Gone for a subscription that is gone, and 404 for one it never issued', async () => {
    expect((await push(service.subscribe({ gone: true }), 'x')).status).toBe(410);
    const unknown = service.subscribe();
    expect((await push({ ...unknown, endpoint: `${service.url}/push/${'A'.repeat(40)}` }, 'x')).status).toBe(404);
  });
});

describe('the webpush sender against the stand-in', () => {
  const notifier = new WebPushNotifier({
    vapid: { subject: SUBJECT, publicKey: VAPID.publicKey, privateKey: VAPID.privateKey },
    ttlSeconds: 3600,
    urgency: 'high',
    unsubscribeBaseUrl: 'https://shop.example/unsubscribe',
    unsubscribeKeys: [UNSUBSCRIBE_KEY],
    timeoutMs: 10_000,
    retries: 2,
    maxRetryAfterMs: 2_000,
    concurrency: 4,
    allowHttp: true,
  });
  const notification = (to: string): Notification => ({
    idempotencyKey: randomUUID().replaceAll('-', '').repeat(2),
    channel: 'webpush',
    to,
    userId: 'shopper-1',
    subscriptionCreatedAtMs: 1_700_000_000_000,
    locale: 'en-GB',
    template: 'restock',
    data: { eventKey: 'e-1', productId: 'sku-42', productName: 'Blue mug', productUrl: 'https://shop.example/p/sku-42', available: 3 },
  });

  test('sends the product, its link and a working unsubscribe link, encrypted, with TTL, Urgency and Topic', async () => {
    const n = notification(JSON.stringify(service.subscribe()));
    expect(await notifier.send([n])).toEqual([{ idempotencyKey: n.idempotencyKey, status: 'sent' }]);
    const received = service.messages.find((m) => m.restockKey === n.idempotencyKey)!;
    expect(received).toMatchObject({ status: 201, ttl: 3600, urgency: 'high', topic: n.idempotencyKey.slice(0, 32) });
    const payload = JSON.parse(received.payload!);
    expect(payload).toMatchObject({ title: 'Back in stock', productId: 'sku-42', link: 'https://shop.example/p/sku-42', restockKey: n.idempotencyKey });
    expect(payload.body).toContain('Blue mug');
    const token = /\/v1\/unsubscribe\/([^/]+)$/.exec(payload.unsubscribeUrl)![1]!;
    expect(openUnsubscribeToken(token, [UNSUBSCRIBE_KEY], { nowMs: Date.now(), maxAgeMs: 86_400_000 })).toMatchObject({ productId: 'sku-42', userId: 'shopper-1', generation: 1_700_000_000_000 });
  });

  test('a gone subscription (410) is rejected as a dead address, sent once and not retried', async () => {
    const n = notification(JSON.stringify(service.subscribe({ gone: true })));
    const before = service.messages.length;
    expect(await notifier.send([n])).toEqual([{ idempotencyKey: n.idempotencyKey, status: 'rejected', reason: 'webpush 410 subscription gone', deadAddress: true }]);
    expect(service.messages.length - before).toBe(1);
  });

  test('429 with Retry-After and 503 are retried in the call, then sent once', async () => {
    const subscription = service.subscribe();
    const id = subscription.endpoint.split('/').at(-1)!;
    for (const fault of [{ status: 429, retryAfterSeconds: 1, times: 1 }, { status: 503, times: 1 }]) {
      expect((await fetch(`${service.url}/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ subscription: id, ...fault }) })).status).toBe(201);
    }
    const n = notification(JSON.stringify(subscription));
    expect(await notifier.send([n])).toEqual([{ idempotencyKey: n.idempotencyKey, status: 'sent' }]);
    expect(service.messages.filter((m) => m.subscription === id).map((m) => m.status)).toEqual([429, 503, 201]);
  });

  test('an http endpoint is refused outside the emulators, and nothing is sent', async () => {
    const strict = new WebPushNotifier({ ...(notifier as unknown as { options: ConstructorParameters<typeof WebPushNotifier>[0] }).options, allowHttp: false });
    const before = service.messages.length;
    const n = notification(JSON.stringify(service.subscribe()));
    expect(await strict.send([n])).toEqual([{ idempotencyKey: n.idempotencyKey, status: 'rejected', reason: 'webpush: the endpoint is not https' }]);
    expect(service.messages.length).toBe(before);
  });
});
