import { describe, expect, test } from 'vitest';
import { classifyFcmAnswer, fcmMessage, FcmNotifier, type Notification } from '../../../lib/notify/index.ts';
import { fcmErrorBody, type FcmErrorCode } from '../../../emulators/fcm/server.ts';

const KEY = 'b'.repeat(64);
function notification(token = 'tok-1'): Notification {
  return { idempotencyKey: KEY, channel: 'push', to: token, userId: 'u1', template: 'restock', locale: 'ja', data: { eventKey: 'e', productId: 'p', productName: 'ランプ', productUrl: 'https://shop.example/p', available: 2 } };
}
const body = (code: FcmErrorCode) => JSON.stringify(fcmErrorBody(code));

describe('classifying FCM v1 answers', () => {
  test.each<[FcmErrorCode, number, string, boolean | undefined]>([
    ['UNREGISTERED', 404, 'rejected', true],
    ['INVALID_ARGUMENT', 400, 'rejected', true],
    ['SENDER_ID_MISMATCH', 403, 'rejected', true],
    ['QUOTA_EXCEEDED', 429, 'retry', undefined],
    ['UNAVAILABLE', 503, 'retry', undefined],
    ['INTERNAL', 500, 'retry', undefined],
  ])('%s (%i) → %s', (code, status, outcome, deadToken) => {
    const verdict = classifyFcmAnswer(status, body(code), null, 0);
    expect(verdict.outcome).toBe(outcome);
    if (verdict.outcome === 'rejected') expect(verdict.deadToken).toBe(deadToken);
    expect('reason' in verdict && verdict.reason).toBe(`fcm ${status} ${code}`);
  });

  test('an INVALID_ARGUMENT about the message, not the token, rejects the message but keeps the token', () => {
    const text = JSON.stringify({ error: { code: 400, status: 'INVALID_ARGUMENT', message: 'Invalid JSON payload', details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: 'INVALID_ARGUMENT' }] } });
    expect(classifyFcmAnswer(400, text, null, 0)).toEqual({ outcome: 'rejected', reason: 'fcm 400 INVALID_ARGUMENT', deadToken: false });
  });

  test('Retry-After is honoured in seconds and as a date', () => {
    expect(classifyFcmAnswer(429, body('QUOTA_EXCEEDED'), '7', 0)).toMatchObject({ outcome: 'retry', retryAfterMs: 7000 });
    expect(classifyFcmAnswer(503, '', new Date(10_000).toUTCString(), 4_000)).toMatchObject({ outcome: 'retry', retryAfterMs: 6000 });
  });

  test('our own credentials failing (401) is retried: shoppers are not rejected for it', () => {
    expect(classifyFcmAnswer(401, JSON.stringify({ error: { code: 401, status: 'UNAUTHENTICATED' } }), null, 0).outcome).toBe('retry');
  });

  test('a body that is not JSON falls back to the status; a 404 without FCM\'s code is retried (issue 31, item 11)', () => {
    expect(classifyFcmAnswer(404, '<html>', null, 0).outcome).toBe('retry');
    expect(classifyFcmAnswer(400, '<html>', null, 0)).toMatchObject({ outcome: 'rejected', deadToken: false });
    expect(classifyFcmAnswer(502, '<html>', null, 0).outcome).toBe('retry');
  });

  test('2xx is sent', () => {
    expect(classifyFcmAnswer(200, '{"name":"projects/p/messages/1"}', null, 0)).toEqual({ outcome: 'sent' });
  });
});

describe('the v1 message', () => {
  test('carries the dedup key as collapse key on every platform and in data, and the localized text', () => {
    const m = fcmMessage(notification()) as Record<string, any>;
    expect(m.token).toBe('tok-1');
    expect(m.notification).toEqual({ title: '再入荷のお知らせ', body: 'ランプが再入荷しました（在庫2点）。' });
    expect(m.data).toEqual({ productId: 'p', eventKey: 'e', restockKey: KEY, link: 'https://shop.example/p' });
    expect(m.android.collapse_key).toBe(KEY);
    expect(m.apns.headers['apns-collapse-id']).toBe(KEY);
    expect(m.webpush.headers.Topic).toHaveLength(32);
    expect(m.webpush.fcm_options.link).toBe('https://shop.example/p');
  });
});

function scripted(answers: { status: number; body?: string; headers?: Record<string, string> }[]) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetch = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    const a = answers.shift() ?? { status: 200, body: '{}' };
    return new Response(a.body ?? '{}', { status: a.status, headers: a.headers ?? {} });
  }) as unknown as typeof globalThis.fetch;
  return { fetch, calls };
}

const options = { projectId: 'shop', endpoint: 'http://fcm.test', timeoutMs: 1000, retries: 2, maxRetryAfterMs: 50, concurrency: 4 };

describe('the fcm sender', () => {
  test('posts each message to the v1 send URL with the access token', async () => {
    const { fetch, calls } = scripted([{ status: 200 }]);
    const sender = new FcmNotifier({ ...options, accessToken: async () => 'ya29.token', fetch });
    expect(await sender.send([notification()])).toEqual([{ idempotencyKey: KEY, status: 'sent' }]);
    expect(calls[0]!.url).toBe('http://fcm.test/v1/projects/shop/messages:send');
    expect((calls[0]!.init.headers as Record<string, string>).authorization).toBe('Bearer ya29.token');
  });

  test('retries UNAVAILABLE in-call, then reports sent once', async () => {
    const { fetch, calls } = scripted([{ status: 503, body: body('UNAVAILABLE'), headers: { 'retry-after': '0' } }, { status: 200 }]);
    const sender = new FcmNotifier({ ...options, accessToken: async () => undefined, fetch });
    expect(await sender.send([notification()])).toEqual([{ idempotencyKey: KEY, status: 'sent' }]);
    expect(calls).toHaveLength(2);
    expect((calls[0]!.init.headers as Record<string, string>).authorization).toBeUndefined();
  });

  test('leaves a Retry-After beyond its bound to Cloud Tasks as retry, without waiting', async () => {
    const { fetch, calls } = scripted([{ status: 429, body: body('QUOTA_EXCEEDED'), headers: { 'retry-after': '60' } }]);
    const sender = new FcmNotifier({ ...options, accessToken: async () => undefined, fetch });
    expect(await sender.send([notification()])).toEqual([{ idempotencyKey: KEY, status: 'retry', reason: 'fcm 429 QUOTA_EXCEEDED' }]);
    expect(calls).toHaveLength(1);
  });

  test('an unregistered token is rejected as a dead address, never retried', async () => {
    const { fetch, calls } = scripted([{ status: 404, body: body('UNREGISTERED') }]);
    const sender = new FcmNotifier({ ...options, accessToken: async () => undefined, fetch });
    expect(await sender.send([notification()])).toEqual([{ idempotencyKey: KEY, status: 'rejected', reason: 'fcm 404 UNREGISTERED', deadAddress: true }]);
    expect(calls).toHaveLength(1);
  });

  test('a connection failure on every attempt is retry, with a reason that names no token', async () => {
    const fetch = (async () => {
      throw new TypeError('fetch failed');
    }) as unknown as typeof globalThis.fetch;
    const sender = new FcmNotifier({ ...options, retries: 1, accessToken: async () => undefined, fetch });
    const [result] = await sender.send([notification('secret-token')]);
    expect(result!.status).toBe('retry');
    expect(result!.reason).not.toContain('secret-token');
  });
});
