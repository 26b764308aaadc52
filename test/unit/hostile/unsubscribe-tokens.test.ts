/**
 * Issue 31, item 7: an unsubscribe token is opaque (sealed with AES-256-GCM
 * under a key derived from RESTOCK_UNSUBSCRIBE_SECRET: a user id may be an
 * email address, and links are forwarded, logged by proxies, kept in
 * mailboxes), carries when it was issued and expires, and names the
 * generation (`createdAtMs`) of the subscription it was issued for.
 */
import { describe, expect, test } from 'vitest';
import {
  ExpiredUnsubscribeTokenError,
  InvalidUnsubscribeTokenError,
  openUnsubscribeToken,
  sealUnsubscribeToken,
} from '../../../lib/unsubscribe/index.ts';

const KEYS = ['k'.repeat(40)];
const DAY_MS = 86_400_000;
const NOW = Date.UTC(2026, 5, 1);
const CLAIMS = { productId: 'lamp-42', userId: 'ann.shopper@example.com', generation: 1_780_000_000_123, issuedAtMs: NOW };

describe('unsubscribe tokens are opaque', () => {
  test('neither the token nor any decoding of its parts shows the product or the shopper', () => {
    // Act
    const token = sealUnsubscribeToken(CLAIMS, KEYS);

    // Assess
    const views = [token, ...token.split('.').flatMap((part) => [Buffer.from(part, 'base64url').toString('latin1'), Buffer.from(part, 'base64').toString('latin1')])];
    for (const view of views) {
      expect(view).not.toContain('ann.shopper');
      expect(view).not.toContain('lamp-42');
    }
  });

  test('two tokens of the same claims differ (a fresh nonce each time)', () => {
    expect(sealUnsubscribeToken(CLAIMS, KEYS)).not.toBe(sealUnsubscribeToken(CLAIMS, KEYS));
  });

  test('the token opens to the subscription and its generation', () => {
    const token = sealUnsubscribeToken(CLAIMS, KEYS);
    expect(openUnsubscribeToken(token, KEYS, { nowMs: NOW + DAY_MS, maxAgeMs: 180 * DAY_MS })).toEqual(CLAIMS);
  });
});

describe('unsubscribe tokens expire', () => {
  test('a token older than the maximum age is refused as expired', () => {
    const token = sealUnsubscribeToken(CLAIMS, KEYS);
    expect(() => openUnsubscribeToken(token, KEYS, { nowMs: NOW + 181 * DAY_MS, maxAgeMs: 180 * DAY_MS })).toThrow(ExpiredUnsubscribeTokenError);
  });

  test('a token issued in the future (a clock far off, or a forgery) is refused', () => {
    const token = sealUnsubscribeToken({ ...CLAIMS, issuedAtMs: NOW + DAY_MS }, KEYS);
    expect(() => openUnsubscribeToken(token, KEYS, { nowMs: NOW, maxAgeMs: 180 * DAY_MS })).toThrow(InvalidUnsubscribeTokenError);
  });

  test('a token sealed under another key is refused', () => {
    const token = sealUnsubscribeToken(CLAIMS, ['o'.repeat(40)]);
    expect(() => openUnsubscribeToken(token, KEYS, { nowMs: NOW, maxAgeMs: 180 * DAY_MS })).toThrow(InvalidUnsubscribeTokenError);
  });

  test('a token of the earlier format (readable ids) is refused', () => {
    const old = `u1.${Buffer.from(JSON.stringify(['lamp', 'ann'])).toString('base64url')}.${'a'.repeat(43)}`;
    expect(() => openUnsubscribeToken(old, KEYS, { nowMs: NOW, maxAgeMs: 180 * DAY_MS })).toThrow(InvalidUnsubscribeTokenError);
  });
});
