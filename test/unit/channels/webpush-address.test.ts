/**
 * A web push address is a browser's PushSubscription: the subscription API
 * checks each part and names the field that is wrong, and stores it as its
 * canonical JSON, so the same subscription is the same string for the ledger,
 * the dead-address lookup and erasure. The log scrubber keeps its parts out of
 * log lines.
 */
import { describe, expect, test } from 'vitest';
import { parseWebPushAddress } from '../../../lib/channels.ts';
import { scrub } from '../../../lib/log.ts';
import { parseSubscriptionRequest } from '../../../lib/subscriptions/validation.ts';
import { rejectionByRule } from '../../../emulators/sink/contract.ts';

const P256DH = `B${'Bx'.repeat(43)}`; // 87 base64url characters: 65 bytes starting 0x04
const AUTH = 'c2VjcmV0LWF1dGgtMTYtYg'; // 16 bytes
const ENDPOINT = 'https://updates.push.services.mozilla.com/wpush/v2/gAAAAABexampleOpaque_Token-1';
const browser = (over: Record<string, unknown> = {}, keys: Record<string, unknown> = {}) => ({ endpoint: ENDPOINT, expirationTime: null, keys: { p256dh: P256DH, auth: AUTH, ...keys }, ...over });

/** The field problems of a refused body, as `pointer: detail`. */
function problems(body: unknown): string[] {
  try {
    parseSubscriptionRequest(body);
  } catch (err) {
    return ((err as { problems?: { pointer: string; detail: string }[] }).problems ?? []).map((p) => `${p.pointer}: ${p.detail}`);
  }
  throw new Error('accepted');
}

describe('a web push subscription', () => {
  test('is stored as its canonical JSON: key order fixed, expirationTime dropped', () => {
    const reordered = { keys: { auth: AUTH, p256dh: P256DH }, endpoint: ENDPOINT, expirationTime: 1_900_000_000_000 };
    const stored = parseSubscriptionRequest({ channels: { webpush: reordered } }).channels.webpush!;
    expect(stored).toBe(`{"endpoint":"${ENDPOINT}","keys":{"p256dh":"${P256DH}","auth":"${AUTH}"}}`);
    expect(parseSubscriptionRequest({ channels: { webpush: browser() } }).channels.webpush).toBe(stored);
    expect(parseWebPushAddress(stored)).toEqual({ endpoint: ENDPOINT, keys: { p256dh: P256DH, auth: AUTH } });
  });

  test('may sit beside the other channels', () => {
    expect(parseSubscriptionRequest({ channels: { email: 'a@example.com', webpush: browser() } }).channels).toEqual({ email: 'a@example.com', webpush: expect.stringContaining(ENDPOINT) });
  });

  test.each([
    ['an http endpoint off the loopback', browser({ endpoint: 'http://push.example.com/x' }), '#/channels/webpush/endpoint: must be an https: URL'],
    ['an endpoint that is no URL', browser({ endpoint: 'push service' }), '#/channels/webpush/endpoint: must be the push service URL'],
    ['an endpoint too long to index', browser({ endpoint: `https://push.example.com/${'a'.repeat(1024)}` }), '#/channels/webpush/endpoint: must be at most 1024 characters'],
    ['a p256dh in standard base64', browser({}, { p256dh: `B${'B+'.repeat(43)}` }), '#/channels/webpush/keys/p256dh: must be base64url'],
    ['a p256dh of the wrong length', browser({}, { p256dh: 'BBBB' }), '#/channels/webpush/keys/p256dh: must decode to an uncompressed P-256 public key of 65 bytes'],
    ['a compressed p256dh', browser({}, { p256dh: `A${'Bx'.repeat(43)}` }), '#/channels/webpush/keys/p256dh: must decode to an uncompressed P-256 public key'],
    ['an auth of 8 bytes', browser({}, { auth: 'c2VjcmV0LTg' }), '#/channels/webpush/keys/auth: must decode to an auth secret of 16 bytes'],
    ['no keys', { endpoint: ENDPOINT }, '#/channels/webpush/keys: '],
    ['an unknown member', browser({ extra: 1 }), '#/channels/webpush/extra'],
    ['a bare string (a token, not a subscription)', 'fcm-token-0123', '#/channels/webpush: must be an object'],
  ])('is refused with %s, naming the field', (_case, webpush, expected) => {
    expect(problems({ channels: { webpush } }).join('\n')).toContain(expected);
  });

  test('on a loopback host may be http (the local stand-in)', () => {
    expect(parseSubscriptionRequest({ channels: { webpush: browser({ endpoint: 'http://127.0.0.1:8094/push/abc' }) } }).channels.webpush).toContain('http://127.0.0.1:8094/push/abc');
  });

  test('never reaches a log line, whole or in parts', () => {
    const stored = parseSubscriptionRequest({ channels: { webpush: browser() } }).channels.webpush!;
    const line = JSON.stringify(scrub({ channels: { webpush: stored }, subscription: browser(), to: stored }));
    for (const secret of [ENDPOINT, P256DH, AUTH, 'gAAAAABexampleOpaque']) expect(line).not.toContain(secret);
  });
});

describe("the local sink's rule for web push (docs/notification-service.md)", () => {
  test('a subscription whose endpoint has a /gone/ path is a dead address; another is deliverable', () => {
    const stored = (endpoint: string) => parseSubscriptionRequest({ channels: { webpush: browser({ endpoint }) } }).channels.webpush!;
    expect(rejectionByRule('webpush', stored('https://push.example.net/push/gone/abc'))).toEqual({ reason: 'subscription-gone', deadAddress: true });
    expect(rejectionByRule('webpush', stored('https://push.example.net/push/abc'))).toBeUndefined();
  });
});
