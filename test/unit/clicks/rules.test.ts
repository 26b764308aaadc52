import { describe, expect, test } from 'vitest';
import { clickKey, followKind, landingUrl } from '../../../lib/clicks/index.ts';

const BROWSER = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15';
const ISSUED = 1_800_000_000_000;
const SETTINGS = { prefetchSeconds: 5 };

describe('landing URL', () => {
  test('adds utm_source, utm_medium = channel and utm_campaign = event key, keeping the rest of the URL', () => {
    const url = landingUrl({ url: 'https://shop.example/p/lamp?colour=red#reviews', channel: 'push', eventKey: 'ev-1' }, { source: 'restock' });
    const parsed = new URL(url);
    expect(parsed.origin + parsed.pathname).toBe('https://shop.example/p/lamp');
    expect(parsed.hash).toBe('#reviews');
    expect(Object.fromEntries(parsed.searchParams)).toEqual({ colour: 'red', utm_source: 'restock', utm_medium: 'push', utm_campaign: 'ev-1' });
  });

  test("the restock's UTM parameters replace any the product URL carried", () => {
    const url = new URL(landingUrl({ url: 'https://shop.example/p?utm_source=feed&utm_campaign=spring', channel: 'email', eventKey: 'ev/2' }, { source: 'restock' }));
    expect(url.searchParams.getAll('utm_source')).toEqual(['restock']);
    expect(url.searchParams.getAll('utm_campaign')).toEqual(['ev/2']);
  });

  test('without a source the URL is unchanged', () => {
    expect(landingUrl({ url: 'https://shop.example/p/lamp', channel: 'email', eventKey: 'e' }, {})).toBe('https://shop.example/p/lamp');
  });

  test.each(['http://shop.example/p', 'javascript:alert(1)', 'ftp://shop.example/p'])('refuses to land on %s', (url) => {
    expect(() => landingUrl({ url, channel: 'email', eventKey: 'e' }, { source: 'restock' })).toThrow(TypeError);
  });
});

describe('click or prefetch', () => {
  const later = ISSUED + 60_000;
  test("a browser's GET a minute after sending is a click", () => {
    expect(followKind({ method: 'GET', userAgent: BROWSER, nowMs: later, issuedAtMs: ISSUED }, SETTINGS)).toBe('click');
  });

  test('HEAD never counts, whoever sends it', () => {
    expect(followKind({ method: 'HEAD', userAgent: BROWSER, nowMs: later, issuedAtMs: ISSUED }, SETTINGS)).toBe('prefetch');
  });

  test.each([
    undefined,
    '',
    'Mozilla/5.0 (compatible; Barracuda Sentinel (EE))',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0 Safari/537.36',
    'python-requests/2.31.0',
    'curl/8.5.0',
    'facebookexternalhit/1.1',
    'Slackbot-LinkExpanding 1.0',
    'Mimecast',
    'Proofpoint URL Defense',
    'WhatsApp/2.23.20.0',
    'Go-http-client/1.1',
    'node',
  ])('a scanner, previewer or library (%j) is a prefetch at any time', (userAgent) => {
    expect(followKind({ method: 'GET', userAgent, nowMs: later, issuedAtMs: ISSUED }, SETTINGS)).toBe('prefetch');
  });

  test.each([
    // A phone maker's name is not a bot's: a substring match on "bot" took a CUBOT owner's click for a prefetch.
    'Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
    'Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36',
  ])("a shopper's browser (%j) after the window is a click", (userAgent) => {
    expect(followKind({ method: 'GET', userAgent, nowMs: later, issuedAtMs: ISSUED }, SETTINGS)).toBe('click');
  });

  test('a GET within the prefetch window is a gateway scanning the message, even with a browser User-Agent; from the window on it counts', () => {
    expect(followKind({ method: 'GET', userAgent: BROWSER, nowMs: ISSUED + 4_999, issuedAtMs: ISSUED }, SETTINGS)).toBe('prefetch');
    expect(followKind({ method: 'GET', userAgent: BROWSER, nowMs: ISSUED + 5_000, issuedAtMs: ISSUED }, SETTINGS)).toBe('click');
    expect(followKind({ method: 'GET', userAgent: BROWSER, nowMs: ISSUED, issuedAtMs: ISSUED }, { prefetchSeconds: 0 })).toBe('click');
  });
});

describe('click key', () => {
  test('one per (event, shopper, channel)', () => {
    const keys = new Set([clickKey('e1', 'ann', 'email'), clickKey('e1', 'ann', 'push'), clickKey('e2', 'ann', 'email'), clickKey('e1', 'bea', 'email')]);
    expect(keys.size).toBe(4);
    expect(clickKey('e1', 'ann', 'email')).toBe(clickKey('e1', 'ann', 'email'));
    expect(clickKey('e1', 'ann', 'email')).toMatch(/^[0-9a-f]{64}$/);
  });
});
